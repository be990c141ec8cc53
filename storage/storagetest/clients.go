package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"user-registry/storage"
)

// recClient fails t unless got has want's fields. nil and empty slices are
// equal: backends need not keep the difference.
func recClient(t *testing.T, what string, got, want storage.Client) {
	t.Helper()
	recTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	recTime(t, what+".PrevSecretExpiresAt", got.PrevSecretExpiresAt, want.PrevSecretExpiresAt)
	same := got.ID == want.ID && got.Domain == want.Domain && got.Name == want.Name &&
		bytes.Equal(got.SecretHash, want.SecretHash) &&
		slices.Equal(got.GrantTypes, want.GrantTypes) &&
		slices.Equal(got.Scopes, want.Scopes) &&
		slices.Equal(got.RedirectURIs, want.RedirectURIs) &&
		slices.Equal(got.Audiences, want.Audiences) &&
		got.Public == want.Public && got.Admin == want.Admin && got.Trusted == want.Trusted &&
		got.CreatedBy == want.CreatedBy &&
		bytes.Equal(got.JWKS, want.JWKS) && got.JWKSURI == want.JWKSURI &&
		got.DPoP == want.DPoP && got.RequirePAR == want.RequirePAR &&
		slices.Equal(got.PostLogoutRedirectURIs, want.PostLogoutRedirectURIs) &&
		got.BackchannelLogoutURI == want.BackchannelLogoutURI &&
		bytes.Equal(got.PrevSecretHash, want.PrevSecretHash)
	if !same {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func recClientIDs(cs []storage.Client) []string {
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func testClients(t *testing.T, s Stores) {
	ctx := context.Background()
	now := s.Clock.Now()

	// Created out of order: the list is by CreatedAt, then ID. Two users
	// registered clients (CreatedBy); the others are the CLI's ("").
	clients := []storage.Client{
		{
			ID: "confidential", SecretHash: []byte{0x01, 0x00, 0xff, 0x7f}, Domain: "a.example",
			Name: "Confidential app", GrantTypes: []string{"authorization_code", "refresh_token"},
			Scopes: []string{"openid", "email", "profile"}, RedirectURIs: []string{"https://a.example/cb", "https://a.example/cb2?x=1&y=\"2\""},
			Audiences: []string{"https://api.a.example"}, Trusted: true,
			PostLogoutRedirectURIs: []string{"https://a.example/bye", "https://a.example/bye?x=1"},
			BackchannelLogoutURI:   "https://a.example/backchannel",
			CreatedBy:              "6f1c2a7e-0b8d-4c1e-9a55-3d2f1e0c9b71",
			CreatedAt:              now.Add(2 * time.Second),
		},
		{
			ID: "spa", Domain: "a.example", Name: "Single-page app ✓",
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"},
			RedirectURIs: []string{"http://127.0.0.1:8000/cb"}, Public: true, RequirePAR: true,
			CreatedAt: now.Add(time.Second),
		},
		{
			ID: "admin-cli", SecretHash: []byte("hash"), Domain: "b.example", Name: "Admin",
			GrantTypes: []string{"client_credentials"}, Scopes: []string{}, Admin: true, DPoP: true,
			CreatedAt: now.Add(time.Second),
		},
		{
			ID: "bare", Domain: "b.example", CreatedAt: now,
		},
		{
			ID: "mine-2", SecretHash: []byte("h2"), Domain: "a.example", Name: "second",
			GrantTypes: []string{"client_credentials"}, CreatedBy: "6f1c2a7e-0b8d-4c1e-9a55-3d2f1e0c9b71",
			CreatedAt: now.Add(time.Second),
		},
		{
			ID: "theirs", SecretHash: []byte("h3"), Domain: "a.example", Name: "other user's",
			GrantTypes: []string{"client_credentials"}, CreatedBy: "0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a",
			CreatedAt: now,
		},
	}
	for i := range clients {
		c := clients[i]
		recErr(t, "create "+c.ID, s.Clients.CreateClient(ctx, &c), nil)
	}

	t.Run("get", func(t *testing.T) {
		for _, want := range clients {
			got, err := s.Clients.Client(ctx, want.ID)
			recErr(t, "get "+want.ID, err, nil)
			recClient(t, want.ID, got, want)
		}
		for _, id := range []string{"unknown", "", "SPA"} {
			_, err := s.Clients.Client(ctx, id)
			recErr(t, "get "+id, err, storage.ErrNotFound)
		}
	})

	t.Run("list", func(t *testing.T) {
		cases := []struct {
			domain string
			want   []string
		}{
			{"", []string{"bare", "theirs", "admin-cli", "mine-2", "spa", "confidential"}},
			{"a.example", []string{"theirs", "mine-2", "spa", "confidential"}},
			{"b.example", []string{"bare", "admin-cli"}},
			{"c.example", nil},
		}
		for _, c := range cases {
			got, err := s.Clients.ListClients(ctx, c.domain)
			recErr(t, "list "+c.domain, err, nil)
			if ids := recClientIDs(got); !slices.Equal(ids, c.want) {
				t.Errorf("list %q = %v, want %v", c.domain, ids, c.want)
			}
		}
		all, err := s.Clients.ListClients(ctx, "")
		recErr(t, "list all", err, nil)
		for _, want := range clients {
			for _, got := range all {
				if got.ID == want.ID {
					recClient(t, "listed "+want.ID, got, want)
				}
			}
		}
	})

	t.Run("list by creator", func(t *testing.T) {
		cases := []struct {
			userID string
			want   []string
		}{
			{"6f1c2a7e-0b8d-4c1e-9a55-3d2f1e0c9b71", []string{"mine-2", "confidential"}},
			{"0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a", []string{"theirs"}},
			{"6F1C2A7E-0B8D-4C1E-9A55-3D2F1E0C9B71", nil}, // ids are matched exactly
			{"no-such-user", nil},
			{"", nil}, // the CLI's clients have no creator to list them
		}
		for _, c := range cases {
			got, err := s.Clients.ListClientsByCreator(ctx, c.userID)
			recErr(t, "list by "+c.userID, err, nil)
			if ids := recClientIDs(got); !slices.Equal(ids, c.want) {
				t.Errorf("ListClientsByCreator(%q) = %v, want %v", c.userID, ids, c.want)
			}
			for _, g := range got {
				for _, want := range clients {
					if g.ID == want.ID {
						recClient(t, "listed by creator "+want.ID, g, want)
					}
				}
			}
		}
	})

	t.Run("exists", func(t *testing.T) {
		dup := storage.Client{ID: "spa", Domain: "other.example", Name: "impostor", CreatedAt: now}
		recErr(t, "create duplicate", s.Clients.CreateClient(ctx, &dup), storage.ErrExists)
		got, err := s.Clients.Client(ctx, "spa")
		recErr(t, "get original", err, nil)
		recClient(t, "original kept", got, clients[1])
	})

	t.Run("delete", func(t *testing.T) {
		extra := storage.Client{ID: "to-delete", Domain: "d.example", Name: "x", CreatedAt: now}
		recErr(t, "create", s.Clients.CreateClient(ctx, &extra), nil)
		cases := []struct {
			id   string
			want error
		}{
			{"to-delete", nil},
			{"to-delete", storage.ErrNotFound},
			{"never", storage.ErrNotFound},
			{"", storage.ErrNotFound},
		}
		for _, c := range cases {
			recErr(t, "delete "+c.id, s.Clients.DeleteClient(ctx, c.id), c.want)
		}
		_, err := s.Clients.Client(ctx, "to-delete")
		recErr(t, "get deleted", err, storage.ErrNotFound)
		got, err := s.Clients.ListClients(ctx, "d.example")
		recErr(t, "list", err, nil)
		if len(got) != 0 {
			t.Errorf("deleted client still listed: %v", recClientIDs(got))
		}
		for _, c := range clients {
			if _, err := s.Clients.Client(ctx, c.ID); err != nil {
				t.Errorf("client %s lost by another delete: %v", c.ID, err)
			}
		}
	})
}

// testClientLongLists: the list columns hold what an admin may register,
// such as many long redirect URIs (more than MySQL's 64 KiB TEXT).
func testClientLongLists(t *testing.T, s Stores) {
	ctx := context.Background()
	c := storage.Client{ID: "c-long", Domain: "long.example", GrantTypes: []string{"authorization_code"},
		CreatedAt: s.Clock.Now().UTC().Truncate(time.Microsecond)}
	for i := range 40 {
		c.RedirectURIs = append(c.RedirectURIs, fmt.Sprintf("https://long.example/cb/%02d/%s", i, strings.Repeat("x", 2000)))
	}
	recErr(t, "create", s.Clients.CreateClient(ctx, &c), nil)
	got, err := s.Clients.Client(ctx, c.ID)
	recErr(t, "get", err, nil)
	recClient(t, c.ID, got, c)
}

package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

// recKey fails t unless got has want's fields (times to the second).
func recKey(t *testing.T, what string, got, want storage.SigningKey) {
	t.Helper()
	recTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	recTime(t, what+".ActivateAt", got.ActivateAt, want.ActivateAt)
	same := got.KID == want.KID && got.Generation == want.Generation && got.Alg == want.Alg &&
		bytes.Equal(got.Private, want.Private) && bytes.Equal(got.Public, want.Public) &&
		got.Emergency == want.Emergency
	if !same {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func newTestKey(s Stores, kid string, gen int64) storage.SigningKey {
	now := s.Clock.Now().Add(time.Duration(gen) * time.Hour)
	return storage.SigningKey{
		KID:        kid,
		Generation: gen,
		Alg:        "ES256",
		Private:    []byte{0x00, 0x01, 0xfe, 0xff, byte(gen)},
		Public:     []byte(fmt.Sprintf(`{"kty":"EC","crv":"P-256","kid":%q}`, kid)),
		CreatedAt:  now,
		ActivateAt: now.Add(24 * time.Hour),
	}
}

// recListKeys lists the keys and checks generations strictly increase.
func recListKeys(t *testing.T, s Stores) []storage.SigningKey {
	t.Helper()
	ks, err := s.Keys.ListKeys(context.Background())
	recErr(t, "list keys", err, nil)
	for i := 1; i < len(ks); i++ {
		if ks[i-1].Generation >= ks[i].Generation {
			t.Fatalf("keys not ordered by generation: %d then %d", ks[i-1].Generation, ks[i].Generation)
		}
	}
	return ks
}

func recKIDs(ks []storage.SigningKey) []string {
	out := make([]string, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.KID)
	}
	return out
}

func testKeys(t *testing.T, s Stores) {
	t.Run("create-list", func(t *testing.T) { testKeyCreateList(t, s) })
	t.Run("exists", func(t *testing.T) { testKeyExists(t, s) })
	t.Run("concurrent-rotate", func(t *testing.T) { testKeyConcurrent(t, s) })
	t.Run("delete", func(t *testing.T) { testKeyDelete(t, s) })
}

func testKeyCreateList(t *testing.T, s Stores) {
	ctx := context.Background()
	if ks := recListKeys(t, s); len(ks) != 0 {
		t.Fatalf("fresh store lists %d keys, want 0", len(ks))
	}
	// Created out of order; listed by generation.
	in := []storage.SigningKey{
		newTestKey(s, "kid-3", 3),
		newTestKey(s, "kid-1", 1),
		newTestKey(s, "kid-2", 2),
	}
	in[0].Emergency = true
	for i := range in {
		k := in[i]
		recErr(t, "create "+k.KID, s.Keys.CreateKey(ctx, &k), nil)
	}
	got := recListKeys(t, s)
	if ids := recKIDs(got); !slices.Equal(ids, []string{"kid-1", "kid-2", "kid-3"}) {
		t.Fatalf("listed %v", ids)
	}
	want := []storage.SigningKey{in[1], in[2], in[0]}
	for i := range want {
		recKey(t, want[i].KID, got[i], want[i])
	}
}

func testKeyExists(t *testing.T, s Stores) {
	ctx := context.Background()
	base := newTestKey(s, "kid-exists", 100)
	recErr(t, "create", s.Keys.CreateKey(ctx, &base), nil)
	cases := []struct {
		name string
		key  storage.SigningKey
	}{
		{"same generation", newTestKey(s, "kid-exists-other", 100)},
		{"same kid", newTestKey(s, "kid-exists", 101)},
		{"both", newTestKey(s, "kid-exists", 100)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := c.key
			recErr(t, "create", s.Keys.CreateKey(ctx, &k), storage.ErrExists)
			for _, got := range recListKeys(t, s) {
				if got.Generation == 101 || got.KID == "kid-exists-other" {
					t.Fatalf("rejected key was stored: %+v", got)
				}
				if got.KID == base.KID {
					recKey(t, "original", got, base)
				}
			}
		})
	}
}

func testKeyConcurrent(t *testing.T, s Stores) {
	ctx := context.Background()
	var next int64 = 1
	if ks := recListKeys(t, s); len(ks) > 0 {
		next = ks[len(ks)-1].Generation + 1
	}
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := newTestKey(s, fmt.Sprintf("kid-race-%d", i), next)
			<-start
			errs[i] = s.Keys.CreateKey(ctx, &k)
		}()
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner == -1:
			winner = i
		case err == nil:
			t.Errorf("creates %d and %d of generation %d both succeeded", winner, i, next)
		case !errors.Is(err, storage.ErrExists):
			t.Errorf("create %d: unexpected error %v", i, err)
		}
	}
	if winner == -1 {
		t.Fatalf("no create of generation %d succeeded", next)
	}
	var found []string
	for _, k := range recListKeys(t, s) {
		if k.Generation == next {
			found = append(found, k.KID)
		}
	}
	if want := fmt.Sprintf("kid-race-%d", winner); !slices.Equal(found, []string{want}) {
		t.Fatalf("generation %d holds %v, want [%s]", next, found, want)
	}
}

func testKeyDelete(t *testing.T, s Stores) {
	ctx := context.Background()
	a, b := newTestKey(s, "kid-del-a", 200), newTestKey(s, "kid-del-b", 201)
	recErr(t, "create a", s.Keys.CreateKey(ctx, &a), nil)
	recErr(t, "create b", s.Keys.CreateKey(ctx, &b), nil)
	cases := []struct {
		kid  string
		want error
	}{
		{"kid-del-a", nil},
		{"kid-del-a", storage.ErrNotFound},
		{"kid-never", storage.ErrNotFound},
		{"", storage.ErrNotFound},
	}
	for _, c := range cases {
		recErr(t, "delete "+c.kid, s.Keys.DeleteKey(ctx, c.kid), c.want)
	}
	ids := recKIDs(recListKeys(t, s))
	if slices.Contains(ids, "kid-del-a") || !slices.Contains(ids, "kid-del-b") {
		t.Fatalf("after delete: %v", ids)
	}
	// A deleted key's generation is not reusable by a later key only if the
	// backend says so; the interface promises nothing, so it is not tested.
}

package storagetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"user-registry/storage"
)

// listUser returns a user of domain with address local@domain, created at
// the clock plus offset (with sub-second digits).
func listUser(s Stores, n int, local, domain string, offset time.Duration) storage.User {
	at := s.Clock.Now().Add(offset + 250*time.Millisecond)
	email := local + "@" + domain
	return storage.User{
		ID:             fmt.Sprintf("00000000-0000-4000-8000-%012d", 700+n),
		Email:          email,
		EmailCanonical: strings.ToLower(email),
		Domain:         domain,
		PasswordHash:   "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		CreatedAt:      at,
		UpdatedAt:      at,
	}
}

// ids returns the ids of users in order.
func ids(users []storage.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

// listAll pages through ListUsers with f and page size limit, and returns
// every user in the order the pages gave them.
func listAll(t *testing.T, s Stores, f storage.UserFilter, limit int) []storage.User {
	t.Helper()
	var all []storage.User
	f.Limit = limit
	for range 100 {
		page, err := s.Users.ListUsers(context.Background(), f)
		recErr(t, "list", err, nil)
		if len(page) > limit {
			t.Fatalf("page of %d users, limit %d", len(page), limit)
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		last := page[len(page)-1]
		f.Cursor = storage.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	t.Fatal("paging did not end")
	return nil
}

// testUserDisabledLastLogin: the disabled flag and the last sign-in are
// stored, read back, and written alone; a last-login write leaves
// updated_at as it was (signing in does not change the account).
func testUserDisabledLastLogin(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newTestUser(s, "00000000-0000-4000-8000-000000000601", "dis")
	recErr(t, "create", s.Users.CreateUser(ctx, &u), nil)
	recAfter(t, s, "fresh user", u) // Disabled false, LastLoginAt nil

	pre := newTestUser(s, "00000000-0000-4000-8000-000000000602", "dis-pre")
	seen := s.Clock.Now().Add(-time.Hour)
	pre.Disabled, pre.LastLoginAt = true, &seen
	recErr(t, "create disabled", s.Users.CreateUser(ctx, &pre), nil)
	recAfter(t, s, "created disabled", pre)

	later := u.UpdatedAt.Add(time.Hour)
	recErr(t, "disable", s.Users.UpdateUser(ctx, u.ID, storage.UserChange{Disabled: ptr(true), UpdatedAt: later}), nil)
	u.Disabled, u.UpdatedAt = true, later
	recAfter(t, s, "disabled", u)

	login := later.Add(time.Minute)
	recErr(t, "last login", s.Users.UpdateUser(ctx, u.ID, storage.UserChange{LastLoginAt: &login}), nil)
	u.LastLoginAt = &login
	recAfter(t, s, "after last login (updated_at kept)", u)

	recErr(t, "enable", s.Users.UpdateUser(ctx, u.ID, storage.UserChange{Disabled: ptr(false), UpdatedAt: later.Add(2 * time.Hour)}), nil)
	u.Disabled, u.UpdatedAt = false, later.Add(2*time.Hour)
	recAfter(t, s, "enabled (last login kept)", u)
	recAfter(t, s, "other user", pre)

	err := s.Users.UpdateUser(ctx, "00000000-0000-4000-8000-00000000fff0", storage.UserChange{LastLoginAt: &login})
	recErr(t, "last login of unknown user", err, storage.ErrNotFound)
}

// testUserListPaging: newest first, ties on created_at broken by id
// (descending); pages joined give every user once; the page after the
// last is empty.
func testUserListPaging(t *testing.T, s Stores) {
	ctx := context.Background()
	var want []storage.User
	// Inserted out of order; users 3, 4 and 5 share one creation time.
	offsets := []time.Duration{5 * time.Second, time.Second, 9 * time.Second, 3 * time.Second,
		3 * time.Second, 3 * time.Second, 7 * time.Second, -time.Hour}
	for i, off := range offsets {
		u := listUser(s, i, fmt.Sprintf("page%d", i), "paging.example", off)
		recErr(t, "create", s.Users.CreateUser(ctx, &u), nil)
		want = append(want, u)
	}
	slices.SortFunc(want, func(a, b storage.User) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	for _, limit := range []int{1, 2, 3, 8, 100} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			got := listAll(t, s, storage.UserFilter{Domain: "paging.example"}, limit)
			if !slices.Equal(ids(got), ids(want)) {
				t.Fatalf("order:\n got  %v\n want %v", ids(got), ids(want))
			}
		})
	}
	first, err := s.Users.ListUsers(ctx, storage.UserFilter{Domain: "paging.example", Limit: 1})
	recErr(t, "first", err, nil)
	if len(first) != 1 {
		t.Fatalf("first page: %d users", len(first))
	}
	recUser(t, "listed user", first[0], want[0])
	none, err := s.Users.ListUsers(ctx, storage.UserFilter{Limit: 0})
	recErr(t, "limit 0", err, nil)
	if len(none) != 0 {
		t.Errorf("limit 0 gave %d users", len(none))
	}
	last := want[len(want)-1]
	after, err := s.Users.ListUsers(ctx, storage.UserFilter{Domain: "paging.example", Limit: 5, Cursor: storage.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}})
	recErr(t, "after last", err, nil)
	if len(after) != 0 {
		t.Errorf("page after the last: %v", ids(after))
	}
}

// testUserListFilters: Domain is exact (not subdomains), Query a literal,
// case-insensitive substring of the email (LIKE wildcards match only
// themselves), and both combine with the cursor.
func testUserListFilters(t *testing.T, s Stores) {
	ctx := context.Background()
	users := []storage.User{
		listUser(s, 20, "alice", "a.example", 1*time.Second),
		listUser(s, 21, "bob", "a.example", 2*time.Second),
		listUser(s, 22, "alice", "b.example", 3*time.Second),
		listUser(s, 23, "al_ice", "a.example", 4*time.Second),
		listUser(s, 24, "al%ice", "sub.a.example", 5*time.Second),
		listUser(s, 25, "x!y", "a.example", 6*time.Second),
		listUser(s, 26, "carol", "a.example", 7*time.Second),
	}
	for i := range users {
		recErr(t, "create", s.Users.CreateUser(ctx, &users[i]), nil)
	}
	// byIdx lists the expected users, newest (highest index) first.
	byIdx := func(idx ...int) []string {
		slices.Sort(idx)
		slices.Reverse(idx)
		out := make([]string, len(idx))
		for i, n := range idx {
			out[i] = users[n-20].ID
		}
		return out
	}
	cases := []struct {
		name string
		f    storage.UserFilter
		want []string
	}{
		{"domain exact", storage.UserFilter{Domain: "a.example"}, byIdx(20, 21, 23, 25, 26)},
		{"subdomain alone", storage.UserFilter{Domain: "sub.a.example"}, byIdx(24)},
		{"unknown domain", storage.UserFilter{Domain: "none.example"}, nil},
		{"query", storage.UserFilter{Query: "alice"}, byIdx(20, 22)},
		{"query ignores case", storage.UserFilter{Query: "ALICE@"}, byIdx(20, 22)},
		{"query and domain", storage.UserFilter{Query: "alice", Domain: "b.example"}, byIdx(22)},
		{"underscore is literal", storage.UserFilter{Query: "_"}, byIdx(23)},
		{"percent is literal", storage.UserFilter{Query: "%"}, byIdx(24)},
		{"escape char is literal", storage.UserFilter{Query: "!"}, byIdx(25)},
		{"query on domain part", storage.UserFilter{Query: "@b.ex"}, byIdx(22)},
		{"no match", storage.UserFilter{Query: "zed"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 50} {
				got := ids(listAll(t, s, c.f, limit))
				if len(got) == 0 {
					got = nil
				}
				if !slices.Equal(got, c.want) {
					t.Fatalf("limit %d:\n got  %v\n want %v", limit, got, c.want)
				}
			}
		})
	}
}

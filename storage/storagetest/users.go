package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

// recErr fails t unless err matches want (nil means success). The "rec"
// prefix marks helpers of the durable-record half of the suite.
func recErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// recTime fails t unless got is the instant want to the second, in UTC.
// Backends may keep more precision; the suite only relies on seconds.
func recTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Truncate(time.Second).Equal(want.Truncate(time.Second)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if _, off := got.Zone(); off != 0 {
		t.Errorf("%s = %v, want UTC", what, got)
	}
}

// recUser fails t unless got has want's fields (times to the second).
func recUser(t *testing.T, what string, got, want storage.User) {
	t.Helper()
	recTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	recTime(t, what+".UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	switch {
	case (got.LastLoginAt == nil) != (want.LastLoginAt == nil):
		t.Errorf("%s.LastLoginAt = %v, want %v", what, got.LastLoginAt, want.LastLoginAt)
	case got.LastLoginAt != nil:
		recTime(t, what+".LastLoginAt", *got.LastLoginAt, *want.LastLoginAt)
	}
	got.CreatedAt, got.UpdatedAt, got.LastLoginAt = time.Time{}, time.Time{}, nil
	want.CreatedAt, want.UpdatedAt, want.LastLoginAt = time.Time{}, time.Time{}, nil
	if got != want {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// newTestUser returns a user whose email is tag@example.org as typed with
// mixed case, and whose timestamps carry sub-second digits.
func newTestUser(s Stores, id, tag string) storage.User {
	now := s.Clock.Now().Add(123456789 * time.Nanosecond)
	email := "User." + tag + "@Example.org"
	return storage.User{
		ID:             id,
		Email:          email,
		EmailCanonical: strings.ToLower(email),
		Domain:         "example.org",
		PasswordHash:   "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		PhoneNum:       "+15551234567",
		Discoverable:   true,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
}

func testUsers(t *testing.T, s Stores) {
	t.Run("create-get", func(t *testing.T) { testUserCreateGet(t, s) })
	t.Run("exists", func(t *testing.T) { testUserExists(t, s) })
	t.Run("update", func(t *testing.T) { testUserUpdate(t, s) })
	t.Run("update-if-password-hash", func(t *testing.T) { testUserUpdateIf(t, s) })
	t.Run("concurrent-writers", func(t *testing.T) { testUserConcurrentWriters(t, s) })
	t.Run("delete", func(t *testing.T) { testUserDelete(t, s) })
	t.Run("concurrent-create", func(t *testing.T) { testUserConcurrent(t, s) })
	t.Run("disabled-last-login", func(t *testing.T) { testUserDisabledLastLogin(t, s) })
	t.Run("list-order-paging", func(t *testing.T) { testUserListPaging(t, s) })
	t.Run("list-filters", func(t *testing.T) { testUserListFilters(t, s) })
	t.Run("list-paging-concurrent-adds", func(t *testing.T) { testUserListPagingConcurrent(t, s) })
}

func testUserCreateGet(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newTestUser(s, "00000000-0000-4000-8000-000000000001", "get")
	recErr(t, "create", s.Users.CreateUser(ctx, &u), nil)

	got, err := s.Users.UserByID(ctx, u.ID)
	recErr(t, "by id", err, nil)
	recUser(t, "by id", got, u)

	got, err = s.Users.UserByEmail(ctx, u.EmailCanonical)
	recErr(t, "by email", err, nil)
	recUser(t, "by email", got, u)

	misses := []struct {
		name string
		get  func() (storage.User, error)
	}{
		{"unknown id", func() (storage.User, error) {
			return s.Users.UserByID(ctx, "00000000-0000-4000-8000-00000000ffff")
		}},
		{"unknown email", func() (storage.User, error) { return s.Users.UserByEmail(ctx, "nobody@example.org") }},
		// Lookup is by the canonical (lower-case) form only.
		{"email as typed", func() (storage.User, error) { return s.Users.UserByEmail(ctx, u.Email) }},
		{"empty id", func() (storage.User, error) { return s.Users.UserByID(ctx, "") }},
	}
	for _, m := range misses {
		t.Run(m.name, func(t *testing.T) {
			_, err := m.get()
			recErr(t, m.name, err, storage.ErrNotFound)
		})
	}
}

func testUserExists(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newTestUser(s, "00000000-0000-4000-8000-000000000101", "dup")
	recErr(t, "create", s.Users.CreateUser(ctx, &u), nil)

	// Same canonical email typed differently, new id: the index decides.
	dup := newTestUser(s, "00000000-0000-4000-8000-000000000102", "dup")
	dup.Email = strings.ToUpper(u.Email)
	recErr(t, "create duplicate", s.Users.CreateUser(ctx, &dup), storage.ErrExists)

	_, err := s.Users.UserByID(ctx, dup.ID)
	recErr(t, "loser stored", err, storage.ErrNotFound)
	got, err := s.Users.UserByEmail(ctx, u.EmailCanonical)
	recErr(t, "winner", err, nil)
	recUser(t, "winner", got, u)
}

func testUserDelete(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newTestUser(s, "00000000-0000-4000-8000-000000000301", "del")
	other := newTestUser(s, "00000000-0000-4000-8000-000000000302", "keep")
	recErr(t, "create", s.Users.CreateUser(ctx, &u), nil)
	recErr(t, "create other", s.Users.CreateUser(ctx, &other), nil)

	recErr(t, "delete", s.Users.DeleteUser(ctx, u.ID), nil)
	recErr(t, "delete again", s.Users.DeleteUser(ctx, u.ID), storage.ErrNotFound)
	recErr(t, "delete empty id", s.Users.DeleteUser(ctx, ""), storage.ErrNotFound)
	_, err := s.Users.UserByID(ctx, u.ID)
	recErr(t, "by id after delete", err, storage.ErrNotFound)
	_, err = s.Users.UserByEmail(ctx, u.EmailCanonical)
	recErr(t, "by email after delete", err, storage.ErrNotFound)
	_, err = s.Users.UserByID(ctx, other.ID)
	recErr(t, "other user survives", err, nil)

	// The email is free again, under a new id.
	again := newTestUser(s, "00000000-0000-4000-8000-000000000303", "del")
	recErr(t, "re-create", s.Users.CreateUser(ctx, &again), nil)
	got, err := s.Users.UserByEmail(ctx, again.EmailCanonical)
	recErr(t, "by email after re-create", err, nil)
	recUser(t, "re-created", got, again)
}

func testUserConcurrent(t *testing.T, s Stores) {
	ctx := context.Background()
	const n = 100
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := newTestUser(s, fmt.Sprintf("00000000-0000-4000-8001-%012d", i), "race")
			<-start
			errs[i] = s.Users.CreateUser(ctx, &u)
		}()
	}
	close(start)
	wg.Wait()

	wins, exists := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, storage.ErrExists):
			exists++
		default:
			t.Errorf("create %d: unexpected error %v", i, err)
		}
	}
	if wins != 1 || exists != n-1 {
		t.Fatalf("concurrent creates: %d succeeded, %d ErrExists; want 1 and %d", wins, exists, n-1)
	}
	if _, err := s.Users.UserByEmail(ctx, "user.race@example.org"); err != nil {
		t.Fatalf("winner not readable: %v", err)
	}
}

package storagetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

func ptr[T any](v T) *T { return &v }

// recAfter fails t unless the user with want.ID reads as want.
func recAfter(t *testing.T, s Stores, what string, want storage.User) {
	t.Helper()
	got, err := s.Users.UserByID(context.Background(), want.ID)
	recErr(t, what+": get", err, nil)
	recUser(t, what, got, want)
}

// testUserUpdate: UpdateUser writes exactly the columns it names (and
// updated_at); every other column, and every other user, stays.
func testUserUpdate(t *testing.T, s Stores) {
	ctx := context.Background()
	base := newTestUser(s, "00000000-0000-4000-8000-000000000201", "upd")
	other := newTestUser(s, "00000000-0000-4000-8000-000000000202", "upd-other")
	recErr(t, "create", s.Users.CreateUser(ctx, &base), nil)
	recErr(t, "create other", s.Users.CreateUser(ctx, &other), nil)

	newHash := "$argon2id$v=19$m=65536,t=3,p=4$bmV3$bmV3aGFzaA"
	later := base.UpdatedAt.Add(time.Hour)
	cases := []struct {
		name     string
		change   storage.UserChange
		mutate   func(u *storage.User)
		sameTime bool // keep the previous UpdatedAt: nothing differs at all
	}{
		{"activate", storage.UserChange{IsActivated: ptr(true)}, func(u *storage.User) { u.IsActivated = true }, false},
		{"hide", storage.UserChange{Discoverable: ptr(false)}, func(u *storage.User) { u.Discoverable = false }, false},
		{"clear phone", storage.UserChange{PhoneNum: ptr("")}, func(u *storage.User) { u.PhoneNum = "" }, false},
		{"new phone", storage.UserChange{PhoneNum: ptr("+4930123456")}, func(u *storage.User) { u.PhoneNum = "+4930123456" }, false},
		{"rehash", storage.UserChange{PasswordHash: &newHash}, func(u *storage.User) { u.PasswordHash = newHash }, false},
		{"all at once", storage.UserChange{
			IsActivated: ptr(false), Discoverable: ptr(true), PhoneNum: ptr("+15550000000"), PasswordHash: ptr(base.PasswordHash),
		}, func(u *storage.User) {
			u.IsActivated, u.Discoverable, u.PhoneNum, u.PasswordHash = false, true, "+15550000000", base.PasswordHash
		}, false},
		{"only the time", storage.UserChange{}, func(*storage.User) {}, false},
		// A write that changes no value still finds its row (MySQL counts
		// matched, not changed, rows).
		{"unchanged values", storage.UserChange{PhoneNum: ptr("+15550000000"), Discoverable: ptr(true)}, func(*storage.User) {}, true},
	}
	want := base
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.mutate(&want)
			if !c.sameTime {
				want.UpdatedAt = later.Add(time.Duration(i) * time.Minute)
			}
			c.change.UpdatedAt = want.UpdatedAt
			recErr(t, "update", s.Users.UpdateUser(ctx, want.ID, c.change), nil)
			recAfter(t, s, "after update", want)
		})
	}
	t.Run("zero time is now", func(t *testing.T) {
		recErr(t, "update", s.Users.UpdateUser(ctx, want.ID, storage.UserChange{IsActivated: ptr(true)}), nil)
		want.IsActivated, want.UpdatedAt = true, s.Clock.Now()
		recAfter(t, s, "after update", want)
	})
	recAfter(t, s, "other user", other)

	for _, id := range []string{"00000000-0000-4000-8000-00000000fffe", ""} {
		t.Run(fmt.Sprintf("unknown %q", id), func(t *testing.T) {
			err := s.Users.UpdateUser(ctx, id, storage.UserChange{PhoneNum: ptr("+4930123456"), UpdatedAt: later})
			recErr(t, "update unknown", err, storage.ErrNotFound)
			_, err = s.Users.UserByID(ctx, id)
			recErr(t, "update created a row", err, storage.ErrNotFound)
		})
	}
}

// testUserUpdateIf: with IfPasswordHash the write happens only while the
// stored hash is exactly that one; otherwise nothing at all is written.
func testUserUpdateIf(t *testing.T, s Stores) {
	ctx := context.Background()
	u := newTestUser(s, "00000000-0000-4000-8000-000000000401", "cas")
	recErr(t, "create", s.Users.CreateUser(ctx, &u), nil)
	old := u.PasswordHash
	next := "$argon2id$v=19$m=65536,t=3,p=4$bmV4dA$bmV4dA"
	t1, t2 := u.UpdatedAt.Add(time.Hour), u.UpdatedAt.Add(2*time.Hour)

	want := u
	steps := []struct {
		name    string
		id      string
		change  storage.UserChange
		wantErr error
		mutate  func(u *storage.User)
	}{
		{"stale hash", u.ID, storage.UserChange{PasswordHash: &next, PhoneNum: ptr(""), UpdatedAt: t1,
			IfPasswordHash: ptr("$argon2id$v=19$m=65536,t=3,p=4$c3RhbGU$c3RhbGU")}, storage.ErrConflict, nil},
		{"prefix of the hash", u.ID, storage.UserChange{PasswordHash: &next, UpdatedAt: t1,
			IfPasswordHash: ptr(old[:len(old)-1])}, storage.ErrConflict, nil},
		{"empty hash", u.ID, storage.UserChange{PasswordHash: &next, UpdatedAt: t1, IfPasswordHash: ptr("")}, storage.ErrConflict, nil},
		{"unknown id", "00000000-0000-4000-8000-00000000fffd", storage.UserChange{PasswordHash: &next, UpdatedAt: t1,
			IfPasswordHash: &old}, storage.ErrNotFound, nil},
		{"empty id", "", storage.UserChange{PasswordHash: &next, UpdatedAt: t1, IfPasswordHash: &old}, storage.ErrNotFound, nil},
		{"current hash", u.ID, storage.UserChange{PasswordHash: &next, UpdatedAt: t1, IfPasswordHash: &old}, nil,
			func(u *storage.User) { u.PasswordHash, u.UpdatedAt = next, t1 }},
		{"old hash after the change", u.ID, storage.UserChange{PasswordHash: &old, PhoneNum: ptr(""), UpdatedAt: t2,
			IfPasswordHash: &old}, storage.ErrConflict, nil},
		{"same values again", u.ID, storage.UserChange{PasswordHash: &next, UpdatedAt: t1, IfPasswordHash: &next}, nil, nil},
		{"condition for another column", u.ID, storage.UserChange{Discoverable: ptr(false), UpdatedAt: t2, IfPasswordHash: &next}, nil,
			func(u *storage.User) { u.Discoverable, u.UpdatedAt = false, t2 }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			recErr(t, "update", s.Users.UpdateUser(ctx, st.id, st.change), st.wantErr)
			if st.mutate != nil {
				st.mutate(&want)
			}
			recAfter(t, s, "after update", want)
			if st.id != u.ID {
				_, err := s.Users.UserByID(ctx, st.id)
				recErr(t, "update created a row", err, storage.ErrNotFound)
			}
		})
	}
}

// hashStep is a password write that succeeded: the hash it required and
// the one it stored.
type hashStep struct{ from, to string }

// testUserConcurrentWriters races, per user, one writer each for phone,
// discoverable and activation (a fixed sequence, so its last value is
// known) against several password writers that read the hash and replace
// it on that condition. Afterwards each field holds its writer's last
// value, and the successful password writes form one chain from the first
// hash to the stored one: none was overwritten by a write that had read
// the hash before it (SEC-73).
func testUserConcurrentWriters(t *testing.T, s Stores) {
	ctx := context.Background()
	const users, hashWriters, writes = 3, 4, 15
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	steps := make([][]hashStep, users)
	created := make([]storage.User, users)

	for i := range users {
		u := newTestUser(s, fmt.Sprintf("00000000-0000-4000-8002-%012d", i), fmt.Sprintf("writers%d", i))
		u.Discoverable, u.IsActivated = false, false
		recErr(t, "create", s.Users.CreateUser(ctx, &u), nil)
		created[i] = u

		fields := []func(k int) storage.UserChange{
			func(k int) storage.UserChange { return storage.UserChange{PhoneNum: ptr(phoneOf(i, k))} },
			func(k int) storage.UserChange { return storage.UserChange{Discoverable: ptr(k%2 == 0)} },
			func(k int) storage.UserChange { return storage.UserChange{IsActivated: ptr(k%2 == 0)} },
		}
		for f, change := range fields {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for k := range writes {
					if err := s.Users.UpdateUser(ctx, u.ID, change(k)); err != nil {
						t.Errorf("user %d field %d write %d: %v", i, f, k, err)
						return
					}
				}
			}()
		}
		for w := range hashWriters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for k := range writes {
					cur, err := s.Users.UserByID(ctx, u.ID)
					if err != nil {
						t.Errorf("user %d hash writer %d: read: %v", i, w, err)
						return
					}
					next := fmt.Sprintf("$argon2id$v=19$m=65536,t=3,p=4$%d.%d.%d$aGFzaA", i, w, k)
					err = s.Users.UpdateUser(ctx, u.ID, storage.UserChange{PasswordHash: &next, IfPasswordHash: &cur.PasswordHash})
					switch {
					case err == nil:
						mu.Lock()
						steps[i] = append(steps[i], hashStep{cur.PasswordHash, next})
						mu.Unlock()
					case errors.Is(err, storage.ErrConflict):
					default:
						t.Errorf("user %d hash writer %d: write: %v", i, w, err)
						return
					}
				}
			}()
		}
	}
	close(start)
	wg.Wait()

	for i, u := range created {
		want := u
		want.PhoneNum = phoneOf(i, writes-1)
		want.Discoverable = (writes-1)%2 == 0
		want.IsActivated = (writes-1)%2 == 0
		want.PasswordHash = hashChainEnd(t, u.PasswordHash, steps[i])
		want.UpdatedAt = s.Clock.Now()
		recAfter(t, s, fmt.Sprintf("user %d after the race", i), want)
	}
}

func phoneOf(user, k int) string { return fmt.Sprintf("+1555%03d%04d", user, k) }

// hashChainEnd checks that the successful conditional writes steps, in any
// order, form one chain starting at first (two writes from one hash mean
// the later overwrote the earlier), and returns the chain's last hash.
func hashChainEnd(t *testing.T, first string, steps []hashStep) string {
	t.Helper()
	if len(steps) == 0 {
		t.Fatal("no password write succeeded")
	}
	next := make(map[string]string, len(steps))
	for _, st := range steps {
		if prev, dup := next[st.from]; dup {
			t.Fatalf("two writes succeeded on hash %q: %q and %q", st.from, prev, st.to)
		}
		next[st.from] = st.to
	}
	h, n := first, 0
	for ; n <= len(steps); n++ {
		to, ok := next[h]
		if !ok {
			break
		}
		h = to
	}
	if n != len(steps) {
		t.Fatalf("%d of %d successful password writes are on the chain from the first hash", n, len(steps))
	}
	return h
}

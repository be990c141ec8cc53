package storagetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

// testUserListPagingConcurrent (SPEC §13): walking the pages while users
// are being added gives every user that existed at the start exactly once
// and no user twice. Users are added two ways: by a goroutine racing the
// walk, and between pages, created before, at and after the cursor's
// position (the keyset must neither skip nor repeat around them).
func testUserListPagingConcurrent(t *testing.T, s Stores) {
	ctx := context.Background()
	const domain, initial, limit = "concurrent-paging.example", 40, 6
	mk := func(n int, offset time.Duration) storage.User {
		at := s.Clock.Now().Add(offset)
		email := fmt.Sprintf("walk%d@%s", n, domain)
		return storage.User{
			ID:             fmt.Sprintf("00000000-0000-4000-9000-%012d", n),
			Email:          email,
			EmailCanonical: strings.ToLower(email),
			Domain:         domain,
			PasswordHash:   "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
			CreatedAt:      at,
			UpdatedAt:      at,
		}
	}
	existing := map[string]bool{}
	for i := range initial {
		// Pairs share a creation time, so ties are broken by id.
		u := mk(i, time.Duration(i/2)*time.Second)
		recErr(t, "create", s.Users.CreateUser(ctx, &u), nil)
		existing[u.ID] = true
	}

	var next sync.Mutex
	serial := initial
	add := func(offset time.Duration) {
		next.Lock()
		serial++
		n := serial
		next.Unlock()
		u := mk(n, offset)
		if err := s.Users.CreateUser(ctx, &u); err != nil {
			t.Errorf("concurrent create: %v", err)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	// The racer's adds are bounded: unbounded, the users it keeps adding
	// below the cursor could outrun the walk (the memory store under -race
	// grew for minutes).
	const racerAdds = 300
	wg.Go(func() {
		for i := 0; i < racerAdds; i++ {
			select {
			case <-done:
				return
			default:
			}
			add(time.Duration(i%(initial/2+4)-2) * time.Second) // older, inside and newer than the start set
		}
	})

	seen := map[string]int{}
	f := storage.UserFilter{Domain: domain, Limit: limit}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging did not end")
		}
		page, err := s.Users.ListUsers(ctx, f)
		recErr(t, "list", err, nil)
		for _, u := range page {
			seen[u.ID]++
		}
		if len(page) < limit {
			break
		}
		last := page[len(page)-1]
		f.Cursor = storage.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID}
		// Between pages: one user created with the cursor's own time (its id
		// sorts before or after the cursor's), one older, one newer.
		for _, off := range []time.Duration{last.CreatedAt.Sub(s.Clock.Now()), -time.Hour, time.Hour} {
			add(off)
		}
	}
	close(done)
	wg.Wait()
	for id, n := range seen {
		if n > 1 {
			t.Errorf("user %s listed %d times", id, n)
		}
	}
	for id := range existing {
		if seen[id] != 1 {
			t.Errorf("user %s, there from the start, listed %d times", id, seen[id])
		}
	}
}

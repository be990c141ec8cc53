package provider_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
)

func mustVerify(t *testing.T, e *acctEnv, tok string) keys.AccessClaims {
	t.Helper()
	c, err := e.acc.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return c
}

func wantUnauth(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, provider.ErrUnauthenticated) {
		t.Fatalf("%s: err = %v, want ErrUnauthenticated", what, err)
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	e.signup(t, "ann@example.com", annPW)
	p1 := e.login(t, "ann@example.com", annPW)
	c1 := mustVerify(t, e, p1.AccessToken)

	e.clk.Advance(time.Minute)
	p2, err := e.acc.Refresh(ctx, p1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if p2.RefreshToken == p1.RefreshToken || p2.AccessToken == p1.AccessToken {
		t.Fatal("tokens not rotated")
	}
	c2 := mustVerify(t, e, p2.AccessToken)
	if c2.SID != c1.SID || c2.Subject != c1.Subject || c2.ClientID != "user-registry" ||
		c2.Scope != c1.Scope || c2.Email != c1.Email || c2.Domain != c1.Domain || c2.IsActivated == nil {
		t.Errorf("refreshed claims %+v, first %+v", c2, c1)
	}
	if !strings.HasPrefix(p2.RefreshToken, c1.SID+".") {
		t.Errorf("new refresh token %q outside family %q", p2.RefreshToken, c1.SID)
	}

	// Reuse of the rotated token revokes the family: the newest refresh
	// token and every access token of the session die.
	_, err = e.acc.Refresh(ctx, p1.RefreshToken)
	wantUnauth(t, err, "reuse")
	_, err = e.acc.Refresh(ctx, p2.RefreshToken)
	wantUnauth(t, err, "descendant after reuse")
	_, err = e.acc.Verify(ctx, p2.AccessToken)
	wantUnauth(t, err, "access token of reused family")
	_, err = e.acc.Verify(ctx, p1.AccessToken)
	wantUnauth(t, err, "first access token of reused family")

	// Another session of the same user is untouched.
	p3 := e.login(t, "ann@example.com", annPW)
	mustVerify(t, e, p3.AccessToken)
}

func TestRefreshRejects(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	e.signup(t, "ann@example.com", annPW)
	p := e.login(t, "ann@example.com", annPW)
	fam, _, _ := strings.Cut(p.RefreshToken, ".")
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"garbage", "garbage"},
		{"no secret", fam + "."},
		{"wrong secret", fam + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"unknown family", "5f0c6c1e-1111-4111-8111-111111111111.AAAA"},
		{"access token", p.AccessToken},
		{"too long", p.RefreshToken + strings.Repeat("A", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.acc.Refresh(ctx, tt.token)
			wantUnauth(t, err, tt.name)
		})
	}
	// A wrong guess did not burn the real token.
	if _, err := e.acc.Refresh(ctx, p.RefreshToken); err != nil {
		t.Fatalf("real token after bad guesses: %v", err)
	}
}

func TestRefreshOtherClientRefused(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	e.signup(t, "ann@example.com", annPW)
	p := e.login(t, "ann@example.com", annPW)
	_, err := e.acc.RefreshFor(ctx, p.RefreshToken, "other-client", nil, "")
	wantUnauth(t, err, "other client")
	if _, err := e.acc.Refresh(ctx, p.RefreshToken); err != nil {
		t.Fatalf("own client after refusal: %v", err)
	}
}

func TestRefreshExpiry(t *testing.T) {
	e := newAcctEnv(t, func(c *provider.AccountsConfig) { c.RefreshTTL = time.Hour; c.RefreshAbsolute = 3 * time.Hour })
	ctx := context.Background()
	e.signup(t, "ann@example.com", annPW)
	p := e.login(t, "ann@example.com", annPW)
	// Idle expiry: used within the hour, the chain lives on...
	for range 2 {
		e.clk.Advance(50 * time.Minute)
		var err error
		if p, err = e.acc.Refresh(ctx, p.RefreshToken); err != nil {
			t.Fatal(err)
		}
	}
	// ...until the family's absolute expiry.
	e.clk.Advance(50 * time.Minute)
	if p, _ = e.acc.Refresh(ctx, p.RefreshToken); p.RefreshToken == "" {
		t.Fatal("refresh before absolute expiry failed")
	}
	e.clk.Advance(31 * time.Minute) // 3h01m after login
	_, err := e.acc.Refresh(ctx, p.RefreshToken)
	wantUnauth(t, err, "after absolute expiry")

	// Idle expiry alone.
	p = e.login(t, "ann@example.com", annPW)
	e.clk.Advance(time.Hour + time.Second)
	_, err = e.acc.Refresh(ctx, p.RefreshToken)
	wantUnauth(t, err, "after idle expiry")
}

// SEC-17: two concurrent uses of one refresh token, at most one success.
func TestRefreshConcurrentUse(t *testing.T) {
	e := newAcctEnv(t)
	e.signup(t, "ann@example.com", annPW)
	p := e.login(t, "ann@example.com", annPW)
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.acc.Refresh(context.Background(), p.RefreshToken); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok > 1 {
		t.Fatalf("%d concurrent refreshes succeeded", ok)
	}
}

// SEC-12: logout revokes the access token and the session's refresh token,
// and only that session.
func TestLogout(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	e.signup(t, "ann@example.com", annPW)
	p := e.login(t, "ann@example.com", annPW)
	other := e.login(t, "ann@example.com", annPW)
	c := mustVerify(t, e, p.AccessToken)
	if err := e.acc.Logout(ctx, c); err != nil {
		t.Fatal(err)
	}
	_, err := e.acc.Verify(ctx, p.AccessToken)
	wantUnauth(t, err, "access token after logout")
	_, err = e.acc.Refresh(ctx, p.RefreshToken)
	wantUnauth(t, err, "refresh after logout")
	mustVerify(t, e, other.AccessToken)
	if _, err := e.acc.Refresh(ctx, other.RefreshToken); err != nil {
		t.Fatalf("other session: %v", err)
	}
}

// SEC-13: logout everywhere kills every token and session of the user,
// even ones minted in the same second, while tokens issued right after
// it (same second) work.
func TestLogoutAll(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	u := e.signup(t, "ann@example.com", annPW)
	e.signup(t, "bob@example.com", annPW)
	old := e.login(t, "ann@example.com", annPW)
	e.clk.Advance(time.Minute)
	p1 := e.login(t, "ann@example.com", annPW)
	p2 := e.login(t, "ann@example.com", annPW) // same second as the logout
	pb := e.login(t, "bob@example.com", annPW)
	e.clk.Advance(time.Millisecond) // a real logout comes strictly after
	before := e.clk.Now()
	if err := e.acc.LogoutAll(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []provider.TokenPair{old, p1, p2} {
		_, err := e.acc.Verify(ctx, p.AccessToken)
		wantUnauth(t, err, "access token after logout-all")
		_, err = e.acc.Refresh(ctx, p.RefreshToken)
		wantUnauth(t, err, "refresh after logout-all")
	}
	mustVerify(t, e, pb.AccessToken) // other users are untouched

	// A fresh login works, at once (it waited for the next second on the
	// fake clock, at most one).
	fresh := e.login(t, "ann@example.com", annPW)
	if waited := e.clk.Now().Sub(before); waited > time.Second {
		t.Errorf("login after logout-all waited %v", waited)
	}
	mustVerify(t, e, fresh.AccessToken)
	fresh2, err := e.acc.Refresh(ctx, fresh.RefreshToken)
	if err != nil {
		t.Fatalf("refresh of a post-logout session: %v", err)
	}
	mustVerify(t, e, fresh2.AccessToken)
}

func TestVerify(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	e.signup(t, "ann@example.com", annPW)
	p := e.login(t, "ann@example.com", annPW)
	for _, tok := range []string{"", "x.y.z", p.RefreshToken, p.AccessToken + "x"} {
		_, err := e.acc.Verify(ctx, tok)
		wantUnauth(t, err, "bad token "+tok)
	}
	e.clk.Advance(10*time.Minute + keys.Skew + time.Second)
	_, err := e.acc.Verify(ctx, p.AccessToken)
	wantUnauth(t, err, "expired")
}

func TestMe(t *testing.T) {
	e := newAcctEnv(t)
	ctx := context.Background()
	u := e.signup(t, "Ann@example.com", annPW)
	got, err := e.acc.Me(ctx, u.ID)
	if err != nil || got.ID != u.ID || got.Email != "Ann@example.com" {
		t.Fatalf("Me = %+v, %v", got, err)
	}
	_, err = e.acc.Me(ctx, "5f0c6c1e-1111-4111-8111-111111111111")
	wantUnauth(t, err, "unknown user")
	if errors.Is(err, storage.ErrNotFound) {
		t.Error("leaks ErrNotFound (would map to 404)")
	}
}

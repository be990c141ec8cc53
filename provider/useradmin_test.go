package provider_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// recordingAuditor keeps the events it is given.
type recordingAuditor struct {
	mu     sync.Mutex
	events []provider.AuditEvent
}

func (r *recordingAuditor) Record(_ context.Context, e provider.AuditEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recordingAuditor) last(t *testing.T) provider.AuditEvent {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		t.Fatal("no audit event recorded")
	}
	return r.events[len(r.events)-1]
}

// newUserAdmin is a UserAdmin over e's stores and clock.
func newUserAdmin(t *testing.T, e *acctEnv) (*provider.UserAdmin, *recordingAuditor) {
	t.Helper()
	audit := &recordingAuditor{}
	ua, err := provider.NewUserAdmin(provider.UserAdminDeps{
		Users: e.store, Revocations: e.store, Consents: e.store, Audit: audit, Now: e.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ua, audit
}

// TestDisableEndsEverything (SEC-70): disabling refuses the user's access
// token (its verification reads the not-before that disabling set),
// refresh token, browser session and any sign-in (403 ErrUserDisabled,
// after the password check); enabling lets the user sign in again but
// brings none of the old tokens back.
func TestDisableEndsEverything(t *testing.T) {
	const pw = "correct-horse-battery-9"
	ctx := context.Background()
	e := newAcctEnv(t)
	ua, audit := newUserAdmin(t, e)
	sessions, _ := newSessionsOn(t, e, time.Hour)
	u := e.signup(t, "dana@corp.example", pw)
	pair := e.login(t, u.Email, pw)
	cookie := createSession(t, sessions, u.ID)
	e.clk.Advance(time.Second)
	if _, err := e.acc.Verify(ctx, pair.AccessToken); err != nil {
		t.Fatalf("token before disabling: %v", err)
	}

	ctx = provider.WithRequestInfo(ctx, provider.RequestInfo{Actor: provider.ActorClient("adm1"), IP: "192.0.2.1"})
	got, err := ua.SetDisabled(ctx, provider.AllUsers, u.Email, true)
	if err != nil || !got.Disabled || got.UserID != u.ID {
		t.Fatalf("disable: %+v, %v", got, err)
	}
	if ev := audit.last(t); ev.Event != provider.EventUserDisabled || ev.UserID != u.ID || ev.Actor != "client:adm1" ||
		ev.ClientID != "adm1" || ev.Domain != "corp.example" || ev.IP != "192.0.2.1" {
		t.Errorf("audit event: %+v", ev)
	}
	refused := func(when string) {
		t.Helper()
		if _, err := e.acc.Verify(ctx, pair.AccessToken); !errors.Is(err, provider.ErrUnauthenticated) {
			t.Errorf("%s: access token: %v, want ErrUnauthenticated", when, err)
		}
		if _, err := e.tokens.VerifyAccess(ctx, pair.AccessToken, ""); err == nil {
			t.Errorf("%s: access token verifies at the token service", when)
		}
		if _, err := e.acc.Refresh(ctx, pair.RefreshToken); !errors.Is(err, provider.ErrUnauthenticated) {
			t.Errorf("%s: refresh: %v, want ErrUnauthenticated", when, err)
		}
		if _, _, ok, err := sessions.Validate(ctx, cookie); ok || err != nil {
			t.Errorf("%s: browser session: ok=%v err=%v", when, ok, err)
		}
	}
	refused("disabled")
	if _, err := e.acc.Login(ctx, u.Email, pw); !errors.Is(err, provider.ErrUserDisabled) {
		t.Errorf("login of a disabled user: %v, want ErrUserDisabled", err)
	}
	if _, err := e.acc.Login(ctx, u.Email, pw+"x"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Errorf("wrong password of a disabled user: %v, want ErrWrongPassword (state told only to the owner)", err)
	}

	e.clk.Advance(time.Second)
	if got, err := ua.SetDisabled(ctx, provider.AllUsers, u.ID, false); err != nil || got.Disabled {
		t.Fatalf("enable: %+v, %v", got, err)
	}
	if ev := audit.last(t); ev.Event != provider.EventUserEnabled {
		t.Errorf("audit event: %+v", ev)
	}
	refused("enabled again")
	fresh := e.login(t, u.Email, pw)
	if _, err := e.acc.Verify(ctx, fresh.AccessToken); err != nil {
		t.Errorf("token after enabling: %v", err)
	}
}

// TestDisabledFlagAlone: with the disabled flag stored but no not-before
// (a revocation store that lost its data), refresh tokens, codes, browser
// sessions and sign-ins of the user are still refused: the flag is
// checked wherever the user is loaded.
func TestDisabledFlagAlone(t *testing.T) {
	const pw = "correct-horse-battery-9"
	ctx := context.Background()
	e := newFlowEnv(t)
	sessions, _ := newSessionsOn(t, e.acctEnv, time.Hour)
	u := e.signup(t, "erin@flow.example", pw)
	pair := e.login(t, u.Email, pw)
	cookie := createSession(t, sessions, u.ID)
	c, req := notBeforeAuthorize(t, e)
	code, err := e.flow.IssueCode(ctx, provider.SignIn{User: u, AuthTime: e.clk.Now()}, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.UpdateUser(ctx, u.ID, storage.UserChange{Disabled: acctBool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.flow.Exchange(ctx, c, provider.CodeExchange{Code: code, RedirectURI: "https://app.example/cb", CodeVerifier: flowVerifier})
	if !errors.Is(err, provider.ErrInvalidGrant) {
		t.Errorf("code of a disabled user: %v, want ErrInvalidGrant", err)
	}
	if _, err := e.acc.Refresh(ctx, pair.RefreshToken); !errors.Is(err, provider.ErrUnauthenticated) {
		t.Errorf("refresh: %v, want ErrUnauthenticated", err)
	}
	if _, _, ok, err := sessions.Validate(ctx, cookie); ok || err != nil {
		t.Errorf("browser session: ok=%v err=%v", ok, err)
	}
	if _, err := e.acc.Authenticate(ctx, u.Email, pw); !errors.Is(err, provider.ErrUserDisabled) {
		t.Errorf("sign-in: %v, want ErrUserDisabled", err)
	}
}

// TestLastLoginThrottled: a sign-in stores last_login_at, but not again
// within a minute of the stored value; updated_at is never touched by it.
func TestLastLoginThrottled(t *testing.T) {
	const pw = "correct-horse-battery-9"
	ctx := context.Background()
	e := newAcctEnv(t)
	u := e.signup(t, "finn@corp.example", pw)
	read := func() storage.User {
		t.Helper()
		got, err := e.store.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(); got.LastLoginAt != nil {
		t.Fatalf("last login before any: %v", got.LastLoginAt)
	}
	steps := []struct {
		advance time.Duration
		written bool
	}{
		{0, true},
		{30 * time.Second, false},
		{29 * time.Second, false}, // 59 s after the stored value
		{time.Second, true},       // 60 s
		{10 * time.Second, false},
		{time.Hour, true},
	}
	stored := time.Time{}
	for i, s := range steps {
		e.clk.Advance(s.advance)
		if _, err := e.acc.Authenticate(ctx, u.Email, pw); err != nil {
			t.Fatal(err)
		}
		if s.written {
			stored = e.clk.Now().UTC()
		}
		got := read()
		if got.LastLoginAt == nil || !got.LastLoginAt.Equal(stored) {
			t.Errorf("step %d: last login %v, want %v", i, got.LastLoginAt, stored)
		}
		if !got.UpdatedAt.Equal(u.UpdatedAt) {
			t.Errorf("step %d: updated_at moved to %v", i, got.UpdatedAt)
		}
	}
	if _, err := e.acc.Authenticate(ctx, u.Email, pw+"x"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	if _, err := e.acc.Authenticate(ctx, u.Email, pw+"x"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if got := read(); !got.LastLoginAt.Equal(stored) {
		t.Errorf("a failed sign-in moved last login to %v", got.LastLoginAt)
	}
}

package provider_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

// newSessionsOn builds the session service on the account env's fake
// clock, users and not-before. The sessions get a store of their own whose
// clock stands still, as a store with coarse expiry (Redis TTLs) lags: the
// expiry these tests see is the service's own.
func newSessionsOn(t *testing.T, e *acctEnv, ttl time.Duration) (*provider.Sessions, *memstore.Store) {
	t.Helper()
	start := e.clk.Now()
	store := memstore.New(memstore.WithClock(func() time.Time { return start }))
	s, err := provider.NewSessions(provider.SessionDeps{
		Store: store, Revocations: e.store, Users: e.store, TTL: ttl, Now: e.clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, store
}

// createSession starts a session or fails the test.
func createSession(t *testing.T, s *provider.Sessions, userID string) string {
	t.Helper()
	v, _, err := s.Create(context.Background(), userID)
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return v
}

// TestSessionsLifecycle: a browser session counts from its creation until
// its TTL runs out, the user's not-before passes it (logout everywhere,
// password change), it is ended, or its user is deleted; all on a fake
// clock.
func TestSessionsLifecycle(t *testing.T) {
	const ttl = 2 * time.Hour
	tests := []struct {
		name string
		// then happens after the session was created; it may return the
		// cookie value to validate instead (a session created later).
		then func(t *testing.T, e *acctEnv, s *provider.Sessions, u storage.User, v string) string
		ok   bool
	}{
		{"fresh", func(*testing.T, *acctEnv, *provider.Sessions, storage.User, string) string { return "" }, true},
		{"just before the TTL", func(_ *testing.T, e *acctEnv, _ *provider.Sessions, _ storage.User, _ string) string {
			e.clk.Advance(ttl - time.Nanosecond)
			return ""
		}, true},
		{"at the TTL", func(_ *testing.T, e *acctEnv, _ *provider.Sessions, _ storage.User, _ string) string {
			e.clk.Advance(ttl)
			return ""
		}, false},
		{"logout everywhere after create", func(t *testing.T, e *acctEnv, _ *provider.Sessions, u storage.User, _ string) string {
			e.clk.Advance(time.Minute)
			if err := e.acc.LogoutAll(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
			return ""
		}, false},
		// Strictly before: the sign-in that follows a password reset in
		// the same instant keeps its new session.
		{"not-before in the creation's instant", func(t *testing.T, e *acctEnv, _ *provider.Sessions, u storage.User, _ string) string {
			if err := e.acc.LogoutAll(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
			return ""
		}, true},
		{"created after logout everywhere", func(t *testing.T, e *acctEnv, s *provider.Sessions, u storage.User, _ string) string {
			e.clk.Advance(time.Minute)
			if err := e.acc.LogoutAll(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(time.Millisecond)
			return createSession(t, s, u.ID)
		}, true},
		// A password change spares the caller's API session; even a
		// spare that named this browser session's own key spares it not.
		{"a not-before with a spared session", func(t *testing.T, e *acctEnv, _ *provider.Sessions, u storage.User, v string) string {
			sum := sha256.Sum256([]byte(v))
			now := e.clk.Now().Add(time.Second)
			spare := base64.RawURLEncoding.EncodeToString(sum[:])
			if err := e.store.SetNotBefore(context.Background(), u.ID, now, now.Add(time.Hour), spare); err != nil {
				t.Fatal(err)
			}
			return ""
		}, false},
		{"ended", func(t *testing.T, _ *acctEnv, s *provider.Sessions, _ storage.User, v string) string {
			for i := 0; i < 2; i++ { // idempotent
				if err := s.End(context.Background(), v); err != nil {
					t.Fatalf("end #%d: %v", i+1, err)
				}
			}
			return ""
		}, false},
		{"another session ended", func(t *testing.T, _ *acctEnv, s *provider.Sessions, u storage.User, _ string) string {
			if err := s.End(context.Background(), createSession(t, s, u.ID)); err != nil {
				t.Fatal(err)
			}
			return ""
		}, true},
		{"user deleted", func(t *testing.T, e *acctEnv, _ *provider.Sessions, u storage.User, _ string) string {
			if err := e.store.DeleteUser(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
			return ""
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAcctEnv(t)
			s, _ := newSessionsOn(t, e, ttl)
			u := e.signup(t, "ann@example.com", annPW)
			v := createSession(t, s, u.ID)
			if later := tc.then(t, e, s, u, v); later != "" {
				v = later
			}
			got, sess, ok, err := s.Validate(context.Background(), v)
			if err != nil {
				t.Fatalf("validate: %v", err)
			}
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if got.ID != "" || sess.ID != "" {
					t.Errorf("refused session returned user %q, session %q", got.ID, sess.ID)
				}
				return
			}
			if got.ID != u.ID || got.EmailCanonical != u.EmailCanonical || sess.UserID != u.ID {
				t.Errorf("user %q (%q), session of %q; want %q", got.ID, got.EmailCanonical, sess.UserID, u.ID)
			}
		})
	}
}

// TestSessionsCreate: the cookie value is 256 random bits, stored only as
// its SHA-256 (base64url, the encoding sessions have always had, so an
// upgrade signs nobody out), with a CSRF key of its own and an expiry TTL
// after creation.
func TestSessionsCreate(t *testing.T) {
	ctx := context.Background()
	e := newAcctEnv(t)
	s, store := newSessionsOn(t, e, 0)
	if s.TTL() != provider.DefaultSessionTTL {
		t.Errorf("TTL() = %v, want the default %v", s.TTL(), provider.DefaultSessionTTL)
	}
	u := e.signup(t, "ann@example.com", annPW)
	v1, s1, err := s.Create(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	v2, s2, err := s.Create(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(v1); err != nil || len(raw) != 32 {
		t.Errorf("cookie value %q: %d bytes, %v; want 32 bytes of base64url", v1, len(raw), err)
	}
	sum := sha256.Sum256([]byte(v1))
	if want := base64.RawURLEncoding.EncodeToString(sum[:]); s1.ID != want {
		t.Errorf("stored under %q, want SHA-256 %q", s1.ID, want)
	}
	if v1 == v2 || s1.ID == s2.ID || string(s1.CSRFKey) == string(s2.CSRFKey) || len(s1.CSRFKey) != 32 {
		t.Errorf("two sessions share secrets or have short CSRF keys: %q %q", v1, v2)
	}
	if !s1.CreatedAt.Equal(e.clk.Now()) || s1.ExpiresAt.Sub(s1.CreatedAt) != provider.DefaultSessionTTL {
		t.Errorf("created %v, expires %v; clock %v", s1.CreatedAt, s1.ExpiresAt, e.clk.Now())
	}
	stored, err := store.Session(ctx, s1.ID)
	if err != nil || stored.UserID != u.ID || string(stored.CSRFKey) != string(s1.CSRFKey) {
		t.Fatalf("stored session %+v, %v", stored, err)
	}
	if _, err := store.Session(ctx, v1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the cookie value itself is a store key: %v", err)
	}
	_, got, ok, err := s.Validate(ctx, v1)
	if err != nil || !ok || string(got.CSRFKey) != string(s1.CSRFKey) {
		t.Errorf("validate = %v, %v; CSRF key kept: %v", ok, err, string(got.CSRFKey) == string(s1.CSRFKey))
	}
	for _, bad := range []string{"", "garbage", s1.ID} {
		if _, _, ok, err := s.Validate(ctx, bad); ok || err != nil {
			t.Errorf("Validate(%q) = %v, %v; want not signed in", bad, ok, err)
		}
	}
}

// sessionFaults fails the part of the stores a test names, as an
// unreachable Redis or database does.
type sessionFaults struct {
	storage.SessionStore
	storage.RevocationStore
	storage.UserStore
	failSessions, failNotBefore, failUsers bool
}

var errStoreDown = fmt.Errorf("test: store gone: %w", storage.ErrUnavailable)

func (f sessionFaults) CreateSession(ctx context.Context, s storage.Session) error {
	if f.failSessions {
		return errStoreDown
	}
	return f.SessionStore.CreateSession(ctx, s)
}

func (f sessionFaults) Session(ctx context.Context, id string) (storage.Session, error) {
	if f.failSessions {
		return storage.Session{}, errStoreDown
	}
	return f.SessionStore.Session(ctx, id)
}

func (f sessionFaults) DeleteSession(ctx context.Context, id string) error {
	if f.failSessions {
		return errStoreDown
	}
	return f.SessionStore.DeleteSession(ctx, id)
}

func (f sessionFaults) NotBefore(ctx context.Context, userID string) (time.Time, string, error) {
	if f.failNotBefore {
		return time.Time{}, "", errStoreDown
	}
	return f.RevocationStore.NotBefore(ctx, userID)
}

func (f sessionFaults) UserByID(ctx context.Context, id string) (storage.User, error) {
	if f.failUsers {
		return storage.User{}, errStoreDown
	}
	return f.UserStore.UserByID(ctx, id)
}

// TestSessionsStoreDown: when a store cannot be read, Validate fails
// closed with an error wrapping storage.ErrUnavailable (a 503, SEC-18),
// never a session whose revocation state is unknown; Create and End
// report the failure.
func TestSessionsStoreDown(t *testing.T) {
	tests := []struct {
		name   string
		faults sessionFaults
	}{
		{"session store", sessionFaults{failSessions: true}},
		{"not-before", sessionFaults{failNotBefore: true}},
		{"users", sessionFaults{failUsers: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newAcctEnv(t)
			u := e.signup(t, "ann@example.com", annPW)
			ok0, store := newSessionsOn(t, e, 0)
			v := createSession(t, ok0, u.ID)
			f := tc.faults
			f.SessionStore, f.RevocationStore, f.UserStore = store, e.store, e.store
			s, err := provider.NewSessions(provider.SessionDeps{Store: f, Revocations: f, Users: f, Now: e.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			got, _, ok, err := s.Validate(ctx, v)
			if ok || got.ID != "" || !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("validate = %v, user %q, %v; want an error wrapping ErrUnavailable", ok, got.ID, err)
			}
			if !f.failSessions {
				return
			}
			if _, _, err := s.Create(ctx, u.ID); !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("create: %v", err)
			}
			if err := s.End(ctx, v); !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("end: %v", err)
			}
		})
	}
}

// TestNewSessionsNeedsStores: a service that could not check the
// not-before (or the user) is never built.
func TestNewSessionsNeedsStores(t *testing.T) {
	e := newAcctEnv(t)
	tests := []struct {
		name string
		deps provider.SessionDeps
	}{
		{"no store", provider.SessionDeps{Revocations: e.store, Users: e.store}},
		{"no revocations", provider.SessionDeps{Store: e.store, Users: e.store}},
		{"no users", provider.SessionDeps{Store: e.store, Revocations: e.store}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := provider.NewSessions(tc.deps); err == nil || s != nil {
				t.Errorf("NewSessions = %v, %v; want an error", s, err)
			}
		})
	}
}

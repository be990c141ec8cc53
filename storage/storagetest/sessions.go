package storagetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

// ephSame fails t unless got and want have the same JSON form. Comparing
// JSON rather than with reflect keeps backends that round-trip times
// through text (monotonic reading and *Location pointer lost) comparable.
func ephSame(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: marshal got: %v", what, err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: marshal want: %v", what, err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// ephErr fails t unless err matches want (nil means success).
func ephErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func testSessions(t *testing.T, s Stores) {
	t.Run("session", func(t *testing.T) { testSessionLifecycle(t, s) })
	t.Run("code", func(t *testing.T) { testCodes(t, s) })
	t.Run("code-concurrent", func(t *testing.T) { testCodeConcurrent(t, s) })
	t.Run("consent", func(t *testing.T) { testConsent(t, s) })
	t.Run("one-time", func(t *testing.T) { testOneTime(t, s) })
	t.Run("pushed-request", func(t *testing.T) { testPushedRequests(t, s) })
	t.Run("pushed-request-concurrent", func(t *testing.T) { testPushedConcurrent(t, s) })
}

func testSessionLifecycle(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	a := storage.Session{ID: "sess-a", UserID: "u1", CSRFKey: []byte("k"), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		AMR: []string{"pwd", "otp", "mfa"}, AuthTime: now.Add(-time.Minute)}
	b := storage.Session{ID: "sess-b", UserID: "u2", CreatedAt: now, ExpiresAt: now.Add(3 * time.Hour)}
	for _, sess := range []storage.Session{a, b} {
		ephErr(t, "CreateSession", s.Sessions.CreateSession(ctx, sess), nil)
	}
	got, err := s.Sessions.Session(ctx, a.ID)
	ephErr(t, "Session", err, nil)
	ephSame(t, "Session", got, a)

	_, err = s.Sessions.Session(ctx, "sess-unknown")
	ephErr(t, "unknown Session", err, storage.ErrNotFound)

	ephErr(t, "DeleteSession", s.Sessions.DeleteSession(ctx, b.ID), nil)
	_, err = s.Sessions.Session(ctx, b.ID)
	ephErr(t, "deleted Session", err, storage.ErrNotFound)
	ephErr(t, "DeleteSession again", s.Sessions.DeleteSession(ctx, b.ID), nil)

	s.Clock.Advance(time.Hour - time.Second)
	_, err = s.Sessions.Session(ctx, a.ID)
	ephErr(t, "Session just before expiry", err, nil)
	s.Clock.Advance(time.Second)
	_, err = s.Sessions.Session(ctx, a.ID)
	ephErr(t, "Session at expiry", err, storage.ErrNotFound)
}

func testCode(now time.Time, hash string) storage.AuthCode {
	return storage.AuthCode{
		Hash: hash, ClientID: "client-1", UserID: "u1", RedirectURI: "https://app.example/cb",
		Scope: "openid email", Nonce: "n-0S6", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		FamilyID: "fam-" + hash, AuthTime: now, AMR: []string{"pwd"}, ExpiresAt: now.Add(time.Minute),
	}
}

func testCodes(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	c := testCode(now, "code-1")
	ephErr(t, "SaveCode", s.Sessions.SaveCode(ctx, c), nil)
	unused := testCode(now, "code-2")
	ephErr(t, "SaveCode", s.Sessions.SaveCode(ctx, unused), nil)

	steps := []struct {
		name    string
		hash    string
		advance time.Duration
		want    error
		record  bool // the code comes back with the error
	}{
		{"first consume", c.Hash, 0, nil, true},
		{"second consume", c.Hash, 0, storage.ErrReused, true},
		{"third consume", c.Hash, 30 * time.Second, storage.ErrReused, true},
		{"unknown", "code-unknown", 0, storage.ErrNotFound, false},
		{"used and expired", c.Hash, 30 * time.Second, storage.ErrNotFound, false},
		{"unused and expired", unused.Hash, 0, storage.ErrNotFound, false},
	}
	for _, st := range steps {
		s.Clock.Advance(st.advance)
		got, err := s.Sessions.ConsumeCode(ctx, st.hash)
		ephErr(t, st.name, err, st.want)
		if st.record {
			ephSame(t, st.name, got, c)
		}
	}
}

func testCodeConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	c := testCode(s.Clock.Now(), "code-race")
	ephErr(t, "SaveCode", s.Sessions.SaveCode(ctx, c), nil)
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Sessions.ConsumeCode(ctx, c.Hash)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, storage.ErrReused):
		default:
			t.Errorf("ConsumeCode: unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent ConsumeCode calls succeeded, want exactly 1", ok, n)
	}
}

func testConsent(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	first := storage.Consent{UserID: "u1", ClientID: "c1", Scopes: []string{"openid"}, ExpiresAt: now.Add(time.Hour)}
	replaced := storage.Consent{UserID: "u1", ClientID: "c1", Scopes: []string{"openid", "email"}, ExpiresAt: now.Add(2 * time.Hour)}
	other := storage.Consent{UserID: "u1", ClientID: "c2", Scopes: []string{"profile"}, ExpiresAt: now.Add(time.Hour)}
	keep := storage.Consent{UserID: "u2", ClientID: "c1", Scopes: []string{"openid"}, ExpiresAt: now.Add(time.Hour)}

	for _, c := range []storage.Consent{first, other, keep} {
		ephErr(t, "SaveConsent", s.Sessions.SaveConsent(ctx, c), nil)
	}
	got, err := s.Sessions.Consent(ctx, "u1", "c1")
	ephErr(t, "Consent", err, nil)
	ephSame(t, "Consent", got, first)

	ephErr(t, "SaveConsent replace", s.Sessions.SaveConsent(ctx, replaced), nil)
	got, err = s.Sessions.Consent(ctx, "u1", "c1")
	ephErr(t, "Consent after replace", err, nil)
	ephSame(t, "Consent after replace", got, replaced)

	_, err = s.Sessions.Consent(ctx, "u1", "c-unknown")
	ephErr(t, "unknown Consent", err, storage.ErrNotFound)

	ephErr(t, "DeleteUserConsents", s.Sessions.DeleteUserConsents(ctx, "u1"), nil)
	for _, c := range []storage.Consent{replaced, other} {
		_, err = s.Sessions.Consent(ctx, c.UserID, c.ClientID)
		ephErr(t, "deleted Consent "+c.ClientID, err, storage.ErrNotFound)
	}
	got, err = s.Sessions.Consent(ctx, keep.UserID, keep.ClientID)
	ephErr(t, "other user's Consent", err, nil)
	ephSame(t, "other user's Consent", got, keep)
	ephErr(t, "DeleteUserConsents again", s.Sessions.DeleteUserConsents(ctx, "u1"), nil)

	// A consent given after a deletion is stored again.
	ephErr(t, "SaveConsent after delete", s.Sessions.SaveConsent(ctx, first), nil)
	if _, err = s.Sessions.Consent(ctx, "u1", "c1"); err != nil {
		t.Fatalf("Consent after re-save: %v", err)
	}

	s.Clock.Advance(time.Hour)
	for _, c := range []storage.Consent{first, keep} {
		_, err = s.Sessions.Consent(ctx, c.UserID, c.ClientID)
		ephErr(t, "expired Consent", err, storage.ErrNotFound)
	}
}

func testOneTime(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	tok := storage.OneTimeToken{Hash: "ott-1", Purpose: "reset-password", UserID: "u1", ExpiresAt: now.Add(time.Hour)}
	late := storage.OneTimeToken{Hash: "ott-2", Purpose: "verify-email", UserID: "u1", ExpiresAt: now.Add(time.Hour)}
	for _, x := range []storage.OneTimeToken{tok, late} {
		ephErr(t, "SaveOneTimeToken", s.Sessions.SaveOneTimeToken(ctx, x), nil)
	}
	steps := []struct {
		name    string
		hash    string
		purpose string
		want    error
	}{
		{"wrong purpose", tok.Hash, "verify-email", storage.ErrNotFound},
		{"unknown", "ott-unknown", tok.Purpose, storage.ErrNotFound},
		{"right purpose", tok.Hash, tok.Purpose, nil},
		{"second consume", tok.Hash, tok.Purpose, storage.ErrNotFound},
	}
	for _, st := range steps {
		got, err := s.Sessions.ConsumeOneTimeToken(ctx, st.hash, st.purpose)
		ephErr(t, st.name, err, st.want)
		if st.want == nil {
			ephSame(t, st.name, got, tok)
		}
	}
	s.Clock.Advance(time.Hour)
	_, err := s.Sessions.ConsumeOneTimeToken(ctx, late.Hash, late.Purpose)
	ephErr(t, "expired", err, storage.ErrNotFound)
}

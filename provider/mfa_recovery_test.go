package provider_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// TestRecoveryCodes: a set of 10 distinct codes of 60 bits, each signing
// in once with amr ["pwd","otp","mfa"], a new set voiding the old, and the
// last factor's removal voiding them (SEC-56).
func TestRecoveryCodes(t *testing.T) {
	e := newMFAEnv(t)
	ctx := t.Context()
	u, _, codes := e.enrolTOTP(t, "ann@example.com")
	seen := map[string]bool{}
	form := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`) // 12 × 5 bits
	for _, c := range codes {
		if !form.MatchString(c) || seen[c] {
			t.Fatalf("recovery code %q: bad form or repeated", c)
		}
		seen[c] = true
	}

	need := e.challenge(t, "ann@example.com")
	// Typed loosely (upper case, no dashes) it still counts.
	pair, err := e.mfa.VerifyLogin(ctx, need.Token, strings.ToUpper(strings.ReplaceAll(codes[0], "-", "")), "")
	if err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	e.wantAMR(t, pair, []string{"pwd", "otp", "mfa"}, "mfa")
	if got := e.mail.subjects(); got[len(got)-1] != "A recovery code was used" {
		t.Errorf("mails %q", got)
	}
	need = e.challenge(t, "ann@example.com")
	if _, err := e.mfa.VerifyLogin(ctx, need.Token, codes[0], ""); !errors.Is(err, provider.ErrWrongCode) {
		t.Fatalf("a used recovery code: %v", err)
	}
	st, err := e.mfa.Status(ctx, u.ID)
	if err != nil || !st.TOTP || st.RecoveryCodesLeft != 9 {
		t.Fatalf("Status = %+v, %v", st, err)
	}

	if _, err := e.mfa.RegenerateRecoveryCodes(ctx, u.ID, "wrong-password-0"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("new set with a wrong password: %v", err)
	}
	fresh, err := e.mfa.RegenerateRecoveryCodes(ctx, u.ID, testPassword)
	if err != nil || len(fresh) != 10 {
		t.Fatalf("new set: %d codes, %v", len(fresh), err)
	}
	need = e.challenge(t, "ann@example.com")
	if _, err := e.mfa.VerifyLogin(ctx, need.Token, codes[1], ""); !errors.Is(err, provider.ErrWrongCode) {
		t.Fatalf("a code of the voided set: %v", err)
	}
	if _, err := e.mfa.VerifyLogin(ctx, need.Token, fresh[1], ""); err != nil {
		t.Fatalf("a code of the new set: %v", err)
	}

	// Removing the last factor voids the codes: they are no factor alone.
	if err := e.mfa.DisableTOTP(ctx, u.ID, testPassword); err != nil {
		t.Fatal(err)
	}
	st, err = e.mfa.Status(ctx, u.ID)
	if err != nil || st.TOTP || st.RecoveryCodesLeft != 0 {
		t.Fatalf("Status after removing the last factor = %+v, %v", st, err)
	}
	if _, err := e.mfa.RegenerateRecoveryCodes(ctx, u.ID, testPassword); !errors.Is(err, provider.ErrNoFactor) {
		t.Fatalf("new set without a factor: %v", err)
	}
	e.wantAMR(t, e.login(t, "ann@example.com", testPassword), []string{"pwd"}, "pwd")
}

// TestRecoveryCodeOnceConcurrently: one recovery code on many challenges
// at once signs in exactly once (SEC-56).
func TestRecoveryCodeOnceConcurrently(t *testing.T) {
	e := newMFAEnv(t)
	_, _, codes := e.enrolTOTP(t, "ann@example.com")
	const n = 8
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = e.challenge(t, "ann@example.com").Token
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for _, tok := range tokens {
		wg.Go(func() {
			_, err := e.mfa.VerifyLogin(context.Background(), tok, codes[4], "")
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, provider.ErrWrongCode) {
				t.Errorf("VerifyLogin: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("one recovery code on %d challenges: %d sign-ins, want 1", n, wins.Load())
	}
}

// TestRequireMFA: a domain requiring a second factor refuses the password
// alone at sign-in (403 message) and at refresh, and keeps the last
// factor (SEC-59); the most specific record decides.
func TestRequireMFA(t *testing.T) {
	e := newMFAEnv(t)
	ctx := t.Context()
	put := func(domain string, require bool) {
		t.Helper()
		if err := e.store.PutDomain(ctx, storage.DomainRecord{Domain: domain, RequireMFA: require}); err != nil {
			t.Fatal(err)
		}
		e.policy.Invalidate()
	}
	e.signup(t, "ann@corp.example", testPassword)
	pwdOnly := e.login(t, "ann@corp.example", testPassword)
	e.signup(t, "bob@lab.corp.example", testPassword)

	put("corp.example", true)
	put("lab.corp.example", false) // more specific: not required there
	if _, err := e.mfa.Login(ctx, "ann@corp.example", testPassword, ""); !errors.Is(err, provider.ErrMFASetupRequired) {
		t.Fatalf("password-only sign-in under require_mfa: %v", err)
	}
	if _, err := e.acc.Refresh(ctx, pwdOnly.RefreshToken); !errors.Is(err, provider.ErrUnauthenticated) {
		t.Fatalf("refresh of a password-only session under require_mfa: %v", err)
	}
	if _, err := e.mfa.Login(ctx, "bob@lab.corp.example", testPassword, ""); err != nil {
		t.Fatalf("subdomain whose own record does not require it: %v", err)
	}

	// Enrolled, the user signs in with both factors and refreshes.
	u := e.users(t, "ann@corp.example")
	en, err := e.mfa.StartTOTP(ctx, u.ID, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.mfa.ConfirmTOTP(ctx, u.ID, code(t, en.Secret, e.clk.Now())); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Minute)
	need := e.challenge(t, "ann@corp.example")
	pair, err := e.mfa.VerifyLogin(ctx, need.Token, code(t, en.Secret, e.clk.Now()), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.Refresh(ctx, pair.RefreshToken); err != nil {
		t.Fatalf("refresh of a session with a second factor: %v", err)
	}
	if err := e.mfa.DisableTOTP(ctx, u.ID, testPassword); !errors.Is(err, provider.ErrLastFactor) {
		t.Fatalf("removing the last factor under require_mfa: %v", err)
	}
	if err := e.mfa.CheckRemoval(ctx, u, 0); err != nil {
		t.Fatalf("removing a passkey while TOTP stays: %v", err)
	}
	put("corp.example", false)
	if err := e.mfa.DisableTOTP(ctx, u.ID, testPassword); err != nil {
		t.Fatalf("removing TOTP once not required: %v", err)
	}
}

// users loads a user by email.
func (e *mfaEnv) users(t testing.TB, email string) storage.User {
	t.Helper()
	u, err := e.store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestMFAReset: the operators' reset removes TOTP and recovery codes and
// calls the passkeys' RemoveAll.
func TestMFAReset(t *testing.T) {
	e := newMFAEnv(t)
	ctx := t.Context()
	u, _, _ := e.enrolTOTP(t, "ann@example.com")
	pk := &fakePasskeys{n: 2}
	admin, err := provider.NewUserAdmin(provider.UserAdminDeps{Users: e.store, Revocations: e.store, Consents: e.store,
		MFA: &provider.MFAAdmin{Store: e.store, Passkeys: pk}})
	if err != nil {
		t.Fatal(err)
	}
	entry, err := admin.Show(ctx, provider.AllUsers, u.ID)
	if err != nil || !entry.MFA.TOTP || entry.MFA.Passkeys != 2 {
		t.Fatalf("Show = %+v, %v", entry.MFA, err)
	}
	if err := admin.MFAReset(ctx, provider.AllUsers, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	st, err := e.mfa.Status(ctx, u.ID)
	if err != nil || st.TOTP || st.RecoveryCodesLeft != 0 || pk.n != 0 {
		t.Fatalf("after reset: %+v, passkeys %d, %v", st, pk.n, err)
	}
	e.wantAMR(t, e.login(t, "ann@example.com", testPassword), []string{"pwd"}, "pwd")
}

type fakePasskeys struct{ n int }

func (f *fakePasskeys) Count(context.Context, string) (int, error) { return f.n, nil }
func (f *fakePasskeys) RemoveAll(context.Context, string) error    { f.n = 0; return nil }

// TestMFAAuditAndMail: adding and removing a factor and using a recovery
// code are audited and mailed (SPEC §10, §13); a wrong code is a
// login_failed; no event or mail carries a code or the secret.
func TestMFAAuditAndMail(t *testing.T) {
	e := newMFAEnv(t)
	ctx := t.Context()
	u, secret, codes := e.enrolTOTP(t, "ann@example.com")
	need := e.challenge(t, "ann@example.com")
	if _, err := e.mfa.VerifyLogin(ctx, need.Token, "000000", ""); !errors.Is(err, provider.ErrWrongCode) {
		t.Fatal(err)
	}
	if _, err := e.mfa.VerifyLogin(ctx, need.Token, codes[0], ""); err != nil {
		t.Fatal(err)
	}
	e.mfa.FactorChanged(ctx, u, true, provider.MethodPasskey)
	if err := e.mfa.DisableTOTP(ctx, u.ID, testPassword); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range e.audit.list() {
		if ev.Event == provider.EventLoginSucceeded {
			continue
		}
		got = append(got, ev.Event+":"+ev.Detail)
		if ev.UserID != u.ID {
			t.Errorf("%s for user %q", ev.Event, ev.UserID)
		}
		if strings.Contains(ev.Detail, secret) || strings.Contains(ev.Detail, codes[0]) {
			t.Errorf("event %s holds a secret", ev.Event)
		}
	}
	want := []string{"mfa_enabled:", "login_failed:wrong second factor code", "recovery_code_used:", "passkey_added:", "mfa_disabled:"}
	if !equalStrings(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	wantMail := []string{"A second factor was added", "A recovery code was used", "A second factor was added", "A second factor was removed"}
	if subj := e.mail.subjects(); !equalStrings(subj, wantMail) {
		t.Fatalf("mails %q, want %q", subj, wantMail)
	}
	for _, m := range e.mail.sent {
		if m.To != "ann@example.com" || strings.Contains(m.Text, secret) || strings.Contains(m.Text, codes[0]) {
			t.Fatalf("mail %+v", m)
		}
	}
}

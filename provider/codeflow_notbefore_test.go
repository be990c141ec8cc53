package provider_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// TestCodeNotBefore: a code issued before the user's not-before (logout
// everywhere, a password change) is refused with invalid_grant, the
// password change's spared API session notwithstanding; a code of a
// sign-in after it redeems (SPEC §7).
func TestCodeNotBefore(t *testing.T) {
	const pw = "correct-horse-battery-9"
	for _, tc := range []struct {
		name string
		// run signs the user in at signIn, ends sessions as the case
		// says, and returns the sign-in time of the session that then
		// issues the code.
		run func(t *testing.T, e flowEnv, u storage.User, signIn time.Time) time.Time
		ok  bool
	}{
		{"no not-before", func(*testing.T, flowEnv, storage.User, time.Time) time.Time { return time.Time{} }, true},
		{"logout everywhere", func(t *testing.T, e flowEnv, u storage.User, _ time.Time) time.Time {
			if err := e.acc.LogoutAll(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
			return time.Time{}
		}, false},
		{"password change spares its API session, not the code", func(t *testing.T, e flowEnv, u storage.User, _ time.Time) time.Time {
			api := e.login(t, u.Email, pw)
			if err := e.acc.ChangePassword(context.Background(), api.Claims, pw, pw+"-new"); err != nil {
				t.Fatal(err)
			}
			return time.Time{}
		}, false},
		{"a new sign-in after logout everywhere", func(t *testing.T, e flowEnv, u storage.User, _ time.Time) time.Time {
			if err := e.acc.LogoutAll(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(2 * time.Second)
			return e.clk.Now()
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlowEnv(t)
			ctx := context.Background()
			u := e.signup(t, "bob@flow.example", pw)
			c, req := notBeforeAuthorize(t, e)
			signIn := e.clk.Now()
			// The browser session's code comes first, then the sessions
			// end; a case that signs in again issues its code afterwards.
			code, err := e.flow.IssueCode(ctx, provider.SignIn{User: u, AuthTime: signIn}, req)
			if err != nil {
				t.Fatal(err)
			}
			e.clk.Advance(time.Millisecond)
			if again := tc.run(t, e, u, signIn); !again.IsZero() {
				if code, err = e.flow.IssueCode(ctx, provider.SignIn{User: u, AuthTime: again}, req); err != nil {
					t.Fatal(err)
				}
			}
			_, err = e.flow.Exchange(ctx, c, provider.CodeExchange{Code: code, RedirectURI: "https://app.example/cb", CodeVerifier: flowVerifier})
			if tc.ok && err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if !tc.ok && !errors.Is(err, provider.ErrInvalidGrant) {
				t.Fatalf("exchange: %v, want ErrInvalidGrant", err)
			}
		})
	}
}

// TestCodeOfEndedSession: a session that signed in before a logout
// everywhere and issues its code just after it (it passed its own check
// first) gets the code refused too.
func TestCodeOfEndedSession(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	u := e.signup(t, "bob@flow.example", "correct-horse-battery-9")
	c, req := notBeforeAuthorize(t, e)
	signIn := e.clk.Now()
	e.clk.Advance(time.Second)
	if err := e.acc.LogoutAll(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Second)
	code, err := e.flow.IssueCode(ctx, provider.SignIn{User: u, AuthTime: signIn}, req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.flow.Exchange(ctx, c, provider.CodeExchange{Code: code, RedirectURI: "https://app.example/cb", CodeVerifier: flowVerifier})
	if !errors.Is(err, provider.ErrInvalidGrant) {
		t.Fatalf("exchange: %v, want ErrInvalidGrant", err)
	}
}

// notBeforeAuthorize registers a code-flow client and validates an openid
// authorization request of it, with PKCE.
func notBeforeAuthorize(t *testing.T, e flowEnv) (provider.Client, provider.AuthorizeRequest) {
	t.Helper()
	c := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}})
	req, err := e.flow.ValidateAuthorize(context.Background(), provider.AuthorizeParams{
		ResponseType: "code", ClientID: c.ID, RedirectURI: "https://app.example/cb", Scope: "openid",
		CodeChallenge: provider.S256Challenge(flowVerifier), CodeChallengeMethod: "S256",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, req
}

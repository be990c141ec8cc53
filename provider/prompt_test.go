package provider_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"user-registry/provider"
)

// TestAuthorizePrompt is the table of CodeFlow.Authorize's decisions: who
// is signed in, whether the user approved the scopes before, whether the
// client is trusted, and the prompt give the login page, the consent
// page, a code, or a prompt=none error sent back to the client.
func TestAuthorizePrompt(t *testing.T) {
	const (
		login    = provider.NextLogin
		consent  = provider.NextConsent
		redirect = provider.NextRedirect
		reauth   = provider.NextReauth
	)
	tests := []struct {
		name      string
		signedIn  bool
		approved  bool // the user approved the scopes before
		trusted   bool
		prompt    string
		want      provider.AuthorizeNext
		wantError string // prompt=none error code; want is then ignored
	}{
		{"signed out", false, false, false, "", login, ""},
		{"signed out, prompt=login", false, false, false, "login", login, ""},
		{"signed out, prompt=consent", false, false, false, "consent", login, ""},
		{"signed out, prompt=none", false, false, false, "none", 0, "login_required"},
		{"signed out, trusted, prompt=none", false, false, true, "none", 0, "login_required"},
		{"first visit", true, false, false, "", consent, ""},
		{"first visit, prompt=none", true, false, false, "none", 0, "consent_required"},
		{"first visit, prompt=login", true, false, false, "login", reauth, ""},
		{"approved before", true, true, false, "", redirect, ""},
		{"approved before, prompt=none", true, true, false, "none", redirect, ""},
		{"approved before, prompt=consent", true, true, false, "consent", consent, ""},
		{"approved before, prompt=login", true, true, false, "login", reauth, ""},
		{"approved before, prompt=select_account", true, true, false, "select_account", redirect, ""},
		{"trusted", true, false, true, "", redirect, ""},
		{"trusted, prompt=none", true, false, true, "none", redirect, ""},
		{"trusted, prompt=consent", true, false, true, "consent", redirect, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlowEnv(t)
			ctx := context.Background()
			u := e.signup(t, "ann@flow.example", "correct-horse-battery-9")
			c := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}, Trusted: tc.trusted})
			req, err := e.flow.ValidateAuthorize(ctx, provider.AuthorizeParams{
				ResponseType: "code", ClientID: c.ID, RedirectURI: "https://app.example/cb", Scope: "openid email",
				State: "st-1", CodeChallenge: provider.S256Challenge(flowVerifier), CodeChallengeMethod: "S256",
				Prompt: tc.prompt,
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.approved {
				if err := e.flow.Approve(ctx, u.ID, req); err != nil {
					t.Fatal(err)
				}
			}
			var in *provider.SignIn
			signedInAt := e.clk.Now().Add(-time.Hour).Truncate(time.Second)
			if tc.signedIn {
				in = &provider.SignIn{User: u, AuthTime: signedInAt}
			}

			d, err := e.flow.Authorize(ctx, req, in)
			if tc.wantError != "" {
				var ae *provider.AuthorizeError
				if !errors.As(err, &ae) || ae.Code != tc.wantError {
					t.Fatalf("Authorize = %+v, %v; want error %s", d, err, tc.wantError)
				}
				q := redirectQuery(t, ae.URL())
				if q.Get("error") != tc.wantError || q.Get("state") != "st-1" {
					t.Fatalf("error redirect %s", ae.URL())
				}
				return
			}
			if err != nil || d.Next != tc.want {
				t.Fatalf("Authorize = %+v, %v; want next %d", d, err, tc.want)
			}
			if tc.want != redirect {
				if d.RedirectURL != "" {
					t.Fatalf("redirect URL %q with next %d", d.RedirectURL, d.Next)
				}
				return
			}
			// The code is real: it exchanges, and its ID token carries the
			// sign-in time as auth_time.
			q := redirectQuery(t, d.RedirectURL)
			if q.Get("state") != "st-1" || q.Get("code") == "" {
				t.Fatalf("redirect %s", d.RedirectURL)
			}
			tok, err := e.flow.Exchange(ctx, c, provider.CodeExchange{
				Code: q.Get("code"), RedirectURI: "https://app.example/cb", CodeVerifier: flowVerifier,
			})
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			id, err := e.tokens.VerifyID(ctx, tok.IDToken, c.ID)
			if err != nil || !id.AuthTime.Equal(signedInAt) || id.Subject != u.ID {
				t.Fatalf("id token %+v, %v; want auth_time %v", id, err, signedInAt)
			}
		})
	}
}

// redirectQuery returns the query of a redirect to the test client's
// redirect URI, failing the test for any other target.
func redirectQuery(t *testing.T, target string) url.Values {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "https" || u.Host != "app.example" || u.Path != "/cb" {
		t.Fatalf("redirect to %q", target)
	}
	return u.Query()
}

package provider_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"user-registry/provider"
)

// TestAuthorizeStepUp is the table of the step-up decisions (SPEC §10):
// max_age against the sign-in's age by the flow's clock, and acr_values=mfa
// against the sign-in's amr; prompt=none turns a needed sign-in into
// login_required or interaction_required.
func TestAuthorizeStepUp(t *testing.T) {
	pwd, mfa := []string{"pwd"}, []string{"pwd", "otp", "mfa"}
	tests := []struct {
		name      string
		age       time.Duration // of the sign-in
		amr       []string
		maxAge    string
		acr       string
		prompt    string
		want      provider.AuthorizeNext
		wantError string
	}{
		{"young enough", 59 * time.Second, pwd, "60", "", "", provider.NextRedirect, ""},
		{"exactly max_age", 60 * time.Second, pwd, "60", "", "", provider.NextRedirect, ""},
		{"older than max_age", 61 * time.Second, pwd, "60", "", "", provider.NextReauth, ""},
		{"max_age=0", time.Millisecond, mfa, "0", "", "", provider.NextReauth, ""},
		{"max_age=0, prompt=none", time.Millisecond, mfa, "0", "", "none", 0, "login_required"},
		{"acr mfa, password only", time.Second, pwd, "", "mfa", "", provider.NextReauth, ""},
		{"acr mfa, prompt=none", time.Second, pwd, "", "mfa", "none", 0, "interaction_required"},
		{"acr mfa, second factor", time.Second, mfa, "", "mfa", "", provider.NextRedirect, ""},
		{"acr pwd", time.Second, pwd, "", "pwd", "", provider.NextRedirect, ""},
		{"acr unknown class", time.Second, pwd, "", "urn:x:gold", "", provider.NextRedirect, ""},
		{"no amr recorded", time.Second, nil, "", "mfa", "", provider.NextReauth, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlowEnv(t)
			ctx := context.Background()
			u := e.signup(t, "ann@flow.example", "correct-horse-battery-9")
			c := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}, Trusted: true})
			req, err := e.flow.ValidateAuthorize(ctx, provider.AuthorizeParams{
				ResponseType: "code", ClientID: c.ID, RedirectURI: "https://app.example/cb", Scope: "openid",
				State: "st-1", CodeChallenge: provider.S256Challenge(flowVerifier), CodeChallengeMethod: "S256",
				Prompt: tc.prompt, MaxAge: tc.maxAge, ACRValues: tc.acr,
			})
			if err != nil {
				t.Fatal(err)
			}
			in := &provider.SignIn{User: u, AuthTime: e.clk.Now().Add(-tc.age), AMR: tc.amr}
			d, err := e.flow.Authorize(ctx, req, in)
			if tc.wantError != "" {
				var ae *provider.AuthorizeError
				if !errors.As(err, &ae) || ae.Code != tc.wantError {
					t.Fatalf("Authorize = %+v, %v; want %s", d, err, tc.wantError)
				}
				return
			}
			if err != nil || d.Next != tc.want {
				t.Fatalf("Authorize = %+v, %v; want next %d", d, err, tc.want)
			}
		})
	}
	t.Run("bad max_age", func(t *testing.T) {
		e := newFlowEnv(t)
		c := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}})
		for _, v := range []string{"-1", "soon", "1.5"} {
			_, err := e.flow.ValidateAuthorize(context.Background(), provider.AuthorizeParams{
				ResponseType: "code", ClientID: c.ID, RedirectURI: "https://app.example/cb", Scope: "openid",
				CodeChallenge: provider.S256Challenge(flowVerifier), CodeChallengeMethod: "S256", MaxAge: v,
			})
			var ae *provider.AuthorizeError
			if !errors.As(err, &ae) || ae.Code != "invalid_request" {
				t.Errorf("max_age=%s: %v", v, err)
			}
		}
	})
}

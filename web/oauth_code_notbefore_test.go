package web

import (
	"net/url"
	"testing"

	"user-registry/provider"
)

// TestCodeRefusedAfterNotBefore: a code issued before "log out everywhere"
// or a password change is refused with invalid_grant within its 60 s (SPEC
// §7); a code from a sign-in afterwards redeems.
func TestCodeRefusedAfterNotBefore(t *testing.T) {
	const newPassword = "a-new-password-for-alice-7"
	for _, backend := range backendsUnderTest(t) {
		for _, tc := range []struct {
			name     string
			end      func(t *testing.T, e flowEnv, api string)
			password string // for the sign-in afterwards
		}{
			{"logout everywhere", func(t *testing.T, e flowEnv, api string) {
				if a := e.post(t, "/logout/all", "", "", bearer(api)); a.status != 200 {
					t.Fatalf("logout/all = %d %s", a.status, a.body)
				}
			}, pagePassword},
			{"password change through the API", func(t *testing.T, e flowEnv, api string) {
				body := jsonBody(map[string]string{"current_password": pagePassword, "new_password": newPassword})
				if a := e.post(t, "/password", body, "application/json", bearer(api)); a.status != 200 {
					t.Fatalf("password change = %d %s", a.status, a.body)
				}
			}, newPassword},
		} {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				e := newFlowEnv(t, backend)
				id, secret := e.codeClient(t, provider.ClientSpec{Trusted: true})
				v, _ := pkce()
				form := func(code string) url.Values {
					return url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}}
				}
				api, _ := login(t, e.Handler, e.email, pagePassword)
				code := e.browser(t).getCode(authParams(id, flowRedirect, v))

				tc.end(t, e, api)
				flowWantError(t, "code issued before", e.exchange(t, id, secret, form(code)), 400, "invalid_grant")

				b := newPageClient(t, e.testEnv)
				b.signIn(e.email, tc.password)
				if a := e.exchange(t, id, secret, form(b.getCode(authParams(id, flowRedirect, v)))); a.status != 200 {
					t.Fatalf("code of a new sign-in = %d %s", a.status, a.body)
				}
			})
		}
	}
}

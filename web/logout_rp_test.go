package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"user-registry/provider"
)

const postLogoutURI = "https://app.example/signed-out?x=1"

// TestRPInitiatedLogout: the end_session_endpoint redirects only to an
// exactly registered post_logout_redirect_uri (SEC-65), asks a browser
// without a valid hint to confirm through a CSRF-protected form, refuses
// a hint for another client or with a bad signature, and accepts an
// expired one.
func TestRPInitiatedLogout(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newLogoutEnv(t, backend)
			id, secret := e.codeClient(t, provider.ClientSpec{PostLogoutRedirectURIs: []string{postLogoutURI}})
			otherID, _ := e.codeClient(t, provider.ClientSpec{Name: "Other", PostLogoutRedirectURIs: []string{"https://other.example/bye"}})
			signIn := func(t *testing.T) (*pageClient, answer) {
				b := e.browser(t)
				return b, e.signedInApp(t, b, id, secret)
			}
			signedOut := func(t *testing.T, b *pageClient, app answer) {
				t.Helper()
				if p := b.get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
					t.Fatalf("still signed in: %d %q", p.status, p.location())
				}
				if e.accessValid(app.json["access_token"].(string)) {
					t.Fatal("the app's access token still verifies")
				}
			}
			stillIn := func(t *testing.T, b *pageClient, app answer) {
				t.Helper()
				if p := b.get("/account"); p.status != http.StatusOK {
					t.Fatalf("signed out by a refused request: %d", p.status)
				}
				if !e.accessValid(app.json["access_token"].(string)) {
					t.Fatal("the app's access token was revoked by a refused request")
				}
			}
			logout := func(b *pageClient, method string, q url.Values) pageResp {
				if method == http.MethodPost { // an app's form post, from its own origin
					return b.post("/oauth2/logout", q)
				}
				return b.get("/oauth2/logout?" + q.Encode())
			}

			for _, method := range []string{http.MethodGet, http.MethodPost} {
				t.Run("valid hint, registered URI, "+method, func(t *testing.T) {
					b, app := signIn(t)
					p := logout(b, method, url.Values{"id_token_hint": {app.json["id_token"].(string)},
						"post_logout_redirect_uri": {postLogoutURI}, "state": {"st-9"}})
					q := redirectQuery(t, p, postLogoutURI)
					if q.Get("state") != "st-9" || q.Get("x") != "1" {
						t.Fatalf("redirect %q", p.location())
					}
					signedOut(t, b, app)
					if ev := e.audit.last(); ev.Event != provider.EventLogout || ev.ClientID != id || ev.UserID == "" || ev.Domain != "flow.example" {
						t.Fatalf("audit event %+v", ev)
					}
				})
			}
			t.Run("unregistered URI: signed-out page, no redirect", func(t *testing.T) {
				for _, uri := range []string{"https://evil.example/", postLogoutURI + "&y=2", "https://other.example/bye",
					strings.ToUpper(postLogoutURI), "//evil.example"} {
					b, app := signIn(t)
					p := b.get("/oauth2/logout?" + url.Values{"id_token_hint": {app.json["id_token"].(string)},
						"post_logout_redirect_uri": {uri}, "state": {"s"}}.Encode())
					if p.status != http.StatusOK || p.location() != "" || !strings.Contains(p.body, "You are signed out") {
						t.Fatalf("%s: %d → %q", uri, p.status, p.location())
					}
					signedOut(t, b, app)
				}
			})
			t.Run("missing hint: confirmation page", func(t *testing.T) {
				b, app := signIn(t)
				path := "/oauth2/logout?" + url.Values{"client_id": {id}, "post_logout_redirect_uri": {postLogoutURI},
					"state": {"st-c"}}.Encode()
				p := b.get(path)
				if p.status != http.StatusOK || !strings.Contains(p.body, `action="/oauth2/logout/confirm"`) {
					t.Fatalf("confirmation page: %d\n%s", p.status, p.body)
				}
				stillIn(t, b, app)
				// Without the CSRF token (or from another site) the form
				// does nothing.
				form := url.Values{"client_id": {id}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"st-c"}}
				if r := b.post("/oauth2/logout/confirm", form); r.status != http.StatusForbidden {
					t.Fatalf("confirm without CSRF = %d", r.status)
				}
				stillIn(t, b, app)
				form.Set(csrfField, scrapeCSRF(t, p.body))
				q := redirectQuery(t, b.post("/oauth2/logout/confirm", form), postLogoutURI)
				if q.Get("state") != "st-c" {
					t.Fatalf("state %q", q.Get("state"))
				}
				signedOut(t, b, app)
			})
			t.Run("refused hints", func(t *testing.T) {
				b, app := signIn(t)
				hint := app.json["id_token"].(string)
				parts := strings.Split(hint, ".")
				for name, q := range map[string]url.Values{
					"hint for another client": {"id_token_hint": {hint}, "client_id": {otherID}, "post_logout_redirect_uri": {"https://other.example/bye"}},
					"bad signature":           {"id_token_hint": {parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))}},
					"an access token":         {"id_token_hint": {app.json["access_token"].(string)}},
					"unknown client":          {"client_id": {"no-such-client"}},
				} {
					p := b.get("/oauth2/logout?" + q.Encode())
					if p.status != http.StatusBadRequest || p.location() != "" {
						t.Fatalf("%s: %d → %q", name, p.status, p.location())
					}
					stillIn(t, b, app)
				}
			})
			t.Run("expired hint accepted", func(t *testing.T) {
				b, app := signIn(t)
				e.clk.Advance(2 * time.Hour) // the ID token (10 min) is long expired
				p := b.get("/oauth2/logout?" + url.Values{"id_token_hint": {app.json["id_token"].(string)},
					"post_logout_redirect_uri": {postLogoutURI}}.Encode())
				redirectQuery(t, p, postLogoutURI)
				if p := b.get("/account"); p.status != http.StatusSeeOther {
					t.Fatalf("still signed in: %d", p.status)
				}
			})
			t.Run("signed out already: no confirmation, no redirect without a client", func(t *testing.T) {
				b := newPageClient(t, e.testEnv)
				p := b.get("/oauth2/logout?" + url.Values{"post_logout_redirect_uri": {postLogoutURI}}.Encode())
				if p.status != http.StatusOK || p.location() != "" || !strings.Contains(p.body, "You are signed out") {
					t.Fatalf("%d → %q", p.status, p.location())
				}
			})
		})
	}
}

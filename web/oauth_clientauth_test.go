package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"user-registry/provider"
)

// clientAuthEndpoint is one place a client authenticates: an endpoint, and
// for /oauth2/token a grant. params are the request's other parameters.
type clientAuthEndpoint struct {
	name   string
	path   string
	params url.Values
	json   bool // the body is /authority-token's JSON
}

// clientAuthEndpoints are every endpoint and grant that authenticates its
// client (SPEC §5, §7).
var clientAuthEndpoints = []clientAuthEndpoint{
	{"token client_credentials", "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, false},
	{"token authorization_code", "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"no-such-code"},
		"redirect_uri": {"https://app.example.com/cb"}, "code_verifier": {"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}}, false},
	{"token refresh_token", "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"no.such-token"}}, false},
	{"authority-token form", "/authority-token", url.Values{"grant_type": {"client_credentials"}}, false},
	{"authority-token json", "/authority-token", nil, true},
	{"revoke", "/oauth2/revoke", url.Values{"token": {"no-such-token"}}, false},
	{"introspect", "/oauth2/introspect", url.Values{"token": {"no-such-token"}}, false},
}

// presented is how a request presents its client: an Authorization header
// (Basic from basicID/basicSecret, or rawAuth as is) and client_id /
// client_secret in the body.
type presented struct {
	basic                bool
	basicID, basicSecret string
	rawAuth              string
	bodyID, bodySecret   string
}

func basicCreds(id, secret string) presented {
	return presented{basic: true, basicID: id, basicSecret: secret}
}

func postCreds(id, secret string) presented { return presented{bodyID: id, bodySecret: secret} }

// send posts p to ep.
func (e oauthEnv) send(t *testing.T, ep clientAuthEndpoint, p presented) answer {
	t.Helper()
	var body, ct string
	if ep.json {
		j := map[string]string{}
		if p.bodyID != "" {
			j["client_id"] = p.bodyID
		}
		if p.bodySecret != "" {
			j["client_secret"] = p.bodySecret
		}
		b, _ := json.Marshal(j)
		body, ct = string(b), "application/json"
	} else {
		form := url.Values{}
		for k, v := range ep.params {
			form[k] = v
		}
		if p.bodyID != "" {
			form.Set("client_id", p.bodyID)
		}
		if p.bodySecret != "" {
			form.Set("client_secret", p.bodySecret)
		}
		body, ct = form.Encode(), formCT
	}
	return e.post(t, ep.path, body, ct, func(r *http.Request) {
		switch {
		case p.rawAuth != "":
			r.Header.Set("Authorization", p.rawAuth)
		case p.basic:
			r.SetBasicAuth(url.QueryEscape(p.basicID), url.QueryEscape(p.basicSecret))
		}
	})
}

// authAnswer is what a refusal says: everything a caller can compare.
type authAnswer struct {
	status                                int
	code, description, wwwAuth, cacheCtrl string
}

func answerOf(a answer) authAnswer {
	code, _ := a.json["error"].(string)
	desc, _ := a.json["error_description"].(string)
	return authAnswer{a.status, code, desc, a.header.Get("WWW-Authenticate"), a.header.Get("Cache-Control")}
}

// TestClientAuthSameEverywhere: every bad client credential gets the same
// answer — status, error, description, WWW-Authenticate — from every grant
// of /oauth2/token, /authority-token (form and JSON), /oauth2/revoke and
// /oauth2/introspect: one function authenticates clients for all of them.
func TestClientAuthSameEverywhere(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newOAuthEnv(t, b, "0")
			id, secret := e.client(t, provider.ClientSpec{Domain: "example.com",
				GrantTypes: []string{"client_credentials", "authorization_code", "refresh_token"}, RedirectURIs: []string{"https://app.example.com/cb"}})
			pubID, _ := e.client(t, provider.ClientSpec{Domain: "example.com", Public: true, RedirectURIs: []string{"https://app.example.com/cb"}})
			badClient := authAnswer{401, "invalid_client", "Client authentication failed", `Basic realm="user-registry"`, "no-store"}
			for _, tc := range []struct {
				name string
				p    presented
				want authAnswer
			}{
				{"unknown id basic", basicCreds("nobody", secret), badClient},
				{"unknown id post", postCreds("nobody", secret), badClient},
				{"unknown id without secret", postCreds("nobody", ""), badClient},
				{"wrong secret basic", basicCreds(id, secret+"x"), badClient},
				{"wrong secret post", postCreds(id, secret+"x"), badClient},
				{"confidential client without secret", postCreds(id, ""), badClient},
				{"confidential client basic without password", basicCreds(id, ""), badClient},
				{"no credentials", presented{}, badClient},
				{"malformed basic base64", presented{rawAuth: "Basic %%%"}, badClient},
				{"malformed basic percent-encoding", presented{rawAuth: "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:"+secret))}, badClient},
				{"public client with secret basic", basicCreds(pubID, "anything"), badClient},
				{"public client with secret post", postCreds(pubID, "anything"), badClient},
				{"basic and post", presented{basic: true, basicID: id, basicSecret: secret, bodySecret: secret},
					authAnswer{400, "invalid_request", "Use one client authentication method: Basic or client_secret in the body, not both", "", "no-store"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					for _, ep := range clientAuthEndpoints {
						if got := answerOf(e.send(t, ep, tc.p)); got != tc.want {
							t.Errorf("%s: %+v, want %+v", ep.name, got, tc.want)
						}
					}
				})
			}
		})
	}
}

// TestClientAuthPublicClients: a public client names itself by client_id
// alone (method none, also as Basic with an empty password) where RFC 6749
// and RFC 7009 allow it — the code grants and revocation — and gets the
// same invalid_client as any bad credential everywhere else.
func TestClientAuthPublicClients(t *testing.T) {
	e := newOAuthEnv(t, "sqlite+memory", "0")
	pubID, _ := e.client(t, provider.ClientSpec{Domain: "example.com", Public: true, RedirectURIs: []string{"https://app.example.com/cb"}})
	badClient := authAnswer{401, "invalid_client", "Client authentication failed", `Basic realm="user-registry"`, "no-store"}
	accepted := map[string]int{ // endpoint → status once authenticated
		"token authorization_code": 400, // the made-up code: invalid_grant
		"token refresh_token":      400, // the made-up token: invalid_grant
		"revoke":                   200,
	}
	for _, p := range []presented{postCreds(pubID, ""), basicCreds(pubID, "")} {
		for _, ep := range clientAuthEndpoints {
			got := answerOf(e.send(t, ep, p))
			want, ok := accepted[ep.name]
			switch {
			case !ok && got != badClient:
				t.Errorf("%s basic=%v: %+v, want %+v", ep.name, p.basic, got, badClient)
			case ok && (got.status != want || got.code == "invalid_client" || got.wwwAuth != ""):
				t.Errorf("%s basic=%v: %+v, want %d past authentication", ep.name, p.basic, got, want)
			}
		}
	}
}

// TestClientAuthRateLimit: over --limit-client every endpoint answers the
// same 429 with Retry-After. Each request counts once, after
// authentication: failed authentications do not count, and with a limit of
// 2 the second authenticated request still passes.
func TestClientAuthRateLimit(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newOAuthEnv(t, b, "2/1m")
			var first *authAnswer
			for _, ep := range clientAuthEndpoints {
				// A client of its own per endpoint, so each starts with a full window.
				id, secret := e.client(t, provider.ClientSpec{Domain: "example.com",
					GrantTypes: []string{"client_credentials", "authorization_code", "refresh_token"}, RedirectURIs: []string{"https://app.example.com/cb"}})
				creds := basicCreds(id, secret)
				if ep.json {
					creds = postCreds(id, secret)
				}
				for range 3 {
					if a := e.send(t, ep, basicCreds(id, "wrong")); a.status != 401 {
						t.Fatalf("%s wrong secret: %d %s", ep.name, a.status, a.body)
					}
				}
				for i := range 2 {
					if a := e.send(t, ep, creds); a.status == 429 || a.status == 401 {
						t.Fatalf("%s request %d: %d %s", ep.name, i+1, a.status, a.body)
					}
				}
				a := e.send(t, ep, creds)
				if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
					t.Errorf("%s: Retry-After = %q", ep.name, a.header.Get("Retry-After"))
				}
				got := answerOf(a)
				if got.status != 429 || got.code != "invalid_request" || got.wwwAuth != "" || got.cacheCtrl != "no-store" {
					t.Errorf("%s third request: %+v %s", ep.name, got, a.body)
				}
				if first == nil {
					first = &got
				} else if got != *first {
					t.Errorf("%s: %+v, but %s answered %+v", ep.name, got, clientAuthEndpoints[0].name, *first)
				}
			}
		})
	}
}

package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/provider"
)

// newProofSigner returns an ES256 DPoP signer with a fresh key.
func newProofSigner(t *testing.T) *keys.DPoPSigner {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := keys.NewDPoPSigner(ec, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// proofFor makes a fresh proof of s for method and path on e's server,
// with ath when tok is not "".
func (e oauthEnv) proofFor(t *testing.T, s *keys.DPoPSigner, method, path, tok string) string {
	t.Helper()
	p, err := s.Proof(method, e.Server.URL+path, tok, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func withDPoP(proof string, more ...func(*http.Request)) func(*http.Request) {
	return func(r *http.Request) {
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		for _, m := range more {
			m(r)
		}
	}
}

func dpopAuth(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "DPoP "+tok) }
}

// TestDPoPTokenEndpoints: /authority-token and /oauth2/token bind a token
// to a valid proof's key (cnf.jkt, token_type DPoP), introspection reports
// the binding, a --dpop client needs a proof, and replayed, misdirected or
// missing proofs are 400 invalid_dpop_proof (SEC-63). Both backends.
func TestDPoPTokenEndpoints(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newOAuthEnv(t, backend, "0")
			id, secret := e.client(t, provider.ClientSpec{Domain: "dpop.example", DPoP: true})
			plainID, plainSecret := e.client(t, provider.ClientSpec{Domain: "dpop.example"})
			s := newProofSigner(t)
			cc := url.Values{"grant_type": {"client_credentials"}}.Encode()
			basic := func(id, secret string) func(*http.Request) {
				return func(r *http.Request) { r.SetBasicAuth(id, secret) }
			}

			refused := []struct {
				name  string
				path  string
				proof func() string
				id    string
			}{
				{"--dpop client without a proof", "/authority-token", func() string { return "" }, id},
				{"proof for another URL", "/authority-token", func() string { return e.proofFor(t, s, "POST", "/oauth2/token", "") }, id},
				{"proof for another method", "/oauth2/token", func() string { return e.proofFor(t, s, "GET", "/oauth2/token", "") }, plainID},
				{"garbage proof", "/oauth2/token", func() string { return "a.b.c" }, plainID},
			}
			for _, c := range refused {
				sec := secret
				if c.id == plainID {
					sec = plainSecret
				}
				a := e.post(t, c.path, cc, formCT, withDPoP(c.proof(), basic(c.id, sec)))
				if a.status != 400 || a.json["error"] != "invalid_dpop_proof" {
					t.Errorf("%s: %d %s, want 400 invalid_dpop_proof", c.name, a.status, a.body)
				}
			}

			for _, path := range []string{"/authority-token", "/oauth2/token"} {
				proof := e.proofFor(t, s, "POST", path, "")
				a := e.post(t, path, cc, formCT, withDPoP(proof, basic(id, secret)))
				if a.status != 200 || a.json["token_type"] != "DPoP" {
					t.Fatalf("%s with a proof: %d %s", path, a.status, a.body)
				}
				tok := a.json["access_token"].(string)
				claims, err := e.Tokens.VerifyAccess(context.Background(), tok, "")
				if err != nil || claims.JKT != s.JKT() {
					t.Fatalf("%s: cnf.jkt = %q (%v), want %q", path, claims.JKT, err, s.JKT())
				}
				// The same proof again is a replay.
				a = e.post(t, path, cc, formCT, withDPoP(proof, basic(id, secret)))
				if a.status != 400 || a.json["error"] != "invalid_dpop_proof" {
					t.Fatalf("%s replayed proof: %d %s", path, a.status, a.body)
				}
				// Introspection reports the binding.
				in := e.post(t, "/oauth2/introspect", url.Values{"token": {tok}}.Encode(), formCT, basic(id, secret))
				cnf, _ := in.json["cnf"].(map[string]any)
				if in.status != 200 || in.json["active"] != true || in.json["token_type"] != "DPoP" || cnf["jkt"] != s.JKT() {
					t.Fatalf("introspect a bound token: %d %s", in.status, in.body)
				}
			}
			// Without DPoP nothing changes for other clients.
			a := e.post(t, "/authority-token", cc, formCT, basic(plainID, plainSecret))
			if a.status != 200 || a.json["token_type"] != "Bearer" {
				t.Fatalf("plain client: %d %s", a.status, a.body)
			}
			in := e.post(t, "/oauth2/introspect", url.Values{"token": {a.json["access_token"].(string)}}.Encode(), formCT, basic(plainID, plainSecret))
			if _, has := in.json["cnf"]; has || in.json["token_type"] != "Bearer" {
				t.Fatalf("introspect an unbound token: %s", in.body)
			}
		})
	}
}

// TestDPoPBoundUserTokens: /login with a proof returns DPoP-bound tokens;
// the resource endpoints take them only under the DPoP scheme with a
// proof of the same key carrying the token's ath; a bound token as Bearer,
// with another key's proof, or with a wrong ath is 401 with a DPoP
// challenge (SEC-63); the bound refresh token needs a proof of its key.
// Both backends.
func TestDPoPBoundUserTokens(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newOAuthEnv(t, backend, "0")
			const email = "bound@example.com"
			signup(t, e.Handler, email)
			s, thief := newProofSigner(t), newProofSigner(t)
			creds := jsonBody(map[string]string{"email": email, "password": testPassword})
			a := e.post(t, "/login", creds, "application/json", withDPoP(e.proofFor(t, s, "POST", "/login", "")))
			if a.status != 200 || a.json["token_type"] != "DPoP" {
				t.Fatalf("login with a proof: %d %s", a.status, a.body)
			}
			access, refresh := a.json["access_token"].(string), a.json["refresh_token"].(string)
			if c, err := e.Tokens.VerifyAccess(context.Background(), access, ""); err != nil || c.JKT != s.JKT() {
				t.Fatalf("login token cnf.jkt = %q %v", c.JKT, err)
			}
			if a := e.post(t, "/login", creds, "application/json", withDPoP("x.y.z")); a.status != 400 {
				t.Fatalf("login with a bad proof: %d %s", a.status, a.body)
			}

			cases := []struct {
				name   string
				method string
				path   string
				edit   func(*http.Request)
				want   int
			}{
				{"DPoP with its key", "GET", "/me", withDPoP(e.proofFor(t, s, "GET", "/me", access), dpopAuth(access)), 200},
				{"userinfo with its key", "GET", "/userinfo", withDPoP(e.proofFor(t, s, "GET", "/userinfo", access), dpopAuth(access)), 200},
				{"as Bearer", "GET", "/me", bearer(access), 401},
				{"userinfo as Bearer", "GET", "/userinfo", bearer(access), 401},
				{"as Bearer with a proof", "GET", "/me", withDPoP(e.proofFor(t, s, "GET", "/me", access), bearer(access)), 401},
				{"DPoP without a proof", "GET", "/me", dpopAuth(access), 401},
				{"another key's proof", "GET", "/me", withDPoP(e.proofFor(t, thief, "GET", "/me", access), dpopAuth(access)), 401},
				{"wrong ath", "GET", "/me", withDPoP(e.proofFor(t, s, "GET", "/me", "another-token"), dpopAuth(access)), 401},
				{"no ath", "GET", "/me", withDPoP(e.proofFor(t, s, "GET", "/me", ""), dpopAuth(access)), 401},
				{"proof for another path", "GET", "/me", withDPoP(e.proofFor(t, s, "GET", "/userinfo", access), dpopAuth(access)), 401},
			}
			for _, c := range cases {
				a := e.do(t, c.method, c.path, "", "", c.edit)
				if a.status != c.want {
					t.Errorf("%s: %d %s, want %d", c.name, a.status, a.body, c.want)
					continue
				}
				if c.want == 401 && !strings.HasPrefix(a.header.Get("WWW-Authenticate"), `DPoP error="invalid_token"`) {
					t.Errorf("%s: WWW-Authenticate = %q", c.name, a.header.Get("WWW-Authenticate"))
				}
			}

			// An unbound token under the DPoP scheme is refused as well.
			plainAccess, _ := login(t, e.Handler, email, testPassword)
			if a := e.do(t, "GET", "/me", "", "", withDPoP(e.proofFor(t, s, "GET", "/me", plainAccess), dpopAuth(plainAccess))); a.status != 401 {
				t.Fatalf("unbound token as DPoP: %d", a.status)
			}
			if a := e.do(t, "GET", "/me", "", "", bearer(plainAccess)); a.status != 200 {
				t.Fatalf("unbound token as Bearer: %d %s", a.status, a.body)
			}

			// The refresh token is bound too: no proof, or the thief's, is
			// refused without burning it; the owner's proof rotates it.
			body := jsonBody(map[string]string{"refresh_token": refresh})
			for name, edit := range map[string]func(*http.Request){
				"no proof":      nil,
				"another key's": withDPoP(e.proofFor(t, thief, "POST", "/refresh", "")),
			} {
				if a := e.post(t, "/refresh", body, "application/json", edit); a.status != 401 {
					t.Fatalf("refresh with %s proof: %d %s", name, a.status, a.body)
				}
			}
			a = e.post(t, "/refresh", body, "application/json", withDPoP(e.proofFor(t, s, "POST", "/refresh", "")))
			if a.status != 200 || a.json["token_type"] != "DPoP" {
				t.Fatalf("refresh with its key: %d %s", a.status, a.body)
			}
			next := a.json["refresh_token"].(string)
			if a := e.post(t, "/refresh", jsonBody(map[string]string{"refresh_token": next}), "application/json", nil); a.status != 401 {
				t.Fatalf("rotated refresh token lost its binding: %d", a.status)
			}
			access = a.json["access_token"].(string)
			a = e.do(t, "POST", "/logout", "", "", withDPoP(e.proofFor(t, s, "POST", "/logout", access), dpopAuth(access)))
			if a.status != 200 {
				t.Fatalf("logout with DPoP: %d %s", a.status, a.body)
			}
		})
	}
}

// TestDPoPDiscoveryAndChallenge: discovery lists the proof algorithms,
// the same as the DPoP challenge names.
func TestDPoPDiscoveryAndChallenge(t *testing.T) {
	e := newOAuthEnv(t, "sqlite+memory", "0")
	a := e.do(t, "GET", "/.well-known/openid-configuration", "", "", nil)
	var got []string
	for _, v := range a.json["dpop_signing_alg_values_supported"].([]any) {
		got = append(got, v.(string))
	}
	if !slices.Equal(got, keys.DPoPAlgs()) || !strings.Contains(dpopChallenge, `algs="`+strings.Join(got, " ")+`"`) {
		t.Fatalf("discovery algs %v, challenge %q", got, dpopChallenge)
	}
}

// TestRotateSecretAPI: POST /clients/{id}/secret rotates a client the user
// registered: the old secret keeps working for the grace, the new one at
// once; grace 0s ends the old one; other users' and the operators'
// clients are 404 (SEC-64; expiry at the exact instant is
// provider.TestSecretRotationGrace, on a fake clock).
func TestRotateSecretAPI(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newOAuthEnv(t, backend, "0")
			signup(t, e.Handler, "owner@rot.example")
			signup(t, e.Handler, "other@rot.example")
			owner, _ := login(t, e.Handler, "owner@rot.example", testPassword)
			other, _ := login(t, e.Handler, "other@rot.example", testPassword)
			created := e.post(t, "/clients", `{"name":"app"}`, "application/json", bearer(owner))
			if created.status != 201 {
				t.Fatalf("create: %d %s", created.status, created.body)
			}
			id, oldSecret := created.json["client_id"].(string), created.json["client_secret"].(string)
			opsID, _ := e.client(t, provider.ClientSpec{Domain: "rot.example"})
			cc := url.Values{"grant_type": {"client_credentials"}}.Encode()
			works := func(secret string) bool {
				return e.post(t, "/authority-token", cc, formCT, func(r *http.Request) { r.SetBasicAuth(id, secret) }).status == 200
			}

			a := e.post(t, "/clients/"+id+"/secret", `{"grace":"24h"}`, "application/json", bearer(owner))
			if a.status != 200 || a.json["client_id"] != id {
				t.Fatalf("rotate: %d %s", a.status, a.body)
			}
			newSecret := a.json["client_secret"].(string)
			exp, err := time.Parse(time.RFC3339, a.json["previous_secret_expires_at"].(string))
			if err != nil || time.Until(exp) < 23*time.Hour || time.Until(exp) > 25*time.Hour {
				t.Fatalf("previous_secret_expires_at = %v (%v)", a.json["previous_secret_expires_at"], err)
			}
			if !works(oldSecret) || !works(newSecret) {
				t.Fatal("during the grace both secrets must work")
			}
			if l := e.do(t, "GET", "/clients", "", "", bearer(owner)); strings.Contains(string(l.body), newSecret) {
				t.Fatal("a secret is shown again")
			}

			a = e.post(t, "/clients/"+id+"/secret", `{"grace":"0s"}`, "application/json", bearer(owner))
			if a.status != 200 {
				t.Fatalf("rotate with grace 0: %d %s", a.status, a.body)
			}
			if works(newSecret) || works(oldSecret) || !works(a.json["client_secret"].(string)) {
				t.Fatal("after grace 0 only the newest secret may work")
			}

			for _, c := range []struct {
				name, id, body, tok string
				want                int
			}{
				{"another user's client", id, `{}`, other, 404},
				{"the operators' client", opsID, `{}`, owner, 404},
				{"unknown client", "nope", `{}`, owner, 404},
				{"bad grace", id, `{"grace":"soon"}`, owner, 400},
				{"negative grace", id, `{"grace":"-1h"}`, owner, 400},
				{"unknown field", id, `{"grace":"1h","x":1}`, owner, 400},
				{"no token", id, `{}`, "", 401},
			} {
				edit := bearer(c.tok)
				if c.tok == "" {
					edit = nil
				}
				if a := e.post(t, "/clients/"+c.id+"/secret", c.body, "application/json", edit); a.status != c.want {
					t.Errorf("%s: %d %s, want %d", c.name, a.status, a.body, c.want)
				}
			}
		})
	}
}

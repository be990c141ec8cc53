package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"user-registry/keys"
	"user-registry/provider"
)

// checkLogoutToken verifies a logout token the way an app would: jwx
// against our published JWKS, typ logout+jwt, iss, aud, the back-channel
// event, the session's sid and user, and no nonce.
func (e *logoutEnv) checkLogoutToken(t testing.TB, tok, clientID, sid, sub string) {
	t.Helper()
	resp, err := http.Get(e.Server.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	set, err := jwk.ParseReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := jws.Parse([]byte(tok))
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	if typ := msg.Signatures()[0].ProtectedHeaders().Type(); typ != keys.TypeLogout {
		t.Fatalf("typ = %q", typ)
	}
	parsed, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set), jwt.WithClock(jwt.ClockFunc(e.clk.Now)),
		jwt.WithIssuer(e.Config.Issuer), jwt.WithAudience(clientID), jwt.WithSubject(sub))
	if err != nil {
		t.Fatalf("logout token does not verify: %v", err)
	}
	m, _ := parsed.AsMap(context.Background())
	ev, _ := m["events"].(map[string]any)
	if _, ok := ev["http://schemas.openid.net/event/backchannel-logout"]; !ok {
		t.Fatalf("events = %v", m["events"])
	}
	if _, ok := m["nonce"]; ok {
		t.Fatal("logout token carries a nonce")
	}
	if m["sid"] != sid || m["jti"] == "" || parsed.IssuedAt().IsZero() {
		t.Fatalf("claims %v, want sid %q", m, sid)
	}
}

// idTokenSID returns the sid and sub of an ID token (verified).
func (e *logoutEnv) idTokenSID(t testing.TB, a answer, clientID string) (sid, sub string) {
	t.Helper()
	c, err := e.Tokens.VerifyID(context.Background(), a.json["id_token"].(string), clientID)
	if err != nil {
		t.Fatal(err)
	}
	return c.SID, c.Subject
}

// TestBackchannelLogoutEveryWay: for each way a session ends (SPEC §12),
// the app registered for back-channel logout that got tokens in the
// browser session receives exactly one verified logout token naming the
// ID token's sid; the app without a back-channel URI gets nothing; the
// browser session and the app's tokens are dead.
func TestBackchannelLogoutEveryWay(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newLogoutEnv(t, backend)
			rcv := newReceiver(t)
			ctx := context.Background()
			admin := provider.AllUsers
			ways := []struct {
				name string
				end  func(t *testing.T, b *pageClient, email string, app answer)
			}{
				{"page logout", func(t *testing.T, b *pageClient, _ string, _ answer) {
					if p := b.submit("/account", "/logout", url.Values{}); p.status != http.StatusSeeOther {
						t.Fatalf("logout = %d", p.status)
					}
				}},
				{"logout API with the app's token", func(t *testing.T, _ *pageClient, _ string, app answer) {
					if a := e.post(t, "/logout", "", "", bearer(app.json["access_token"].(string))); a.status != 200 {
						t.Fatalf("/logout = %d %s", a.status, a.body)
					}
				}},
				{"logout everywhere", func(t *testing.T, _ *pageClient, email string, _ answer) {
					access, _ := login(t, e.Handler, email, pagePassword)
					if a := e.post(t, "/logout/all", "", "", bearer(access)); a.status != 200 {
						t.Fatalf("/logout/all = %d %s", a.status, a.body)
					}
				}},
				{"password change", func(t *testing.T, _ *pageClient, email string, _ answer) {
					access, _ := login(t, e.Handler, email, pagePassword)
					body := jsonBody(map[string]string{"current_password": pagePassword, "new_password": "another-Passw0rd!"})
					if a := e.post(t, "/password", body, "application/json", bearer(access)); a.status != 200 {
						t.Fatalf("/password = %d %s", a.status, a.body)
					}
				}},
				{"password reset", func(t *testing.T, _ *pageClient, email string, _ answer) {
					if err := e.lifecycle.ForgotPassword(ctx, email); err != nil {
						t.Fatal(err)
					}
					if _, err := e.lifecycle.ResetPassword(ctx, e.mails.resetToken(t), "reset-Passw0rd!"); err != nil {
						t.Fatal(err)
					}
				}},
				{"account deletion", func(t *testing.T, _ *pageClient, email string, _ answer) {
					access, _ := login(t, e.Handler, email, pagePassword)
					body := jsonBody(map[string]string{"password": pagePassword})
					if a := e.do(t, http.MethodDelete, "/me", body, "application/json", bearer(access)); a.status != 204 {
						t.Fatalf("DELETE /me = %d %s", a.status, a.body)
					}
				}},
				{"admin disable", func(t *testing.T, _ *pageClient, email string, _ answer) {
					if _, err := e.userAdmin.SetDisabled(ctx, admin, email, true); err != nil {
						t.Fatal(err)
					}
				}},
				{"admin logout", func(t *testing.T, _ *pageClient, email string, _ answer) {
					if err := e.userAdmin.Logout(ctx, admin, email); err != nil {
						t.Fatal(err)
					}
				}},
				{"refresh-token reuse", func(t *testing.T, _ *pageClient, _ string, app answer) {
					rt := app.json["refresh_token"].(string)
					id := app.json["client_id"].(string)
					refresh := func() answer {
						return e.post(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode(),
							"application/x-www-form-urlencoded", func(r *http.Request) { r.SetBasicAuth(id, app.json["secret"].(string)) })
					}
					if a := refresh(); a.status != 200 {
						t.Fatalf("first refresh = %d %s", a.status, a.body)
					}
					if a := refresh(); a.status != 400 {
						t.Fatalf("reused refresh = %d %s", a.status, a.body)
					}
				}},
				{"RP-initiated logout", func(t *testing.T, b *pageClient, _ string, app answer) {
					p := b.get("/oauth2/logout?" + url.Values{"id_token_hint": {app.json["id_token"].(string)}}.Encode())
					if p.status != http.StatusOK || !strings.Contains(p.body, "You are signed out") {
						t.Fatalf("logout = %d %s", p.status, p.body)
					}
				}},
			}
			for i, w := range ways {
				t.Run(w.name, func(t *testing.T) {
					email := strings.ReplaceAll(w.name, " ", "-") + "@bc.example"
					email = strings.ReplaceAll(email, "'", "")
					pageCreateUser(t, e.testEnv, email, pagePassword)
					withBC, secret := e.codeClient(t, provider.ClientSpec{Name: "BC app " + w.name, BackchannelLogoutURI: rcv.URL + "/bc/" + string(rune('a'+i))})
					plain, plainSecret := e.codeClient(t, provider.ClientSpec{Name: "Plain app " + w.name})
					b := newPageClient(t, e.testEnv)
					b.signIn(email, pagePassword)
					app := e.signedInApp(t, b, withBC, secret)
					other := e.signedInApp(t, b, plain, plainSecret)
					app.json["client_id"], app.json["secret"] = withBC, secret
					sid, sub := e.idTokenSID(t, app, withBC)
					if otherSID, _ := e.idTokenSID(t, other, plain); otherSID != sid {
						t.Fatalf("sid %q for one app, %q for the other: one browser session, one sid", sid, otherSID)
					}
					before := len(rcv.got())

					w.end(t, b, email, app)
					e.deliver(t)

					got := rcv.got()[before:]
					if len(got) != 1 {
						t.Fatalf("receiver got %d logout tokens, want 1", len(got))
					}
					e.checkLogoutToken(t, got[0], withBC, sid, sub)
					if e.accessValid(app.json["access_token"].(string)) || e.accessValid(other.json["access_token"].(string)) {
						t.Fatal("an access token of the ended session still verifies")
					}
					if p := b.get("/account"); p.status != http.StatusSeeOther || p.location() != "/login" {
						t.Fatalf("browser session still signed in: GET /account = %d %q", p.status, p.location())
					}
					// Ending it again tells nobody twice.
					if err := e.logouts.End(ctx, sid, sub, time.Time{}); err != nil {
						t.Fatal(err)
					}
					if n := e.deliver(t); n != 0 {
						t.Fatalf("%d more deliveries after a second end", n)
					}
				})
			}
		})
	}
}

// TestBackchannelRetries: a receiver answering 500 twice gets the third
// try, 5 s and then 10 s later on the injected clock; nothing is sent
// before it is due, nothing after it was accepted.
func TestBackchannelRetries(t *testing.T) {
	e := newLogoutEnv(t, "sqlite+memory")
	rcv := newReceiver(t, 500, 500)
	id, secret := e.codeClient(t, provider.ClientSpec{BackchannelLogoutURI: rcv.URL})
	b := e.browser(t)
	app := e.signedInApp(t, b, id, secret)
	sid, sub := e.idTokenSID(t, app, id)
	if p := b.submit("/account", "/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("logout = %d", p.status)
	}
	steps := []struct {
		advance time.Duration
		tries   int
	}{
		{0, 1},               // at once
		{4 * time.Second, 1}, // not due yet
		{time.Second, 2},     // 5 s after the first failure
		{9 * time.Second, 2}, // not due
		{time.Second, 3},     // 10 s after the second: accepted
		{time.Hour, 3},       // nothing left
	}
	for i, s := range steps {
		e.clk.Advance(s.advance)
		e.deliver(t)
		got := rcv.got()
		if len(got) != s.tries {
			t.Fatalf("step %d: %d tries, want %d", i, len(got), s.tries)
		}
		if s.advance < time.Hour {
			e.checkLogoutToken(t, got[len(got)-1], id, sid, sub)
		}
	}
}

// TestBackchannelResigns: a retry after the token's exp sends a freshly
// signed token with the same jti.
func TestBackchannelResigns(t *testing.T) {
	e := newLogoutEnv(t, "sqlite+memory")
	rcv := newReceiver(t, 503)
	id, secret := e.codeClient(t, provider.ClientSpec{BackchannelLogoutURI: rcv.URL})
	b := e.browser(t)
	app := e.signedInApp(t, b, id, secret)
	sid, sub := e.idTokenSID(t, app, id)
	if p := b.submit("/account", "/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("logout = %d", p.status)
	}
	e.deliver(t)
	e.clk.Advance(keys.LogoutTokenTTL + time.Minute)
	e.deliver(t)
	got := rcv.got()
	if len(got) != 2 {
		t.Fatalf("%d tries, want 2", len(got))
	}
	e.checkLogoutToken(t, got[1], id, sid, sub)
	first, _ := jwt.ParseInsecure([]byte(got[0]))
	second, _ := jwt.ParseInsecure([]byte(got[1]))
	if first.JwtID() != second.JwtID() || !second.IssuedAt().After(first.IssuedAt()) {
		t.Fatalf("re-signed token: jti %q → %q, iat %v → %v", first.JwtID(), second.JwtID(), first.IssuedAt(), second.IssuedAt())
	}
}

// TestLogoutRetryDelay: 5 s, 10 s, 20 s … doubling, at most 1 h.
func TestLogoutRetryDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second,
		10: 2560 * time.Second, 11: time.Hour, 40: time.Hour} {
		if got := provider.LogoutRetryDelay(n); got != want {
			t.Errorf("delay after %d failures = %v, want %v", n, got, want)
		}
	}
}

// TestBackchannelHangingReceiver: a receiver that never answers holds up
// neither users' logouts (one returns while the worker is blocked in the
// receiver: delivery is off the request path) nor the worker beyond its
// attempt timeout, after which the delivery is rescheduled, not lost. Run
// stops cleanly when its context ends.
func TestBackchannelHangingReceiver(t *testing.T) {
	e := newLogoutEnv(t, "sqlite+memory")
	rcv := newReceiver(t)
	rcv.release = make(chan struct{})
	defer close(rcv.release)
	id, secret := e.codeClient(t, provider.ClientSpec{BackchannelLogoutURI: rcv.URL})
	first, second := e.browser(t), e.browser(t)
	e.signedInApp(t, first, id, secret)
	e.signedInApp(t, second, id, secret)
	bc, err := provider.NewBackchannel(provider.BackchannelDeps{Store: e.eph, Tokens: e.Tokens, Now: e.clk.Now,
		Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	if p := first.submit("/account", "/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("first logout = %d", p.status)
	}
	attempted := make(chan int, 1)
	go func() {
		n, _ := bc.DeliverDue(context.Background())
		attempted <- n
	}()
	<-rcv.entered // the worker is inside the receiver, which does not answer
	if p := second.submit("/account", "/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("second logout = %d", p.status)
	}
	select {
	case <-attempted:
		t.Fatal("the worker finished while the receiver still held the request")
	default:
	}
	if n := <-attempted; n != 1 { // returns by its attempt timeout
		t.Fatalf("attempted %d", n)
	}
	due, err := e.eph.ClaimLogouts(context.Background(), e.clk.Now().Add(time.Hour), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	attempts := map[int]int{}
	for _, d := range due {
		attempts[d.Attempts]++
	}
	if attempts[1] != 1 || attempts[0] != 1 {
		t.Fatalf("queue after a hanging attempt: %+v", due)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { bc.Run(ctx); close(done) }()
	cancel()
	<-done
}

// TestCodeOfEndedSession: a code issued by a browser session that has
// ended since is refused: no tokens are born into an ended session.
func TestCodeOfEndedSession(t *testing.T) {
	e := newLogoutEnv(t, "sqlite+memory")
	rcv := newReceiver(t)
	id, secret := e.codeClient(t, provider.ClientSpec{BackchannelLogoutURI: rcv.URL})
	b := e.browser(t)
	v, _ := pkce()
	code := b.getCode(authParams(id, flowRedirect, v))
	if p := b.submit("/account", "/logout", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("logout = %d", p.status)
	}
	a := e.exchange(t, id, secret, url.Values{"code": {code}, "redirect_uri": {flowRedirect}, "code_verifier": {v}})
	flowWantError(t, "exchange after logout", a, http.StatusBadRequest, "invalid_grant")
	// The refused exchange recorded the client: nothing is sent for a
	// session that had already ended and told its clients.
	if err := e.Accounts.LogoutAll(context.Background(), e.userID(t)); err != nil {
		t.Fatal(err)
	}
	e.deliver(t)
	if got := rcv.got(); len(got) != 0 {
		t.Fatalf("%d logout tokens for a client that never got tokens", len(got))
	}
}

// userID is the id of the env's user.
func (e *logoutEnv) userID(t testing.TB) string {
	t.Helper()
	u, err := e.userAdmin.Show(context.Background(), provider.AllUsers, e.email)
	if err != nil {
		t.Fatal(err)
	}
	return u.UserID
}

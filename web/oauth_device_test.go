package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"user-registry/provider"
)

var deviceUserCodeRE = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// TestDeviceGrantHTTP runs the device flow over HTTP on every backend:
// the device authorization endpoint, the polls (the first always pending,
// slow_down, pending), approval on the /device page with the code typed in
// lower case without its dash, the tokens once, then invalid_grant.
func TestDeviceGrantHTTP(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newDeviceEnv(t, backend, provider.DefaultDeviceCodeLimit)
			id := e.deviceClient(t)
			status, body, h := e.oauthPost(t, "/oauth2/device_authorization",
				url.Values{"client_id": {id}, "scope": {"openid email offline_access"}})
			userCode, _ := body["user_code"].(string)
			deviceCode, _ := body["device_code"].(string)
			switch {
			case status != http.StatusOK || h.Get("Cache-Control") != "no-store":
				t.Fatalf("device authorization = %d %v %q", status, body, h.Get("Cache-Control"))
			case !deviceUserCodeRE.MatchString(userCode) || len(deviceCode) < 43:
				t.Fatalf("codes %q %q", userCode, deviceCode)
			case body["verification_uri"] != e.Server.URL+"/device" ||
				body["verification_uri_complete"] != e.Server.URL+"/device?user_code="+userCode:
				t.Fatalf("verification URIs %v %v", body["verification_uri"], body["verification_uri_complete"])
			case body["expires_in"] != float64(600) || body["interval"] != float64(5):
				t.Fatalf("expires_in %v interval %v", body["expires_in"], body["interval"])
			}

			e.wantPoll(t, id, deviceCode, "authorization_pending")
			slow := e.wantPoll(t, id, deviceCode, "slow_down") // no time passed
			if !strings.Contains(slow["error_description"].(string), "5 seconds") {
				t.Errorf("slow_down description %v", slow["error_description"])
			}
			e.clock.Advance(10 * time.Second) // the interval grew to 10 s
			e.wantPoll(t, id, deviceCode, "authorization_pending")

			b := e.browser(t)
			typed := strings.ToLower(strings.ReplaceAll(userCode, "-", ""))
			done := e.decide(t, b, typed, "approve")
			pageWantStatus(t, "approve", done, http.StatusOK)
			pageWantBody(t, "approve", done, "Device connected")

			e.clock.Advance(10 * time.Second)
			tok := e.wantPoll(t, id, deviceCode, "")
			access, _ := tok["access_token"].(string)
			claims := e.verifyAccess(t, access)
			if claims.ClientID != id || claims.Email != e.email || claims.Scope != "openid email offline_access" {
				t.Errorf("access token claims %+v", claims)
			}
			idTok, _ := tok["id_token"].(string)
			idc, err := e.Tokens.VerifyID(context.Background(), idTok, id)
			if err != nil || idc.Subject != claims.Subject || idc.Email != e.email || idc.SID == "" {
				t.Errorf("id token %+v %v", idc, err)
			}
			// The approving browser session's sign-in: amr/acr (SPEC §10),
			// and its sid, not the tokens' family (SPEC §12).
			if fmt.Sprint(idc.AMR) != "[pwd]" || idc.ACR != "pwd" || fmt.Sprint(claims.AMR) != "[pwd]" || claims.ACR != "pwd" {
				t.Errorf("amr/acr: id token %v %q, access token %v %q", idc.AMR, idc.ACR, claims.AMR, claims.ACR)
			}
			if idc.SID == claims.SID {
				t.Errorf("id token sid %q names the token family, not the browser session", idc.SID)
			}
			if tok["token_type"] != "Bearer" || tok["refresh_token"] == nil || tok["scope"] != "openid email offline_access" {
				t.Errorf("token response %v", tok)
			}

			// Redeemed once: every later poll is invalid_grant.
			e.wantPoll(t, id, deviceCode, "invalid_grant")
			e.clock.Advance(time.Minute)
			e.wantPoll(t, id, deviceCode, "invalid_grant")

			// The refresh token renews at the token endpoint.
			status, body, _ = e.oauthPost(t, "/oauth2/token", url.Values{"grant_type": {"refresh_token"},
				"client_id": {id}, "refresh_token": {tok["refresh_token"].(string)}})
			if status != http.StatusOK || body["access_token"] == nil {
				t.Errorf("refresh = %d %v", status, body)
			}
		})
	}
}

// TestDeviceGrantDeniedAndExpired: a denial is access_denied at the next
// poll; a code left alone for 10 minutes is expired_token, and its user
// code is refused on the page.
func TestDeviceGrantDeniedAndExpired(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newDeviceEnv(t, backend, provider.DefaultDeviceCodeLimit)
			id := e.deviceClient(t)
			b := e.browser(t)

			deviceCode, userCode := e.startDevice(t, id, "openid")
			e.wantPoll(t, id, deviceCode, "authorization_pending")
			denied := e.decide(t, b, userCode, "deny")
			pageWantStatus(t, "deny", denied, http.StatusOK)
			pageWantBody(t, "deny", denied, "Request denied")
			e.clock.Advance(5 * time.Second)
			e.wantPoll(t, id, deviceCode, "access_denied")

			deviceCode, userCode = e.startDevice(t, id, "openid")
			e.wantPoll(t, id, deviceCode, "authorization_pending")
			e.clock.Advance(10 * time.Minute)
			e.wantPoll(t, id, deviceCode, "expired_token")
			page := b.get("/device?user_code=" + userCode)
			pageWantStatus(t, "expired user code", page, http.StatusBadRequest)
			pageWantBody(t, "expired user code", page, "not valid or has expired")
		})
	}
}

// TestDeviceAuthorizationRefusals: the endpoint and the grant refuse
// what they must, with RFC 6749 bodies.
func TestDeviceAuthorizationRefusals(t *testing.T) {
	e := newDeviceEnv(t, "sqlite+memory", provider.DefaultDeviceCodeLimit)
	id := e.deviceClient(t)
	codeOnly, _ := e.codeClient(t, provider.ClientSpec{Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}})
	conf, secret := e.client(t, provider.ClientSpec{Domain: "tv.example", GrantTypes: []string{provider.GrantDeviceCode}})
	deviceCode, _ := e.startDevice(t, id, "")

	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		status int
		code   string
	}{
		{"no device grant", "/oauth2/device_authorization", url.Values{"client_id": {codeOnly}}, 400, "unauthorized_client"},
		{"unknown client", "/oauth2/device_authorization", url.Values{"client_id": {"nobody"}}, 401, "invalid_client"},
		{"confidential without secret", "/oauth2/device_authorization", url.Values{"client_id": {conf}}, 401, "invalid_client"},
		{"wrong secret", "/oauth2/device_authorization", url.Values{"client_id": {conf}, "client_secret": {"nope"}}, 401, "invalid_client"},
		{"unknown scope", "/oauth2/device_authorization", url.Values{"client_id": {id}, "scope": {"openid registry:admin"}}, 400, "invalid_scope"},
		{"repeated scope", "/oauth2/device_authorization", url.Values{"client_id": {id}, "scope": {"openid", "email"}}, 400, "invalid_request"},
		{"no device_code", "/oauth2/token", url.Values{"grant_type": {provider.GrantDeviceCode}, "client_id": {id}}, 400, "invalid_request"},
		{"unknown device_code", "/oauth2/token", url.Values{"grant_type": {provider.GrantDeviceCode}, "client_id": {id},
			"device_code": {"nope"}}, 400, "invalid_grant"},
		{"another client's device_code", "/oauth2/token", url.Values{"grant_type": {provider.GrantDeviceCode},
			"client_id": {conf}, "client_secret": {secret}, "device_code": {deviceCode}}, 400, "invalid_grant"},
		{"client without the grant", "/oauth2/token", url.Values{"grant_type": {provider.GrantDeviceCode},
			"client_id": {codeOnly}, "device_code": {deviceCode}}, 400, "unauthorized_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := e.oauthPost(t, tc.path, tc.form)
			if status != tc.status || body["error"] != tc.code {
				t.Errorf("= %d %v, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}
	// A confidential client authenticates as at the token endpoint.
	status, body, _ := e.oauthPost(t, "/oauth2/device_authorization", url.Values{"client_id": {conf}, "client_secret": {secret}})
	if status != http.StatusOK || body["device_code"] == nil {
		t.Errorf("confidential client = %d %v", status, body)
	}
	// The refused polls above recorded nothing: the first poll of the
	// device code's own client is still authorization_pending.
	e.wantPoll(t, id, deviceCode, "authorization_pending")

	resp, err := http.Get(e.Server.URL + "/oauth2/device_authorization")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestDevicePageSignedOut: enter the code signed out (prefilled from
// verification_uri_complete), sign in, come back to the consent page;
// every form needs its CSRF token.
func TestDevicePageSignedOut(t *testing.T) {
	e := newDeviceEnv(t, "sqlite+memory", provider.DefaultDeviceCodeLimit)
	id := e.deviceClient(t)
	deviceCode, userCode := e.startDevice(t, id, "openid email")
	b := newPageClient(t, e.testEnv)

	entry := b.get("/device?user_code=" + userCode)
	pageWantStatus(t, "entry form", entry, http.StatusOK)
	pageWantBody(t, "entry form", entry, `id="device-form"`, `value="`+userCode+`"`)

	pageWantStatus(t, "entry without CSRF", b.post("/device", url.Values{"user_code": {userCode}}), http.StatusForbidden)
	typed := strings.ToLower(userCode)
	toLogin := b.post("/device", url.Values{csrfField: {scrapeCSRF(t, entry.body)}, "user_code": {typed}})
	wantNext := "/device?user_code=" + userCode
	if toLogin.status != http.StatusSeeOther || toLogin.location() != "/login?next="+url.QueryEscape(wantNext) {
		t.Fatalf("entry signed out = %d → %q", toLogin.status, toLogin.location())
	}
	signedIn := b.submit(toLogin.location(), "/login", url.Values{"email": {e.email}, "password": {pagePassword}, "next": {wantNext}})
	if signedIn.status != http.StatusSeeOther || signedIn.location() != wantNext {
		t.Fatalf("login = %d → %q", signedIn.status, signedIn.location())
	}
	consent := b.get(signedIn.location())
	pageWantStatus(t, "consent", consent, http.StatusOK)
	pageWantBody(t, "consent", consent, "Living Room TV", userCode, "See your email address", `id="device-approve"`)

	pageWantStatus(t, "consent without CSRF", b.post("/device/consent",
		url.Values{"user_code": {userCode}, "action": {"approve"}}), http.StatusForbidden)
	pageWantStatus(t, "consent without action", b.post("/device/consent",
		url.Values{csrfField: {scrapeCSRF(t, consent.body)}, "user_code": {userCode}}), http.StatusBadRequest)
	e.wantPoll(t, id, deviceCode, "authorization_pending") // nothing decided yet
	done := b.post("/device/consent", url.Values{csrfField: {scrapeCSRF(t, consent.body)}, "user_code": {userCode}, "action": {"approve"}})
	pageWantBody(t, "approved", done, "Device connected")
	// The code is spent: deciding again is a wrong code.
	again := b.post("/device/consent", url.Values{csrfField: {scrapeCSRF(t, consent.body)}, "user_code": {userCode}, "action": {"deny"}})
	pageWantStatus(t, "second decision", again, http.StatusBadRequest)
	e.clock.Advance(5 * time.Second)
	e.wantPoll(t, id, deviceCode, "")
}

// TestDeviceWrongCodeFlood: wrong user codes from one address are limited
// (429 with Retry-After), on every backend; then even a right code waits.
func TestDeviceWrongCodeFlood(t *testing.T) {
	for _, backend := range backendsUnderTest(t) {
		t.Run(backend, func(t *testing.T) {
			e := newDeviceEnv(t, backend, "5/15m")
			_, userCode := e.startDevice(t, e.deviceClient(t), "openid")
			b := e.browser(t)
			form := b.get("/device")
			csrf := scrapeCSRF(t, form.body)
			// A right code does not count.
			pageWantStatus(t, "right code", b.post("/device", url.Values{csrfField: {csrf}, "user_code": {userCode}}), http.StatusOK)
			for i, wrong := range []string{"BBBB-BBBB", "CCCCCCCC", "dddd-dddd", "not a code at all", "FFFF-FFFF"} {
				p := b.post("/device", url.Values{csrfField: {csrf}, "user_code": {wrong}})
				pageWantStatus(t, "wrong code "+wrong, p, http.StatusBadRequest)
				if i == 0 {
					pageWantBody(t, "wrong code", p, "not valid or has expired", `id="device-form"`)
				}
			}
			for _, code := range []string{"GGGG-GGGG", userCode} {
				p := b.post("/device", url.Values{csrfField: {csrf}, "user_code": {code}})
				pageWantStatus(t, "over the limit: "+code, p, http.StatusTooManyRequests)
				if p.header.Get("Retry-After") == "" {
					t.Errorf("429 without Retry-After")
				}
			}
			pageWantStatus(t, "link over the limit", b.get("/device?user_code="+userCode), http.StatusTooManyRequests)
		})
	}
}

func TestSafeNextDevice(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"/device?user_code=BCDF-GHJK", "/device?user_code=BCDF-GHJK", true},
		{"/device", "/device", true},
		{"/devices", "", false},
		{"/device/consent", "", false},
		{"//evil.com/device", "", false},
		{"https://evil.com/device", "", false},
	} {
		if got, ok := safeNext(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("safeNext(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

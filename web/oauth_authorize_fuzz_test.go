package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"user-registry/provider"
)

// FuzzAuthorizeQuery sends arbitrary query strings to GET /oauth2/authorize
// (SEC-42), signed in and signed out, through the real handler. "{trusted}"
// and "{public}" in the query stand for the ids of a trusted confidential
// client and an untrusted public one, so the fuzzer reaches past client
// lookup. Every answer must be one of:
//   - 400 error page, no redirect;
//   - 200 consent page, only when signed in;
//   - 303 to the login page, only when signed out;
//   - 303 to the redirect_uri the request sent, only when that URI is
//     registered for the client it names (exactly, or a loopback URI on
//     another port for the public client), carrying either a code (signed
//     in only) or an error, and the request's state unchanged.
//
// Never a 5xx, and always Cache-Control: no-store.
func FuzzAuthorizeQuery(f *testing.F) {
	v := "verifier-" + strings.Repeat("x", 40)
	good := authParams("{trusted}", flowRedirect, v)
	pub := authParams("{public}", "http://127.0.0.1:53117/cb", v)
	pub.Set("scope", "openid")
	for _, q := range []string{
		good.Encode(), pub.Encode(),
		good.Encode() + "&prompt=none", good.Encode() + "&state=twice", good.Encode() + "&client_id=x",
		"client_id={public}&redirect_uri=http://127.0.0.1:0/cb&response_type=code&code_challenge_method=S256&code_challenge=" + provider.S256Challenge(v),
		"client_id={public}&redirect_uri=com.example.app:/cb&response_type=token",
		"client_id={trusted}&redirect_uri=https://evil.example/cb&response_type=code",
		"client_id={trusted}&redirect_uri=" + url.QueryEscape(flowRedirect) + "&response_type=code&scope=openid+admin&state=%00%ff",
		"client_id={trusted}&redirect_uri=" + url.QueryEscape(flowRedirect) + "&response_mode=fragment&response_type=code",
		"client_id=%zz", "", ";", strings.Repeat("a=b&", 1001),
	} {
		q = strings.NewReplacer("%7B", "{", "%7D", "}").Replace(q) // placeholders as typed
		f.Add(q, true)
		f.Add(q, false)
	}
	e := newFlowEnv(f, "sqlite+memory")
	trusted, _ := e.codeClient(f, provider.ClientSpec{Trusted: true})
	public, _ := e.codeClient(f, provider.ClientSpec{Public: true, Name: "Native",
		RedirectURIs: []string{"http://127.0.0.1/cb", "com.example.app:/cb"}})
	registered := map[string]func(string) bool{
		trusted: func(u string) bool { return u == flowRedirect },
		public: func(u string) bool {
			return u == "com.example.app:/cb" || u == "http://127.0.0.1/cb" || loopbackRedirectRE.MatchString(u) && validLoopbackPort(u)
		},
	}
	b := e.browser(f)
	base, _ := url.Parse(e.Server.URL)
	cookies := b.c.Jar.Cookies(base)
	f.Fuzz(func(t *testing.T, raw string, signedIn bool) {
		if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) {
			return // cannot be part of a request target
		}
		raw = strings.NewReplacer("{trusted}", trusted, "{public}", public).Replace(raw)
		req := httptest.NewRequest(http.MethodGet, "/oauth2/authorize", nil)
		req.URL.RawQuery = raw
		if signedIn {
			for _, c := range cookies {
				req.AddCookie(c)
			}
		}
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("%q: Cache-Control %q", raw, cc)
		}
		loc := rec.Header().Get("Location")
		switch {
		case rec.Code == http.StatusBadRequest && loc == "":
			return
		case rec.Code == http.StatusOK && signedIn && strings.Contains(rec.Body.String(), `name="authorize"`):
			return
		case rec.Code == http.StatusSeeOther && !signedIn && strings.HasPrefix(loc, "/login"):
			return
		case rec.Code != http.StatusSeeOther:
			t.Fatalf("signed in %v, %q: %d, Location %q", signedIn, raw, rec.Code, loc)
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("%q is malformed, yet redirected to %q", raw, loc)
		}
		sent := q.Get("redirect_uri")
		if ok := registered[q.Get("client_id")]; ok == nil || !ok(sent) {
			t.Fatalf("%q: redirected to %q, not a redirect URI registered for client %q", raw, loc, q.Get("client_id"))
		}
		checkClientRedirect(t, raw, loc, sent, q.Get("state"), signedIn)
	})
}

// loopbackRedirectRE is the public client's loopback redirect URI with any
// port (RFC 8252 §7.3); the scheme is case-insensitive.
var loopbackRedirectRE = regexp.MustCompile(`^(?i:http)://127\.0\.0\.1(:[0-9]+)?/cb$`)

func validLoopbackPort(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	n := 0
	for _, c := range p.Port() {
		if n = n*10 + int(c-'0'); n > 65535 {
			return false
		}
	}
	return p.Port() == "" || n > 0
}

// checkClientRedirect asserts that loc is the redirect URI sent, with its
// own query kept, plus either a code or an error, and state as sent.
func checkClientRedirect(t *testing.T, raw, loc, sent, state string, signedIn bool) {
	t.Helper()
	got, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("%q: Location %q does not parse", raw, loc)
	}
	want, _ := url.Parse(sent)
	if !strings.EqualFold(got.Scheme, want.Scheme) || got.Host != want.Host || got.Path != want.Path {
		t.Fatalf("%q: redirected to %q, not to the redirect_uri %q", raw, loc, sent)
	}
	gq := got.Query()
	for k, v := range want.Query() {
		if k != "state" && strings.Join(gq[k], "\x00") != strings.Join(v, "\x00") {
			t.Fatalf("%q: the redirect URI's own %s=%q became %q", raw, k, v, gq[k])
		}
	}
	hasCode, hasError := gq.Get("code") != "", gq.Get("error") != ""
	if hasCode == hasError || hasCode && !signedIn {
		t.Fatalf("signed in %v, %q: redirect %q must carry a code or an error", signedIn, raw, loc)
	}
	wantState := state
	if len(state) > 1024 {
		wantState = ""
	}
	if gq.Get("state") != wantState {
		t.Fatalf("%q: state %q came back as %q", raw, state, gq.Get("state"))
	}
}

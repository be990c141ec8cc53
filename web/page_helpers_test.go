package web

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"user-registry/provider"
)

// pageClient is a test client that behaves like a pageClient without scripts: a
// cookie jar, no automatic redirects (tests assert each 303), and form
// posts with the CSRF token scraped from the last pageResp.
type pageClient struct {
	t    testing.TB
	base string
	c    *http.Client
	// header is added to every request (e.g. Sec-Fetch-Site).
	header http.Header
}

func newPageClient(t testing.TB, env *testEnv) *pageClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &pageClient{t: t, base: env.Server.URL, header: http.Header{}, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// pageResp is one response with its body read.
type pageResp struct {
	status int
	header http.Header
	body   string
	resp   *http.Response
}

func (p pageResp) location() string { return p.header.Get("Location") }

func (b *pageClient) do(req *http.Request) pageResp {
	b.t.Helper()
	for k, v := range b.header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return pageResp{status: resp.StatusCode, header: resp.Header, body: string(body), resp: resp}
}

func (b *pageClient) get(path string) pageResp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends form as application/x-www-form-urlencoded.
func (b *pageClient) post(path string, form url.Values) pageResp {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// submit loads the pageResp at from, copies its CSRF token into form, and
// posts form to action, like a user filling the pageResp's form.
func (b *pageClient) submit(from, action string, form url.Values) pageResp {
	b.t.Helper()
	p := b.get(from)
	if p.status != http.StatusOK {
		b.t.Fatalf("GET %s = %d, want 200", from, p.status)
	}
	form.Set(csrfField, scrapeCSRF(b.t, p.body))
	return b.post(action, form)
}

var pageCSRFRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func scrapeCSRF(t testing.TB, body string) string {
	t.Helper()
	m := pageCSRFRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token in pageResp:\n%s", body)
	}
	return m[1]
}

// signIn signs a pageClient in through the login form and checks the 303.
func (b *pageClient) signIn(email, password string) {
	b.t.Helper()
	p := b.submit("/login", "/login", url.Values{"email": {email}, "password": {password}})
	if p.status != http.StatusSeeOther || p.location() != "/account" {
		b.t.Fatalf("login = %d → %q, want 303 → /account; body:\n%s", p.status, p.location(), p.body)
	}
}

// pageCreateUser signs a user up directly through the provider.
func pageCreateUser(t testing.TB, env *testEnv, email, password string) {
	t.Helper()
	if _, err := env.Accounts.Signup(context.Background(), provider.SignupInput{Email: email, Password: password}); err != nil {
		t.Fatalf("signup %s: %v", email, err)
	}
}

// pageSetCookies returns the response's Set-Cookie values by name.
func pageSetCookies(p pageResp) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range p.resp.Cookies() {
		out[c.Name] = c
	}
	return out
}

func pageWantStatus(t *testing.T, what string, p pageResp, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s = %d, want %d; body:\n%s", what, p.status, status, p.body)
	}
}

func pageWantBody(t *testing.T, what string, p pageResp, texts ...string) {
	t.Helper()
	for _, s := range texts {
		// html/template escapes some characters ("+" as &#43;); accept
		// the text either as written in the source or as displayed.
		if !strings.Contains(p.body, s) && !strings.Contains(html.UnescapeString(p.body), s) {
			t.Errorf("%s: body lacks %q:\n%s", what, s, p.body)
		}
	}
}

const pagePassword = "correct-horse-battery-9"

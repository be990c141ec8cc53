package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// The templates and the stylesheet are compiled into the binary, so a
// deployment is one file and pages cannot drift from the code.
//
//go:embed templates/*.html static/style.css static/passkeys.js
var pageFS embed.FS

// pageNames are the templates, each rendered inside layout.html.
var pageNames = []string{"login", "signup", "account", "message", "consent", "oauth_error", "forgot", "reset", "verify",
	"logout_confirm", "mfa", "mfa_setup", "recovery_codes"}

// pageTemplates holds one parsed template set per page.
type pageTemplates struct {
	byName   map[string]*template.Template
	cssQuery string // "?v=<hash>" so the long-cached stylesheet changes URL when it changes
}

// mustParseTemplates parses the embedded templates, linking the stylesheet
// css by its content hash. They are part of the binary, so a parse error is
// a build defect: it panics at New, which every test exercises, rather than
// at the first request.
func mustParseTemplates(css staticFile) *pageTemplates {
	t := &pageTemplates{byName: map[string]*template.Template{}, cssQuery: "?v=" + css.etag[1:13]}
	for _, name := range pageNames {
		t.byName[name] = template.Must(template.New("layout.html").ParseFS(pageFS, "templates/layout.html",
			"templates/mfa_parts.html", "templates/"+name+".html"))
	}
	return t
}

// pageData is what every page template sees. Fields a page does not use
// stay empty.
type pageData struct {
	Title    string
	CSSURL   string
	SignedIn bool
	CSRF     string // masked CSRF token for the page's forms
	Flash    string // success message
	Error    string // error message
	Next     string // pending /oauth2/authorize path (login, signup)

	// Form values and account details.
	Email        string
	Phone        string
	Discoverable bool
	// Message page.
	Heading, Body, LinkURL, LinkText string
	// Unverified shows the "verify your email" notice on the account
	// page; Token is the reset token in the reset form (page_lifecycle.go).
	Unverified bool
	Token      string
	// Consent page (oauth_consent.go).
	Consent *consentView
	// Device pages (page_device.go).
	Device *deviceView
	// Activity is the account page's "Recent activity" (page_account.go).
	Activity []activityRow
	// Logout is the logout confirmation form (oauth_logout.go).
	Logout *logoutView
	// MFA is what the second-factor parts show (page_mfa.go); never nil
	// on the account page.
	MFA *mfaView
	// Passkeys is true when passkeys are on; Script is then the URL of
	// passkeys.js on the pages that use it (login, mfa, account).
	Passkeys bool
	Script   string
}

// render writes the page with status. The page is rendered into a buffer
// first so a template failure becomes a clean 500, never half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	d.CSSURL = "/static/style.css" + s.pages.tmpl.cssQuery
	if s.cfg.Passkeys != nil {
		d.Passkeys = true
		if name == "login" || name == "mfa" || name == "account" {
			d.Script = "/static/passkeys.js" + s.pages.js.query()
		}
	}
	var buf bytes.Buffer
	if err := s.pages.tmpl.byName[name].Execute(&buf, d); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "Internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// renderStatus shows a plain message page (errors the forms cannot show
// inline: 403, 400 bodies, 503).
func (s *server) renderStatus(w http.ResponseWriter, r *http.Request, status int, heading, body string) {
	s.render(w, r, status, "message", pageData{Title: heading, Heading: heading, Body: body, LinkURL: "/", LinkText: "Continue"})
}

// renderForbidden is the answer to a form post with a missing or wrong
// CSRF token, or from another origin (SPEC §8: 403).
func (s *server) renderForbidden(w http.ResponseWriter, r *http.Request) {
	s.renderStatus(w, r, http.StatusForbidden, "Forbidden",
		"This form has expired or did not come from this site. Please go back, reload the page and try again.")
}

// pageError maps an error to the status and text a page shows, through
// the same errTable and beginError as the JSON API, so both answer alike
// (Retry-After, the log line of a 503). Unknown errors are shown
// generically (500).
func (s *server) pageError(w http.ResponseWriter, r *http.Request, err error) (int, string) {
	row, status := beginError(w, r, s.log, err, false)
	if row.err == nil { // internalError
		return status, "Something went wrong. Please try again."
	}
	if row.message != "" {
		return status, row.message
	}
	if msg := provider.Message(err); msg != "" {
		return status, msg
	}
	return status, errorText(err, row)
}

// renderFailure is the page for a failure outside any form (loading the
// session or the user, ending a session): 503 when a store is down, else
// 500.
func (s *server) renderFailure(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.pageError(w, r, err)
	if errors.Is(err, storage.ErrUnavailable) {
		msg = "The service is temporarily unavailable. Please try again in a moment."
	}
	s.renderStatus(w, r, status, http.StatusText(status), msg)
}

// staticFile is an embedded asset served with a long cache: its URL
// carries a content hash (cssQuery), so a new version is a new URL.
type staticFile struct {
	body    []byte
	etag    string
	modTime time.Time
}

func mustStylesheet() staticFile { return mustStatic("static/style.css") }

// mustStatic loads an embedded asset and its content hash.
func mustStatic(name string) staticFile {
	b, err := pageFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return staticFile{body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// query is the "?v=<hash>" that links f by its content.
func (f staticFile) query() string { return "?v=" + f.etag[1:13] }

// serveCSS serves /static/style.css, cacheable for a year (immutable: the
// pages link it with a content-hash query).
func (p *pages) serveCSS(w http.ResponseWriter, r *http.Request) {
	p.css.serve(w, r, "style.css", "text/css; charset=utf-8")
}

// serveJS serves /static/passkeys.js the same way: the pages' only
// script, loaded from our origin (CSP script-src 'self').
func (p *pages) serveJS(w http.ResponseWriter, r *http.Request) {
	p.js.serve(w, r, "passkeys.js", "text/javascript; charset=utf-8")
}

func (f staticFile) serve(w http.ResponseWriter, r *http.Request, name, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, name, f.modTime, bytes.NewReader(f.body))
}

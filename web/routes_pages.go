package web

import (
	"errors"
	"mime"
	"net/http"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// maxFormBytes bounds a form body, like the JSON API's 16 KiB.
const maxFormBytes = 16 << 10

// pages is the state of the HTML pages, built once in routesPages: parsed
// templates, the stylesheet, and the cross-origin checker.
type pages struct {
	tmpl *pageTemplates
	css  staticFile
	js   staticFile // passkeys.js
	cop  *http.CrossOriginProtection
}

// routesPages registers the HTML pages of SPEC §8: GET pages, and POSTs of
// forms only. The JSON API (routes_api.go) registers the same POST paths
// for every other content type; isFormPost is the rule both sides follow.
func (s *server) routesPages(r *mux.Router) {
	if s.cfg.Accounts == nil || s.cfg.Sessions == nil {
		return
	}
	css := mustStylesheet()
	p := &pages{tmpl: mustParseTemplates(css), css: css, js: mustStatic("static/passkeys.js"), cop: http.NewCrossOriginProtection()}
	s.pages = p

	r.HandleFunc("/static/style.css", p.serveCSS).Methods(http.MethodGet, http.MethodHead)
	if s.cfg.Passkeys != nil {
		r.HandleFunc("/static/passkeys.js", p.serveJS).Methods(http.MethodGet, http.MethodHead)
	}

	get := func(path string, h http.HandlerFunc) {
		r.Handle(path, noStore(h)).Methods(http.MethodGet, http.MethodHead)
	}
	get("/", s.pageHome)
	get("/login", s.pageLogin)
	get("/signup", s.pageSignup)
	get("/account", s.pageAccount)

	form := func(path string, h http.HandlerFunc) {
		r.Handle(path, noStore(s.audited(s.formPost(h)))).Methods(http.MethodPost).MatcherFunc(isFormPost)
	}
	form("/", s.postLogin) // POST / is an alias of POST /login (SPEC §3)
	form("/login", s.postLogin)
	form("/signup", s.postSignup)
	form("/update", s.postUpdate)
	form("/logout", s.postLogout)
	form("/logout/all", s.postLogoutAll)
	s.routesLifecyclePages(get, form) // password forms, delete account (page_lifecycle.go)
	s.routesMFAPages(form)            // second factors (page_mfa.go)
	s.routesPasskeyPages(form)        // passkeys (page_passkeys.go)
}

// isFormPost matches requests whose body is an HTML form of ours:
// application/x-www-form-urlencoded, the encoding of every form the pages
// render. Only these get HTML answers (SPEC §2); anything else, including
// multipart/form-data, which no page sends, is the JSON API's and gets its
// 415. The JSON API matches the complement on the same paths.
func isFormPost(r *http.Request, _ *mux.RouteMatch) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// formPost parses the bounded form body, then checks the request's origin
// (Sec-Fetch-Site / Origin, stdlib CrossOriginProtection) before the
// handler, which checks the CSRF token against the secret it knows (the
// session's or the pre-session cookie's, see csrf.go). Both failures are
// 403 pages; a malformed or oversized body is a 400 page.
func (s *server) formPost(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.pages.cop.Check(r); err != nil {
			s.renderForbidden(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			s.renderStatus(w, r, http.StatusBadRequest, "Bad request", "The form could not be read. Please go back and try again.")
			return
		}
		next(w, r)
	}
}

// pageIPLimit counts a login or signup form post against the client IP's
// budget (SPEC §3, SEC-38), with the limiter and keys of the JSON API's
// ipLimit, so both share one budget per address. The error (a
// *provider.RateLimitError, or one wrapping storage.ErrUnavailable) is shown
// on the form by the caller.
func (s *server) pageIPLimit(r *http.Request) error {
	if !s.cfg.IPLimit.Enabled() {
		return nil
	}
	_, err := s.cfg.IPLimit.Allow(r.Context(), ipRateKey(clientIP(r, s.cfg.TrustedProxies)))
	if errors.Is(err, provider.ErrRateLimited) {
		s.auditIPLimited(r)
	}
	return err
}

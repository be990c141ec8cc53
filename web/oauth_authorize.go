package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// The authorization endpoint (SPEC §7, SEC-42). A request is validated by
// provider.CodeFlow.ValidateAuthorize; a bad client or redirect URI gets an
// error page (400), never a redirect, and every later error goes back to
// the client's redirect URI with error, error_description and state. What
// comes next (the login page, the consent page, a code, or a prompt=none
// error) is provider.CodeFlow.Authorize's decision; this file renders it.
// Everything a browser sees here is Cache-Control: no-store.

// maxAuthorizeQuery bounds the query of an authorization request; it also
// travels through the login page's next parameter (safeNext: 4096).
const maxAuthorizeQuery = 4000

// routesCodeFlow registers GET /oauth2/authorize and the consent form post.
// They need the pages (sessions, CSRF) and a code flow.
func (s *server) routesCodeFlow(r *mux.Router) {
	if s.cfg.CodeFlow == nil || s.pages == nil {
		return
	}
	r.Handle("/oauth2/authorize", noStore(http.HandlerFunc(s.authorize))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/oauth2/consent", noStore(s.formPost(s.postConsent))).Methods(http.MethodPost).MatcherFunc(isFormPost)
	s.oauthWrongMethod(r, "GET, HEAD", "/oauth2/authorize")
	s.oauthWrongMethod(r, "POST", "/oauth2/consent")
	s.routesPAR(r) // oauth_par.go
}

// authorize: GET /oauth2/authorize.
func (s *server) authorize(w http.ResponseWriter, r *http.Request) {
	q, ok := parseAuthorizeQuery(r.URL.RawQuery)
	if !ok {
		s.renderOAuthError(w, r, "The authorization request is malformed or too long.")
		return
	}
	q, err := s.pushedQuery(r, q, true) // oauth_par.go
	if err != nil {
		s.authorizeFailed(w, r, err)
		return
	}
	req, err := s.cfg.CodeFlow.ValidateAuthorize(r.Context(), authorizeParams(q))
	if err != nil {
		s.authorizeFailed(w, r, err)
		return
	}
	u, sess, ok, err := s.currentUser(r)
	if err != nil {
		s.renderFailure(w, r, err)
		return
	}
	var in *provider.SignIn
	if ok {
		in = provider.SessionSignIn(u, sess)
	}
	d, err := s.cfg.CodeFlow.Authorize(r.Context(), req, in)
	if err != nil {
		s.authorizeFailed(w, r, err)
		return
	}
	rawQuery := r.URL.RawQuery
	if d.Next == provider.NextLogin || d.Next == provider.NextConsent {
		if rawQuery, err = s.continuationQuery(r, q); err != nil { // oauth_par.go
			s.renderFailure(w, r, err)
			return
		}
	}
	switch d.Next {
	case provider.NextLogin:
		loginRedirect(w, r, "/oauth2/authorize?"+rawQuery)
	case provider.NextReauth:
		// The sign-in does not do: it ends, and the user signs in anew
		// (with the second factor, or setting one up, when asked for).
		if err := s.endPageSession(w, r); err != nil {
			s.renderFailure(w, r, err)
			return
		}
		again := provider.ReauthQuery(q)
		next := again.Encode()
		if q.Get("request_uri") != "" {
			// A pushed request's request_uri is used up: it continues
			// under a handle of ours, as for the login page (oauth_par.go).
			if next, err = s.cfg.CodeFlow.ContinuePushed(r.Context(), again); err != nil {
				s.renderFailure(w, r, err)
				return
			}
		}
		loginRedirect(w, r, "/oauth2/authorize?"+next)
	case provider.NextConsent:
		s.renderConsent(w, r, u, &sess, req, rawQuery)
	case provider.NextRedirect:
		s.redirectToClient(w, d.RedirectURL)
	}
}

// issueCode stores a code for the signed-in user and sends the browser to
// the client with it (the consent page's approval). The session's sign-in
// gives the user's auth_time and amr.
func (s *server) issueCode(w http.ResponseWriter, r *http.Request, u provider.User, sess provider.Session, req provider.AuthorizeRequest) {
	code, err := s.cfg.CodeFlow.IssueCode(r.Context(), *provider.SessionSignIn(u, sess), req)
	if err != nil {
		s.renderFailure(w, r, err)
		return
	}
	s.redirectToClient(w, req.SuccessURL(code))
}

// redirectTo sends the browser to an absolute URL (the client's redirect
// URI, possibly with a custom scheme) with 303 and no body: http.Redirect
// would echo the URL, and the code, into an HTML body. Authorization
// responses use redirectToClient, which adds iss.
func redirectTo(w http.ResponseWriter, target string) {
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}

// authorizeFailed answers a failed authorization request: back to the
// client when its redirect URI is trusted, else an error page (400); store
// failures are a 503 page.
func (s *server) authorizeFailed(w http.ResponseWriter, r *http.Request, err error) {
	var ae *provider.AuthorizeError
	if !errors.As(err, &ae) {
		s.renderFailure(w, r, err)
		return
	}
	if ae.RedirectURI != "" {
		s.redirectToClient(w, ae.URL())
		return
	}
	s.renderOAuthError(w, r, ae.Description)
}

// renderOAuthError is the error page of the authorization endpoint (400).
func (s *server) renderOAuthError(w http.ResponseWriter, r *http.Request, msg string) {
	s.render(w, r, http.StatusBadRequest, "oauth_error", pageData{
		Title: "Sign-in request refused", Heading: "This sign-in request cannot be completed",
		Body: msg, LinkURL: "/account", LinkText: "Go to your account",
	})
}

// parseAuthorizeQuery parses a raw query, refusing malformed or overlong
// ones (url.Values from r.URL.Query would silently drop bad pairs).
func parseAuthorizeQuery(raw string) (url.Values, bool) {
	if len(raw) > maxAuthorizeQuery {
		return nil, false
	}
	q, err := url.ParseQuery(raw)
	return q, err == nil
}

// authorizeParams picks the parameters we know; client_id and redirect_uri
// are checked for repetition first, as they decide where errors go.
func authorizeParams(q url.Values) provider.AuthorizeParams {
	p := provider.AuthorizeParams{}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"client_id", &p.ClientID}, {"redirect_uri", &p.RedirectURI}, {"response_type", &p.ResponseType},
		{"scope", &p.Scope}, {"state", &p.State}, {"nonce", &p.Nonce}, {"code_challenge", &p.CodeChallenge},
		{"code_challenge_method", &p.CodeChallengeMethod}, {"response_mode", &p.ResponseMode}, {"prompt", &p.Prompt},
		{"request_uri", &p.RequestURI},
		{"acr_values", &p.ACRValues}, {"max_age", &p.MaxAge},
	} {
		v := q[f.name]
		if len(v) > 0 {
			*f.dst = v[0]
		}
		if len(v) > 1 && p.Repeated == "" {
			p.Repeated = f.name
		}
	}
	return p
}

// Chromium applies a page's CSP form-action to every redirect that follows
// a form submission, so with form-action 'self' the consent form (and a
// login form whose next is an authorization request) could never reach the
// client's redirect URI. Those pages widen form-action to that one origin.

// allowFormRedirect widens form-action on a page whose form continues the
// pending authorization request next (the login page), when next names a
// client and a redirect URI that validate.
func (s *server) allowFormRedirect(w http.ResponseWriter, r *http.Request, next string) {
	if s.cfg.CodeFlow == nil || next == "" {
		return
	}
	u, err := url.Parse(next)
	if err != nil {
		return
	}
	q, ok := parseAuthorizeQuery(u.RawQuery)
	if !ok {
		return
	}
	if q, err = s.pushedQuery(r, q, false); err != nil { // read only: the login form will take it
		return
	}
	req, err := s.cfg.CodeFlow.ValidateAuthorize(r.Context(), authorizeParams(q))
	redirect := req.RedirectURI
	var ae *provider.AuthorizeError
	if err != nil {
		if !errors.As(err, &ae) || ae.RedirectURI == "" {
			return
		}
		redirect = ae.RedirectURI
	}
	widenFormAction(w, redirect)
}

// widenFormAction adds the origin of redirectURI (or its scheme, for a
// native app's custom scheme) to the response's form-action.
func widenFormAction(w http.ResponseWriter, redirectURI string) {
	src := formActionSource(redirectURI)
	h := w.Header()
	csp := h.Get("Content-Security-Policy")
	if src == "" || !strings.Contains(csp, "form-action 'self'") {
		return
	}
	h.Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+src, 1))
}

// formActionSource is a CSP source expression for a redirect URI: the
// origin of an http(s) URI, or "scheme:" for a custom scheme. Anything
// with characters that could end the directive gives "".
func formActionSource(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" {
		return ""
	}
	src := u.Scheme + ":"
	if u.Scheme == "http" || u.Scheme == "https" {
		src = u.Scheme + "://" + u.Host
	}
	for _, c := range src {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-+:/[]", c)) {
			return ""
		}
	}
	return src
}

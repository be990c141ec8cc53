package web

import (
	"net/http"
	"net/url"
	"strings"

	"user-registry/provider"
)

// Session cookie names (SPEC §8, SEC-40). Over TLS the cookie carries the
// __Host- prefix, which browsers accept only with Secure, Path=/ and no
// Domain, so a sibling subdomain cannot plant or overwrite it.
const (
	sessionCookieTLS   = "__Host-ur_session"
	sessionCookiePlain = "ur_session"
)

// pageSecure reports whether the browser reached us over HTTPS: we terminate
// TLS (Config.TLS or r.TLS), or a trusted proxy (Config.TrustedProxies, the
// socket peer) says X-Forwarded-Proto: https. Untrusted peers cannot turn
// it on (or off) with the header. It also decides HSTS (setSecurityHeaders).
func (s *server) pageSecure(r *http.Request) bool {
	if s.cfg.TLS || r.TLS != nil {
		return true
	}
	if !strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https") {
		return false
	}
	// Same trust rule as clientIP: only the socket peer decides.
	return isTrustedProxy(parseHostAddr(r.RemoteAddr), s.cfg.TrustedProxies)
}

// sessionCookieName is the cookie the pages use for this request.
func (s *server) sessionCookieName(r *http.Request) string {
	if s.pageSecure(r) {
		return sessionCookieTLS
	}
	return sessionCookiePlain
}

// currentUser returns the signed-in user of a browser request and the
// session, for the pages and for the OAuth endpoints (GET /oauth2/authorize,
// the consent page). It reads the session cookie only, never a Bearer
// token; whether the session still counts (expiry, not-before, user gone)
// is provider.Sessions.Validate's to decide.
//
// ok is false, with a nil error, when the request is not signed in; err is
// non-nil (wrapping storage.ErrUnavailable: answer 503) when a store could
// not be read, so the caller fails closed. Callers that need a sign-in
// should call loginRedirect when ok is false. The returned Session.ID is
// the store key (a hash), not the cookie value.
func (s *server) currentUser(r *http.Request) (provider.User, provider.Session, bool, error) {
	value, ok := s.sessionCookie(r)
	if !ok {
		return provider.User{}, provider.Session{}, false, nil
	}
	return s.cfg.Sessions.Validate(r.Context(), value)
}

// startPageSession creates a session for u and sets its cookie. A session
// the request already had is ended first: a sign-in always gets a fresh
// id (no session fixation).
func (s *server) startPageSession(w http.ResponseWriter, r *http.Request, u provider.User) error {
	return s.startPageSessionAMR(w, r, u, []string{provider.AMRPassword})
}

// startPageSessionAMR is startPageSession for a sign-in made with amr.
func (s *server) startPageSessionAMR(w http.ResponseWriter, r *http.Request, u provider.User, amr []string) error {
	if err := s.deleteRequestSession(r); err != nil {
		return err
	}
	value, _, err := s.cfg.Sessions.CreateFor(r.Context(), u.ID, amr)
	if err != nil {
		return err
	}
	maxAge := int(s.cfg.Sessions.TTL().Seconds())
	http.SetCookie(w, s.pageCookie(r, s.sessionCookieName(r), value, maxAge))
	return nil
}

// endPageSession clears the session cookie and ends the request's session
// in the store. The cookie is cleared even when the store fails (the
// error is returned).
func (s *server) endPageSession(w http.ResponseWriter, r *http.Request) error {
	if _, err := r.Cookie(s.sessionCookieName(r)); err == nil {
		http.SetCookie(w, s.pageCookie(r, s.sessionCookieName(r), "", -1))
	}
	return s.deleteRequestSession(r)
}

// deleteRequestSession ends the session named by the request's cookie,
// if any. Idempotent.
func (s *server) deleteRequestSession(r *http.Request) error {
	value, ok := s.sessionCookie(r)
	if !ok {
		return nil
	}
	return s.cfg.Sessions.End(r.Context(), value)
}

// sessionCookie returns the value of the request's session cookie, when
// it has one of a length a session cookie can have.
func (s *server) sessionCookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(s.sessionCookieName(r))
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return "", false
	}
	return c.Value, true
}

// pageCookie builds a cookie of the pages: HttpOnly, SameSite=Lax (sent on
// top-level navigations back from a relying party, not on cross-site
// posts), Path=/, Secure when served over HTTPS. maxAge < 0 deletes.
func (s *server) pageCookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.pageSecure(r),
	}
}

// loginRedirect sends a signed-out browser to the login page (303), which
// returns it to next after sign-in when next is a local /oauth2/authorize
// path (see safeNext; anything else is dropped and the user lands on
// /account). The OAuth engineer calls it from GET /oauth2/authorize with
// r.URL.RequestURI().
func loginRedirect(w http.ResponseWriter, r *http.Request, next string) {
	target := "/login"
	if n, ok := safeNext(next); ok {
		target += "?next=" + url.QueryEscape(n)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext returns next when it is a local path to the authorization
// endpoint ("/oauth2/authorize" with an optional query) or to the device
// page ("/device", the same), reassembled from
// its parsed parts; anything else (other paths, "//evil.com",
// "https://evil.com", "/\evil.com", control characters) is refused, so
// the login form is never an open redirect.
func safeNext(next string) (string, bool) {
	if next == "" || len(next) > 4096 || strings.ContainsAny(next, "\\\r\n\t") {
		return "", false
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		(u.Path != "/oauth2/authorize" && u.Path != "/device") || strings.HasPrefix(next, "//") {
		return "", false
	}
	if u.RawQuery == "" {
		return u.Path, true
	}
	return u.Path + "?" + u.RawQuery, true
}

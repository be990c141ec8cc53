package web

import (
	"crypto/hmac"
	"encoding/base64"
	"net/http"

	"user-registry/provider"
)

// CSRF protection of the pages (SEC-40, SPEC §8) has two layers, and needs
// no server secret, so every node accepts every other node's forms:
//
//  1. Origin: net/http's CrossOriginProtection (the maintained stdlib port of
//     filippo.io/csrf) refuses form posts a browser marks as cross-site
//     (Sec-Fetch-Site), or whose Origin is not our Host. Browsers send both
//     on same-origin posts under our Referrer-Policy same-origin (never
//     "Origin: null", which no-referrer would cause).
//  2. Token: every form carries csrf_token, a masked copy of a 256-bit
//     secret the attacker cannot read:
//     - signed in: the session's CSRFKey, random at sign-in and kept in the
//     session store (Redis), so it is shared by all nodes and dies with the
//     session;
//     - signed out (login, signup): a double-submit cookie (__Host-ur_csrf
//     over TLS, ur_csrf on http; HttpOnly, SameSite=Lax) holding the secret.
//     Its only job is to stop login CSRF; the __Host- prefix stops sibling
//     subdomains from planting it.
//     The token is masked with a fresh one-time pad per render (like
//     gorilla/csrf), so the page bytes differ on every response (BREACH).
//
// A post failing either layer gets a 403 page.
const (
	csrfField       = "csrf_token"
	csrfCookieTLS   = "__Host-ur_csrf"
	csrfCookiePlain = "ur_csrf"
	csrfSecretLen   = 32
)

func (s *server) csrfCookieName(r *http.Request) string {
	if s.pageSecure(r) {
		return csrfCookieTLS
	}
	return csrfCookiePlain
}

// anonCSRFSecret returns the pre-session secret from the request's cookie,
// or nil when it is missing or malformed.
func (s *server) anonCSRFSecret(r *http.Request) []byte {
	c, err := r.Cookie(s.csrfCookieName(r))
	if err != nil {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) != csrfSecretLen {
		return nil
	}
	return b
}

// csrfToken returns the token to put in the csrf_token field of a form
// rendered for r. With a session (sess non-nil, as from currentUser) it is
// bound to the session; without one it is bound to the pre-session cookie,
// which it sets when the browser has none. The consent page (OAuth) calls
// it with the signed-in session.
func (s *server) csrfToken(w http.ResponseWriter, r *http.Request, sess *provider.Session) string {
	secret := s.csrfSecret(r, sess)
	if secret == nil {
		secret = provider.RandomBytes(csrfSecretLen)
		http.SetCookie(w, s.pageCookie(r, s.csrfCookieName(r), base64.RawURLEncoding.EncodeToString(secret), 0))
	}
	return maskCSRF(secret)
}

// csrfValid reports whether the form post r passes both layers: the
// origin check and a token matching the secret of sess (or, when sess is
// nil, of the pre-session cookie). The form must be parsed already
// (formPost does it; other callers call r.ParseForm first).
func (s *server) csrfValid(r *http.Request, sess *provider.Session) bool {
	if s.pages == nil || s.pages.cop.Check(r) != nil {
		return false
	}
	secret := s.csrfSecret(r, sess)
	if secret == nil {
		return false
	}
	return unmaskCSRF(r.PostFormValue(csrfField), secret)
}

// csrfSecret is the secret the forms of r are bound to: the session's
// CSRFKey, or without one the pre-session cookie's (nil when missing).
func (s *server) csrfSecret(r *http.Request, sess *provider.Session) []byte {
	if sess != nil && len(sess.CSRFKey) > 0 {
		return sess.CSRFKey
	}
	return s.anonCSRFSecret(r)
}

// maskCSRF returns base64url(pad || pad XOR secret) with a fresh pad.
func maskCSRF(secret []byte) string {
	pad := provider.RandomBytes(len(secret))
	out := make([]byte, 2*len(secret))
	copy(out, pad)
	for i := range secret {
		out[len(secret)+i] = pad[i] ^ secret[i]
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// unmaskCSRF checks a token from maskCSRF against secret in constant time.
func unmaskCSRF(token string, secret []byte) bool {
	if len(token) > 200 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 2*len(secret) {
		return false
	}
	got := make([]byte, len(secret))
	for i := range got {
		got[i] = b[i] ^ b[len(secret)+i]
	}
	return hmac.Equal(got, secret)
}

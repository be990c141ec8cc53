package web

import (
	"errors"
	"log/slog"
	"net/http"

	"user-registry/keys"
	"user-registry/provider"
)

// userinfoEndpoint serves GET|POST /userinfo (OIDC Core §5.3, SPEC §7).
// The access token is read from the Authorization header only: not from
// the query string nor, unlike RFC 6750 §2.2 allows, the form body
// (SEC-22). Errors are RFC 6750 §3: a WWW-Authenticate Bearer challenge
// and an {"error","error_description"} body.
type userinfoEndpoint struct {
	log      *slog.Logger
	tokens   tokenVerifier
	accounts *provider.Accounts
	// confirm checks a token's DPoP binding (server.confirmPresentation).
	confirm func(r *http.Request, c keys.AccessClaims, tok string, dpop bool) error
}

func (e *userinfoEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, dpop, ok := presentedToken(r)
	if !ok {
		e.fail(w, r, errNoToken)
		return
	}
	// VerifyAccess checks revocation (jti, sid, not-before): a revoked
	// token is refused, and an unreachable store is a 503 (SEC-12, 18).
	c, err := e.tokens.VerifyAccess(r.Context(), tok, "")
	if err == nil {
		err = e.confirm(r, c, tok, dpop) // SEC-63
	}
	if err != nil {
		e.fail(w, r, err)
		return
	}
	info, err := e.accounts.UserInfoFor(r.Context(), c)
	if err != nil {
		e.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, info)
}

// fail answers a userinfo error through writeOAuthError, after setting the
// RFC 6750 §3 challenge: no error code when the request carried no token,
// invalid_token for a bad token or a user that is gone, insufficient_scope
// (403) for a token that may not read user info. Store outages (503) and
// anything unexpected get no challenge.
func (e *userinfoEndpoint) fail(w http.ResponseWriter, r *http.Request, err error) {
	const realm = `Bearer realm="user-registry"`
	h := w.Header()
	switch {
	case errors.Is(err, errNoToken):
		h.Set("WWW-Authenticate", realm)
	case errors.Is(err, provider.ErrDPoPBinding):
		h.Set("WWW-Authenticate", dpopChallenge)
	case errors.Is(err, keys.ErrInvalidToken), errors.Is(err, provider.ErrUnauthenticated):
		err = errBadToken
		h.Set("WWW-Authenticate", realm+`, error="invalid_token"`)
	case errors.Is(err, provider.ErrInsufficientScope):
		h.Set("WWW-Authenticate", realm+`, error="insufficient_scope", scope="openid"`)
	}
	writeOAuthError(w, r, e.log, err)
}

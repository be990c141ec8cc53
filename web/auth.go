package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"user-registry/keys"
	"user-registry/provider"
)

// tokenVerifier checks a presented access token, revocation included.
type tokenVerifier interface {
	VerifyAccess(ctx context.Context, token, audience string) (keys.AccessClaims, error)
}

// errNoToken and errBadToken are the two 401 causes on the JSON API.
var (
	errNoToken  = clientMessage("Missing bearer token")
	errBadToken = clientMessage("Invalid or expired token.")
)

type claimsKey struct{}

// claimsFrom returns the verified claims that requireBearer stored.
func claimsFrom(ctx context.Context) (keys.AccessClaims, bool) {
	c, ok := ctx.Value(claimsKey{}).(keys.AccessClaims)
	return c, ok
}

// bearerToken reads `Authorization: Bearer …` — the only place a token is
// taken from on the JSON API: never the query string or a cookie (SEC-22).
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(prefix):])
	return tok, tok != ""
}

// requireBearer verifies the bearer token and puts its claims in the
// request context. Invalid tokens get 401 with a JSON message; an
// unreachable revocation store gets 503 (fail closed, SEC-18).
func (s *server) requireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, dpop, ok := presentedToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="user-registry"`)
			writeError(w, r, s.log, errNoToken)
			return
		}
		claims, err := s.tokens.VerifyAccess(r.Context(), tok, "")
		if err == nil {
			err = s.confirmPresentation(r, claims, tok, dpop) // SEC-63
		}
		if err != nil {
			switch {
			case errors.Is(err, provider.ErrDPoPBinding):
				w.Header().Set("WWW-Authenticate", dpopChallenge)
			case errors.Is(err, keys.ErrInvalidToken):
				w.Header().Set("WWW-Authenticate", `Bearer realm="user-registry", error="invalid_token"`)
				err = errBadToken
			}
			writeError(w, r, s.log, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}

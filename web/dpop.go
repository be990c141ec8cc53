package web

import (
	"net/http"
	"strings"

	"user-registry/keys"
	"user-registry/provider"
)

// dpopHeader returns the request's DPoP proof (RFC 9449 §4.1): "" when
// there is none. Header is read by its canonical key, a map lookup and no
// allocation, so a request without a proof pays nothing for the feature.
// Two DPoP headers are a malformed proof (§4.3 item 1).
func dpopHeader(r *http.Request) (string, error) {
	v := r.Header["Dpop"]
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		if v[0] == "" {
			return "", provider.ErrInvalidDPoPProof
		}
		return v[0], nil
	default:
		return "", provider.ErrInvalidDPoPProof
	}
}

// tokenEndpointProof is the DPoP proof of a token request, to be checked
// against the request's method and path.
func tokenEndpointProof(r *http.Request, jwt string) provider.DPoPProof {
	return provider.DPoPProof{JWT: jwt, Method: r.Method, Path: r.URL.Path}
}

// presentedToken reads the access token of a resource request: from
// `Authorization: Bearer …` or `Authorization: DPoP …` (RFC 9449 §7.1),
// never the query string or a cookie (SEC-22). dpop reports the scheme.
func presentedToken(r *http.Request) (tok string, dpop bool, ok bool) {
	if tok, ok := bearerToken(r); ok {
		return tok, false, true
	}
	h := r.Header.Get("Authorization")
	const prefix = "dpop "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false, false
	}
	tok = strings.TrimSpace(h[len(prefix):])
	return tok, true, tok != ""
}

// confirmPresentation checks that a verified token was presented as its
// DPoP binding requires (provider.DPoP.Confirm, SEC-63). An unbound Bearer
// token costs one comparison.
func (s *server) confirmPresentation(r *http.Request, c keys.AccessClaims, tok string, dpop bool) error {
	if c.JKT == "" && !dpop {
		return nil
	}
	jwt, err := dpopHeader(r)
	if err != nil {
		return provider.ErrDPoPBinding
	}
	return s.cfg.DPoP.Confirm(r.Context(), c.JKT, dpop,
		provider.DPoPProof{JWT: jwt, Method: r.Method, Path: r.URL.Path, AccessToken: tok})
}

// dpopChallenge is the WWW-Authenticate of a refused DPoP presentation
// (RFC 9449 §7.1), naming the algorithms a proof may use
// (keys.DPoPAlgs; TestDPoPDiscoveryAndChallenge holds them equal).
const dpopChallenge = `DPoP error="invalid_token", algs="ES256 ES384 RS256 PS256 EdDSA"`

// firstPartyProof verifies the DPoP proof of a /login or /refresh request
// and returns its key's thumbprint, "" when the request has no proof
// (SPEC §11: first-party sign-in binds its tokens when asked to).
func (s *server) firstPartyProof(r *http.Request) (string, error) {
	jwt, err := dpopHeader(r)
	if err != nil || jwt == "" {
		return "", err
	}
	return s.cfg.DPoP.Verify(r.Context(), tokenEndpointProof(r, jwt))
}

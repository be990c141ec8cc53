package provider

import (
	"context"
	"errors"

	"user-registry/storage"
)

// Token types of a token response (RFC 6749 §5.1, RFC 9449 §5).
const (
	TokenTypeBearer = "Bearer"
	TokenTypeDPoP   = "DPoP"
)

// tokenTypeFor is the token_type of a token bound to jkt ("" = unbound).
func tokenTypeFor(jkt string) string {
	if jkt != "" {
		return TokenTypeDPoP
	}
	return TokenTypeBearer
}

// ErrDPoPBinding: a DPoP-bound access token presented as a Bearer token,
// without a valid proof, or with a proof of another key, or an unbound
// token presented under the DPoP scheme (401, WWW-Authenticate: DPoP
// error="invalid_token").
var ErrDPoPBinding error = &clientError{msg: "The access token must be presented with a DPoP proof of its key"}

// Bind applies the DPoP rules of the token endpoints to c, an
// authenticated client: a client registered with DPoP must send a proof;
// a proof, when sent, must verify. It returns the thumbprint the issued
// tokens are bound to ("" for none). Called after client authentication,
// so an unauthenticated caller never learns what a client requires.
//
// Returns a variant of ErrInvalidDPoPProof, or a store error.
func (a *ClientAuth) Bind(ctx context.Context, c storage.Client, p DPoPProof) (string, error) {
	if p.JWT == "" {
		if c.DPoP {
			return "", dpopRefused("this client must send a DPoP proof")
		}
		return "", nil
	}
	return a.dpop.Verify(ctx, p)
}

// Confirm checks how an access token bound to jkt ("" = unbound) was
// presented at one of our resource endpoints (RFC 9449 §7): under the
// Bearer scheme (dpopScheme false) only an unbound token passes, at the
// cost of one comparison; under the DPoP scheme the token must be bound
// and p must be a valid proof, with ath, of the very key it is bound to
// (SEC-63).
//
// Returns a variant of ErrDPoPBinding, or an error wrapping
// storage.ErrUnavailable when the proof's jti cannot be checked.
func (d *DPoP) Confirm(ctx context.Context, jkt string, dpopScheme bool, p DPoPProof) error {
	if !dpopScheme {
		if jkt != "" {
			return clientErrorf(ErrDPoPBinding, "A DPoP-bound token must be sent with Authorization: DPoP and a proof")
		}
		return nil
	}
	if jkt == "" {
		return clientErrorf(ErrDPoPBinding, "The access token is not DPoP-bound: send it as a Bearer token")
	}
	if p.JWT == "" || p.AccessToken == "" {
		return clientErrorf(ErrDPoPBinding, "A DPoP proof with ath is required")
	}
	got, err := d.Verify(ctx, p)
	if errors.Is(err, storage.ErrUnavailable) {
		return err
	}
	if err != nil {
		// Not wrapped: at a resource endpoint a bad proof is a refused
		// token (401), not the token endpoints' invalid_dpop_proof (400).
		return clientErrorf(ErrDPoPBinding, Message(err))
	}
	if got != jkt {
		return clientErrorf(ErrDPoPBinding, "The DPoP proof is signed by another key than the token is bound to")
	}
	return nil
}

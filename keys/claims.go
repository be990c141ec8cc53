package keys

import (
	"errors"
	"time"
)

// Token types (the JWS `typ` header). Each is refused where another is
// expected (SEC-6).
const (
	TypeAccess = "at+jwt" // RFC 9068 access tokens: user and authority tokens
	TypeID     = "JWT"    // OIDC ID tokens
)

var (
	// ErrInvalidToken is returned for any token that fails verification:
	// bad signature, unknown kid, wrong alg/typ/iss/aud, expired, revoked.
	ErrInvalidToken = errors.New("keys: invalid token")
	// ErrNoSigningKey is returned when no key may sign yet.
	ErrNoSigningKey = errors.New("keys: no active signing key")
)

// AccessClaims are the claims of an access token (SPEC §5, §7). User tokens
// set Email, Domain, IsActivated and SID; authority tokens set Domain and
// leave the user fields empty. The token service fills Issuer, JTI and the
// times when minting.
type AccessClaims struct {
	Issuer      string   `json:"iss"`
	Subject     string   `json:"sub"`
	Audience    []string `json:"aud"`
	ClientID    string   `json:"client_id"`
	Scope       string   `json:"scope"`
	Email       string   `json:"email,omitempty"`
	Domain      string   `json:"domain,omitempty"`
	IsActivated *bool    `json:"is_activated,omitempty"`
	SID         string   `json:"sid,omitempty"`
	// AMR and ACR say how the user signed in (RFC 8176, SPEC §10): set on
	// user tokens only; authority tokens carry neither.
	AMR       []string  `json:"amr,omitempty"`
	ACR       string    `json:"acr,omitempty"`
	JTI       string    `json:"jti"`
	IssuedAt  time.Time `json:"-"`
	NotBefore time.Time `json:"-"`
	ExpiresAt time.Time `json:"-"`

	// JKT binds the token to a DPoP key (RFC 9449 §6.1): encoded as
	// "cnf":{"jkt":…}, the key's RFC 7638 thumbprint. "" when unbound.
	JKT string `json:"-"`
}

// IDClaims are the claims of an OIDC ID token (aud = client_id).
type IDClaims struct {
	Issuer        string    `json:"iss"`
	Subject       string    `json:"sub"`
	Audience      string    `json:"aud"`
	Nonce         string    `json:"nonce,omitempty"`
	AtHash        string    `json:"at_hash,omitempty"`
	Email         string    `json:"email,omitempty"`
	EmailVerified *bool     `json:"email_verified,omitempty"`
	SID           string    `json:"sid,omitempty"`
	AMR           []string  `json:"amr,omitempty"`
	ACR           string    `json:"acr,omitempty"`
	AuthTime      time.Time `json:"-"`
	IssuedAt      time.Time `json:"-"`
	ExpiresAt     time.Time `json:"-"`
}

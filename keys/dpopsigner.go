package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// DPoPSigner makes DPoP proofs (RFC 9449 §4) the way a client does: the
// server never signs one, but its tests, the load benchmark and the
// README's example client do. Safe for concurrent use.
type DPoPSigner struct {
	alg  jwa.SignatureAlgorithm
	priv jwk.Key
	hdr  jws.Headers // typ dpop+jwt and the public jwk; copied per proof
	jkt  string
}

// NewDPoPSigner returns a proof signer for key (*ecdsa.PrivateKey,
// *rsa.PrivateKey or ed25519.PrivateKey) and alg (one of DPoPAlgs).
func NewDPoPSigner(key crypto.Signer, alg string) (*DPoPSigner, error) {
	priv, err := jwk.FromRaw(key)
	if err != nil {
		return nil, fmt.Errorf("keys: dpop signer: %w", err)
	}
	pub, err := jwk.PublicKeyOf(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: dpop signer: %w", err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("keys: dpop signer: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "dpop+jwt"); err != nil {
		return nil, err
	}
	if err := hdr.Set(jws.JWKKey, pub); err != nil {
		return nil, err
	}
	return &DPoPSigner{alg: jwa.SignatureAlgorithm(alg), priv: priv, hdr: hdr,
		jkt: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// JKT is the RFC 7638 thumbprint of the signer's key (base64url SHA-256):
// the cnf.jkt of the tokens its proofs bind.
func (s *DPoPSigner) JKT() string { return s.jkt }

// Proof returns a proof for a request of method to htu at now, with a
// fresh random jti, and with ath when accessToken is not "" (a request
// to a resource server).
func (s *DPoPSigner) Proof(method, htu, accessToken string, now time.Time) (string, error) {
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	claims := map[string]any{
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]), "htm": method, "htu": htu, "iat": now.Unix(),
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	// jws.Sign writes alg into the headers it is given: a copy each time.
	hdr := jws.NewHeaders()
	if err := s.hdr.Copy(context.Background(), hdr); err != nil {
		return "", err
	}
	out, err := jws.Sign(payload, jws.WithKey(s.alg, s.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("keys: dpop proof: %w", err)
	}
	return string(out), nil
}

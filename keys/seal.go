package keys

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// algorithms maps the algs we can sign with to their jwx name. Verification
// accepts only these (SEC-1).
var algorithms = map[string]jwa.SignatureAlgorithm{
	"ES256": jwa.ES256,
	"RS256": jwa.RS256,
	"EdDSA": jwa.EdDSA,
}

// sealVersion prefixes the ciphertext so the format can change later.
const sealVersion = 1

// generateKey makes a fresh private key for alg.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "EdDSA":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("keys: unsupported alg %q", alg)
}

// publicJWK returns the public JWK JSON of priv with kid, alg and use set.
// The kid is the RFC 7638 thumbprint, so it is unique per key and carries
// no meaning an attacker could exploit (it is only ever a map key, SEC-2).
func publicJWK(priv crypto.Signer, alg string) (kid string, public []byte, err error) {
	k, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return "", nil, fmt.Errorf("keys: public jwk: %w", err)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", nil, fmt.Errorf("keys: thumbprint: %w", err)
	}
	kid = base64.RawURLEncoding.EncodeToString(tp)
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: algorithms[alg], jwk.KeyUsageKey: "sig"} {
		if err := k.Set(name, v); err != nil {
			return "", nil, fmt.Errorf("keys: jwk %s: %w", name, err)
		}
	}
	public, err = json.Marshal(k)
	return kid, public, err
}

// sealKey encrypts priv (PKCS#8) with AES-256-GCM under secret. The kid is
// the additional data, so a ciphertext moved to another row fails to open.
func sealKey(secret []byte, kid string, priv crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal private key: %w", err)
	}
	defer clear(der)
	return Seal(secret, []byte(kid), der)
}

// openKey reverses sealKey. A wrong secret, a tampered blob or a blob of
// another kid all fail.
func openKey(secret []byte, kid string, sealed []byte) (crypto.Signer, error) {
	der, err := Open(secret, []byte(kid), sealed)
	if err != nil {
		return nil, fmt.Errorf("keys: key %s does not decrypt (wrong --key-secret?): %w", kid, err)
	}
	defer clear(der)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: parse private key %s: %w", kid, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: key %s is not a signer", kid)
	}
	return s, nil
}

// Seal encrypts plaintext with AES-256-GCM under the key-encryption key
// secret (--key-secret), with aad as additional data: the row's identity
// (a kid, a user id), so a ciphertext moved to another row fails to open.
// The form is a version byte, the nonce, then the ciphertext. Signing keys
// and TOTP secrets (SPEC §10, SEC-57) are sealed with it.
func Seal(secret, aad, plaintext []byte) ([]byte, error) {
	aead, err := newAEAD(secret)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keys: nonce: %w", err)
	}
	return aead.Seal(out, out[1:], plaintext, aad), nil
}

// Open reverses Seal. A wrong secret, a tampered blob or another aad all
// fail.
func Open(secret, aad, sealed []byte) ([]byte, error) {
	aead, err := newAEAD(secret)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, errors.New("keys: sealed data: bad format")
	}
	return aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	if len(secret) != secretSize {
		return nil, fmt.Errorf("keys: key secret must be %d bytes", secretSize)
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// etagOf is a strong ETag of a document.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

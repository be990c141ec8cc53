package keys

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
)

// AtHash returns the OIDC at_hash of accessToken for an ID token signed
// with alg: base64url of the left half of the hash that alg uses (SHA-256
// for ES256/RS256, SHA-512 for EdDSA with Ed25519).
func AtHash(alg, accessToken string) string {
	if alg == "EdDSA" {
		sum := sha512.Sum512([]byte(accessToken))
		return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	}
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

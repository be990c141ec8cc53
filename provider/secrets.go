package provider

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// Random secrets that are stored only as a hash — mail-link tokens,
// authorization codes, browser session cookies, the secret part of refresh
// tokens and client secrets — are made here, so they share one text form
// and one error policy:
//
//   - the text form is base64url without padding (nothing to escape in a
//     URL, a cookie, a form or Basic credentials);
//   - crypto/rand.Read is not checked: since Go 1.24 it never returns an
//     error, and crashes the program irrecoverably where the system's
//     source fails (legacy Linux kernels only), so there is no error path
//     for callers to handle.
//
// A fast hash is the right one for these: at 128 bits or more there is
// nothing to guess, and the store holding only the hash means a dump of it
// opens nothing.

// NewSecret returns a fresh secret of nbytes random bytes in text form,
// and HashSecret of it: give the secret to its owner, store the hash.
func NewSecret(nbytes int) (secret, hash string) {
	secret = randomText(nbytes)
	return secret, HashSecret(secret)
}

// HashSecret is the stored form of a secret from NewSecret: its SHA-256,
// base64url without padding. Stored hashes of mail tokens and browser
// sessions have always had this form.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomText returns nbytes random bytes as base64url without padding.
func randomText(nbytes int) string {
	return base64.RawURLEncoding.EncodeToString(RandomBytes(nbytes))
}

// RandomBytes returns n bytes from crypto/rand, for secrets kept as bytes
// (a session's CSRF key, a CSRF mask). Same error policy as above.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // see the policy above
	return b
}

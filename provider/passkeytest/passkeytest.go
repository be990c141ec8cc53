// Package passkeytest holds what the passkey tests of several packages
// share: a software authenticator's credential that WebAuthn libraries
// accept every time.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/descope/virtualwebauthn"
)

// Credential makes an ES256 credential for virtualwebauthn whose public
// coordinates are each 32 bytes long. virtualwebauthn encodes X and Y with
// big.Int.Bytes, which drops leading zero bytes, so about one key in 128
// would carry a 31-byte coordinate that WebAuthn libraries rightly refuse;
// such keys are drawn again instead of letting a test flake.
func Credential(t testing.TB) virtualwebauthn.Credential {
	t.Helper()
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(k.X.Bytes()) != 32 || len(k.Y.Bytes()) != 32 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}

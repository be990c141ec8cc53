package keys

import (
	"crypto"
	"encoding/base64"
)

// SignRaw signs arbitrary header and claims JSON with the manager's current
// signing key, so tests can forge tokens that only the claim checks reject.
func SignRaw(m *Manager, header, claims []byte) string {
	sk, err := m.signing(m.cfg.Now())
	if err != nil {
		panic(err)
	}
	in := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sig, err := sk.signer.Sign([]byte(in), sk.key)
	if err != nil {
		panic(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// SigningKID and SigningPrivate expose the current signing key to tests.
func SigningKID(m *Manager) string {
	sk, _ := m.signing(m.cfg.Now())
	return sk.kid
}

func SigningPrivate(m *Manager) crypto.Signer {
	sk, _ := m.signing(m.cfg.Now())
	return sk.key.(opaqueSigner).Signer
}

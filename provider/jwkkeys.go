package provider

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// AssertionAlgs are the only JWS algorithms accepted from outside: client
// assertions and token-exchange subject tokens (SPEC §11, SEC-60). Never
// none, never HS* (a symmetric key would have to be a shared secret).
var AssertionAlgs = []string{"ES256", "ES384", "RS256", "PS256", "EdDSA"}

// Limits on what others send us: a key set and a JWT are small; anything
// larger is refused before parsing.
const (
	maxJWKSBytes = 64 << 10
	maxJWKSKeys  = 32
	maxJWTBytes  = 8 << 10
	minRSABits   = 2048
)

// publicKey is one verification key of a client or an outside issuer,
// decoded once from its JWK.
type publicKey struct {
	kid string
	alg string // the JWK's "alg", "" when it has none
	raw any    // *ecdsa.PublicKey, *rsa.PublicKey or ed25519.PublicKey
}

// parseKeySet decodes a JWK Set of public keys. Private or symmetric keys,
// RSA keys under 2048 bits, curves other than P-256/P-384/Ed25519 and
// keys marked for encryption are refused (an operator or a user registers
// these keys: a mistake must show, not be skipped). Returns an error
// wrapping ErrInvalidInput.
func parseKeySet(b []byte) ([]publicKey, error) {
	if len(b) == 0 || len(b) > maxJWKSBytes {
		return nil, InvalidInput("JWKS: a JSON JWK Set of at most 64 KiB")
	}
	// jwk.Parse would also take a single key; a set is what is asked for.
	var probe struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &probe); err != nil || len(probe.Keys) == 0 {
		return nil, InvalidInput(`JWKS: a JSON object {"keys":[…]} with at least one key`)
	}
	if len(probe.Keys) > maxJWKSKeys {
		return nil, InvalidInput(fmt.Sprintf("JWKS: at most %d keys", maxJWKSKeys))
	}
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, InvalidInput("JWKS: " + err.Error())
	}
	out := make([]publicKey, 0, set.Len())
	for i := range set.Len() {
		k, _ := set.Key(i)
		pk, err := toPublicKey(k)
		if err != nil {
			return nil, InvalidInput(fmt.Sprintf("JWKS key %d: %v", i, err))
		}
		out = append(out, pk)
	}
	return out, nil
}

// toPublicKey checks one JWK and decodes it.
func toPublicKey(k jwk.Key) (publicKey, error) {
	if _, private := k.(interface{ D() []byte }); private {
		return publicKey{}, errors.New("a private key; give the public key only")
	}
	if u := k.KeyUsage(); u != "" && u != "sig" {
		return publicKey{}, errors.New(`"use" must be "sig"`)
	}
	pk := publicKey{kid: k.KeyID()}
	if a := k.Algorithm().String(); a != "" {
		if !slices.Contains(AssertionAlgs, a) {
			return publicKey{}, fmt.Errorf("alg %q not accepted (%v)", a, AssertionAlgs)
		}
		pk.alg = a
	}
	var raw any
	if err := k.Raw(&raw); err != nil {
		return publicKey{}, err
	}
	switch r := raw.(type) {
	case *ecdsa.PublicKey:
		if r.Curve != elliptic.P256() && r.Curve != elliptic.P384() {
			return publicKey{}, errors.New("EC keys must be P-256 or P-384")
		}
	case *rsa.PublicKey:
		if r.N.BitLen() < minRSABits {
			return publicKey{}, fmt.Errorf("RSA keys need at least %d bits", minRSABits)
		}
	case ed25519.PublicKey:
	default:
		return publicKey{}, fmt.Errorf("key type %s not accepted (EC, RSA or Ed25519 public keys)", k.KeyType())
	}
	pk.raw = raw
	if pk.alg != "" && !pk.fits(pk.alg) {
		return publicKey{}, fmt.Errorf("alg %s does not fit the key", pk.alg)
	}
	return pk, nil
}

// fits reports whether k can verify alg: the key type and curve match, and
// a key that names its alg is used for that alg only.
func (k publicKey) fits(alg string) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch r := k.raw.(type) {
	case *ecdsa.PublicKey:
		return alg == "ES256" && r.Curve == elliptic.P256() || alg == "ES384" && r.Curve == elliptic.P384()
	case *rsa.PublicKey:
		return alg == "RS256" || alg == "PS256"
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// outsideJWT is a compact JWS from outside, parsed but not yet verified:
// its payload may be read to find out whose keys verify it, never trusted
// before verify succeeds.
type outsideJWT struct {
	signingInput []byte // header.payload, as signed
	signature    []byte
	alg          jwa.SignatureAlgorithm
	kid          string
	payload      []byte
}

// parseOutsideJWT parses a compact JWS with one signature whose alg is in
// AssertionAlgs and that has no crit header. The jwk, jku, x5u and x5c
// headers are never looked at: keys come only from registered sets
// (SEC-60).
func parseOutsideJWT(token string) (outsideJWT, error) {
	if !wellFormedJWS(token) {
		return outsideJWT{}, errors.New("malformed JWS")
	}
	msg, err := jws.Parse([]byte(token), jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return outsideJWT{}, errors.New("malformed JWS")
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	alg := h.Algorithm()
	if !slices.Contains(AssertionAlgs, alg.String()) {
		return outsideJWT{}, fmt.Errorf("alg %q not accepted", alg)
	}
	if len(h.Critical()) > 0 {
		return outsideJWT{}, errors.New("crit header")
	}
	sig := msg.Signatures()[0].Signature()
	return outsideJWT{signingInput: []byte(token[:strings.LastIndexByte(token, '.')]), signature: sig,
		alg: alg, kid: h.KeyID(), payload: msg.Payload()}, nil
}

// candidates returns the keys of set that may verify j: the one with j's
// kid, or, when j names none, every key that fits its alg.
func (j outsideJWT) candidates(set []publicKey) []publicKey {
	var out []publicKey
	for _, k := range set {
		if (j.kid == "" || k.kid == j.kid) && k.fits(j.alg.String()) {
			out = append(out, k)
		}
	}
	return out
}

// hasKid reports whether set holds a key named j's kid (a miss may mean a
// rotated key set: worth one refetch).
func (j outsideJWT) hasKid(set []publicKey) bool {
	return j.kid == "" || slices.ContainsFunc(set, func(k publicKey) bool { return k.kid == j.kid })
}

// verify checks j's signature with the keys given, by jwx's verifier for
// j's alg over the signing input parseOutsideJWT kept (the token is not
// parsed again). Returns an error when none verifies it.
func (j outsideJWT) verify(keys []publicKey) error {
	if len(keys) == 0 {
		return errors.New("no registered key fits")
	}
	v, err := jws.NewVerifier(j.alg)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if v.Verify(j.signingInput, j.signature, k.raw) == nil {
			return nil
		}
	}
	return errors.New("signature")
}

// wellFormedJWS accepts the compact serialization only, in canonical
// base64url, within maxJWTBytes.
func wellFormedJWS(token string) bool {
	if len(token) == 0 || len(token) > maxJWTBytes {
		return false
	}
	dots := 0
	for i := 0; i < len(token); i++ {
		switch c := token[i]; {
		case c == '.':
			dots++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return dots == 2
}

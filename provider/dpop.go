package provider

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"user-registry/keys"
	"user-registry/storage"
)

// DPoP proofs (RFC 9449 §4). jwx has no DPoP verifier; this is a small one
// on jwx's JWS verification and JWK thumbprint: nothing of the JWT is parsed
// by hand but the claims JSON that jwx returns once the signature holds.

// DPoPProofType is the JWS typ of a proof.
const DPoPProofType = "dpop+jwt"

// DPoPWindow is how far a proof's iat may be from our clock, either way
// (SPEC §11). A proof's jti is remembered for as long as the proof could
// pass this check.
const DPoPWindow = 60 * time.Second

// maxDPoPProofLen bounds the work spent on a presented proof: a proof
// carries one public key, and an RSA-4096 JWK is under 1 KiB.
const maxDPoPProofLen = 8 << 10

// minDPoPRSABits refuses RSA keys too short to be safe.
const minDPoPRSABits = 2048

// ErrInvalidDPoPProof: a DPoP proof is missing where required, malformed,
// or fails a check (invalid_dpop_proof, 400). Variants say which check.
var ErrInvalidDPoPProof error = &clientError{msg: "Invalid DPoP proof"}

// DPoPProof is a proof as the web layer received it, and what it must
// match: the request's method and the endpoint's path, which the proof's
// htu must name under the issuer. AccessToken is the token presented with
// the proof at a resource endpoint, whose hash the proof's ath must carry;
// "" at the token endpoints.
type DPoPProof struct {
	JWT         string // the DPoP header; "" when the request had none
	Method      string
	Path        string
	AccessToken string
}

// DPoPDeps are what DPoP is built from.
type DPoPDeps struct {
	// Nonces remembers proof jti values across nodes (Redis, or the
	// in-process store for one node). Required.
	Nonces storage.NonceStore
	// Issuer is our public base URL; a proof's htu must be Issuer + the
	// endpoint's path, so every node behind a proxy agrees. Required.
	Issuer string
	Now    func() time.Time // nil means time.Now
}

// DPoP verifies DPoP proofs. Safe for concurrent use.
type DPoP struct {
	nonces storage.NonceStore
	base   string // Issuer without a trailing slash
	now    func() time.Time
}

// NewDPoP returns the proof verifier. Fails without Nonces or Issuer.
func NewDPoP(d DPoPDeps) (*DPoP, error) {
	if d.Nonces == nil || d.Issuer == "" {
		return nil, errors.New("provider: dpop: Nonces and Issuer are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	base, ok := normalizeHTU(strings.TrimSuffix(d.Issuer, "/"))
	if !ok {
		return nil, fmt.Errorf("provider: dpop: issuer %q is not an absolute http(s) URL", d.Issuer)
	}
	return &DPoP{nonces: d.Nonces, base: base, now: d.Now}, nil
}

// dpopClaims are the claims of a proof (RFC 9449 §4.2).
type dpopClaims struct {
	JTI *string  `json:"jti"`
	HTM *string  `json:"htm"`
	HTU *string  `json:"htu"`
	IAT *float64 `json:"iat"`
	ATH *string  `json:"ath"`
}

// Verify checks p and returns the RFC 7638 SHA-256 thumbprint (base64url)
// of the proof's key. An empty p.JWT returns "" and no error: whether a
// proof is required is the caller's rule. The checks, in order:
//   - the JWS: compact, typ dpop+jwt, an alg of keys.DPoPAlgs, a jwk header
//     holding a public key of that alg's type (EC P-256/P-384 for
//     ES256/ES384, Ed25519 for EdDSA, RSA of ≥ 2048 bits), no crit, and
//     the signature under that key;
//   - the claims: htm equal to p.Method, htu (without query and fragment)
//     equal to the issuer + p.Path, iat within DPoPWindow of now, a jti,
//     and with p.AccessToken, ath = base64url(SHA-256(token));
//   - last, the jti (under the key's thumbprint) is accepted once on every
//     node until the proof is too old anyway.
//
// Returns a variant of ErrInvalidDPoPProof, or a store error wrapping
// storage.ErrUnavailable (fail closed: a proof whose replay cannot be
// checked is not accepted).
func (d *DPoP) Verify(ctx context.Context, p DPoPProof) (string, error) {
	if p.JWT == "" {
		return "", nil
	}
	if d == nil {
		return "", dpopRefused("DPoP is not enabled on this server")
	}
	if len(p.JWT) > maxDPoPProofLen || strings.Count(p.JWT, ".") != 2 {
		return "", dpopRefused("the proof is not a compact JWS")
	}
	picker := &dpopKeyPicker{}
	payload, err := jws.Verify([]byte(p.JWT), jws.WithKeyProvider(picker), jws.WithCompact())
	if err != nil {
		if picker.err != nil {
			return "", picker.err
		}
		return "", dpopRefused("bad signature")
	}
	var c dpopClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&c); err != nil {
		return "", dpopRefused("malformed claims")
	}
	iat, err := d.checkClaims(c, p)
	if err != nil {
		return "", err
	}
	tp, err := picker.key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", dpopRefused("unusable key")
	}
	jkt := base64.RawURLEncoding.EncodeToString(tp)
	// The jti is remembered until the proof fails the iat check anyway;
	// one second more covers iat's whole-second rounding. Keyed by the
	// thumbprint too, so no one can use up another key's jti values.
	first, err := d.nonces.UseOnce(ctx, "dpop:"+jkt+":"+*c.JTI, iat.Add(DPoPWindow+time.Second))
	if err != nil {
		return "", fmt.Errorf("provider: dpop jti: %w", err)
	}
	if !first {
		return "", dpopRefused("the proof was used before (jti)")
	}
	return jkt, nil
}

// checkClaims checks htm, htu, iat, jti and ath, and returns iat.
func (d *DPoP) checkClaims(c dpopClaims, p DPoPProof) (time.Time, error) {
	switch {
	case c.HTM == nil || *c.HTM != p.Method:
		return time.Time{}, dpopRefused("htm does not match the request method")
	case c.HTU == nil:
		return time.Time{}, dpopRefused("htu does not match the endpoint")
	case c.JTI == nil || *c.JTI == "" || len(*c.JTI) > 256:
		return time.Time{}, dpopRefused("missing or overlong jti")
	case c.IAT == nil || math.IsNaN(*c.IAT) || math.IsInf(*c.IAT, 0):
		return time.Time{}, dpopRefused("missing iat")
	}
	htu, ok := normalizeHTU(*c.HTU)
	if !ok || htu != d.base+p.Path {
		return time.Time{}, dpopRefused("htu does not match the endpoint")
	}
	sec, frac := math.Modf(*c.IAT)
	iat := time.Unix(int64(sec), int64(frac*1e9))
	now := d.now()
	if now.Sub(iat) > DPoPWindow || iat.Sub(now) > DPoPWindow {
		return time.Time{}, dpopRefused("iat is outside the accepted window")
	}
	if p.AccessToken != "" {
		sum := sha256.Sum256([]byte(p.AccessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if c.ATH == nil || subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(want)) != 1 {
			return time.Time{}, dpopRefused("ath does not match the access token")
		}
	}
	return iat, nil
}

// normalizeHTU returns an absolute http(s) URL without query and fragment,
// scheme and host lower-cased (RFC 9449 §4.3 compares htu so), and false
// for anything else.
func normalizeHTU(s string) (string, bool) {
	u, err := url.Parse(s)
	// url.Parse lower-cases the scheme.
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", false
	}
	u.Host = strings.ToLower(u.Host)
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String(), true
}

// dpopKeyPicker takes the verification key from the proof's own jwk
// header, after checking the header (RFC 9449 §4.3 items 4–6).
type dpopKeyPicker struct {
	key jwk.Key
	err error
}

func (p *dpopKeyPicker) FetchKeys(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	p.err = p.pick(sink, sig.ProtectedHeaders())
	return p.err
}

func (p *dpopKeyPicker) pick(sink jws.KeySink, h jws.Headers) error {
	if h.Type() != DPoPProofType {
		return dpopRefused("typ must be dpop+jwt")
	}
	alg := h.Algorithm()
	if !dpopAlgAccepted(alg) {
		return dpopRefused(fmt.Sprintf("alg %q is not accepted", alg))
	}
	if len(h.Critical()) > 0 {
		return dpopRefused("crit headers are not understood")
	}
	k := h.JWK()
	if k == nil {
		return dpopRefused("no jwk header")
	}
	// A symmetric key is no AsymmetricKey and fails here too.
	if private, err := jwk.IsPrivateKey(k); err != nil || private {
		return dpopRefused("the jwk header must hold a public key only")
	}
	if err := dpopKeyFits(alg, k); err != nil {
		return err
	}
	p.key = k
	sink.Key(alg, k)
	return nil
}

// dpopAlgAccepted: the algs of keys.DPoPAlgs, which discovery lists.
func dpopAlgAccepted(alg jwa.SignatureAlgorithm) bool {
	return slices.Contains(keys.DPoPAlgs(), alg.String())
}

// dpopKeyFits checks that k is of the kind alg is defined for (RFC 7518
// §3.4: ES256 is P-256 only; RFC 8037: EdDSA here is Ed25519) and that an
// RSA key is long enough.
func dpopKeyFits(alg jwa.SignatureAlgorithm, k jwk.Key) error {
	bad := dpopRefused(fmt.Sprintf("the jwk does not fit alg %s", alg))
	switch alg {
	case jwa.ES256, jwa.ES384:
		ek, ok := k.(jwk.ECDSAPublicKey)
		if !ok || (alg == jwa.ES256 && ek.Crv() != jwa.P256) || (alg == jwa.ES384 && ek.Crv() != jwa.P384) {
			return bad
		}
	case jwa.EdDSA:
		ok, isOKP := k.(jwk.OKPPublicKey)
		if !isOKP || ok.Crv() != jwa.Ed25519 {
			return bad
		}
	case jwa.RS256, jwa.PS256:
		rk, ok := k.(jwk.RSAPublicKey)
		if !ok || len(rk.N())*8 < minDPoPRSABits {
			return bad
		}
	default:
		return bad
	}
	return nil
}

func dpopRefused(msg string) error { return clientErrorf(ErrInvalidDPoPProof, "DPoP proof: "+msg) }

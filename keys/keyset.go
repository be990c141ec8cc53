package keys

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// keySet is an immutable snapshot of the keys at one instant: what signs,
// what verifies, and the pre-encoded JWKS. It is rebuilt on reload and when
// the clock passes the next lifecycle transition.
type keySet struct {
	built      time.Time
	validUntil time.Time // zero: no transition ahead
	plans      []keyPlan
	signing    *signingKey // nil: no key may sign
	verify     map[string]verifyKey
	jwks       []byte
	etag       string
	algs       []string
}

func (s *keySet) validAt(now time.Time) bool {
	return !now.Before(s.built) && (s.validUntil.IsZero() || now.Before(s.validUntil))
}

// signingKey holds everything the hot path needs, prepared once per key.
type signingKey struct {
	kid      string
	alg      string
	signer   jws.Signer
	key      crypto.Signer // wrapped: see opaqueSigner
	atHeader string        // base64url protected header, typ at+jwt
	idHeader string        // base64url protected header, typ JWT
	loHeader string        // base64url protected header, typ logout+jwt
}

// verifyKey is a published public key; kid is only ever a map key (SEC-2).
type verifyKey struct {
	alg jwa.SignatureAlgorithm
	key any // raw public key
}

// opaqueSigner hides the concrete private key type from jwx: handed a bare
// *ecdsa.PrivateKey, jwx copies it on every call, which throws away
// crypto/ecdsa's per-key precomputation; through crypto.Signer it is reused.
type opaqueSigner struct{ crypto.Signer }

// buildKeySet derives the snapshot at now from plans and decrypted keys.
func buildKeySet(plans []keyPlan, privs map[string]crypto.Signer, now time.Time, log *slog.Logger) *keySet {
	s := &keySet{built: now, validUntil: nextChange(plans, now), plans: plans, verify: map[string]verifyKey{}}
	var body bytes.Buffer
	body.WriteString(`{"keys":[`)
	seenAlg := map[string]bool{}
	for i := range plans {
		p := &plans[i]
		if !p.published(now) {
			continue
		}
		pub, raw, err := parsePublic(p.row.Public, p.row.KID, p.row.Alg)
		if err != nil {
			log.Error("signing key skipped", "kid", p.row.KID, "err", err)
			continue
		}
		if len(s.verify) > 0 {
			body.WriteByte(',')
		}
		body.Write(pub)
		s.verify[p.row.KID] = verifyKey{alg: algorithms[p.row.Alg], key: raw}
		if !seenAlg[p.row.Alg] {
			seenAlg[p.row.Alg] = true
			s.algs = append(s.algs, p.row.Alg)
		}
	}
	body.WriteString(`]}`)
	s.jwks = body.Bytes()
	s.etag = etagOf(s.jwks)

	if i := activeIndex(plans, now); i >= 0 {
		row := plans[i].row
		_, published := s.verify[row.KID]
		if priv := privs[row.KID]; priv != nil && published {
			sk, err := newSigningKey(row.KID, row.Alg, priv)
			if err != nil {
				log.Error("signing key unusable", "kid", row.KID, "err", err)
			}
			s.signing = sk
		}
	}
	return s
}

// parsePublic re-encodes a stored public JWK, refusing anything that is not
// a public key of the row's kid and alg, so a bad row can never put private
// parameters into the JWKS (SEC-8).
func parsePublic(stored []byte, kid, alg string) (encoded []byte, raw any, err error) {
	if _, ok := algorithms[alg]; !ok {
		return nil, nil, fmt.Errorf("unsupported alg %q", alg)
	}
	k, err := jwk.ParseKey(stored)
	if err != nil {
		return nil, nil, fmt.Errorf("public jwk: %w", err)
	}
	if priv, err := jwk.IsPrivateKey(k); err != nil || priv {
		return nil, nil, fmt.Errorf("stored jwk is not a public key")
	}
	if k.KeyID() != kid || k.Algorithm().String() != alg {
		return nil, nil, fmt.Errorf("stored jwk kid/alg mismatch")
	}
	if err := k.Set(jwk.KeyUsageKey, "sig"); err != nil {
		return nil, nil, err
	}
	if err := k.Raw(&raw); err != nil {
		return nil, nil, fmt.Errorf("public jwk raw: %w", err)
	}
	encoded, err = json.Marshal(k)
	return encoded, raw, err
}

func newSigningKey(kid, alg string, priv crypto.Signer) (*signingKey, error) {
	signer, err := jws.NewSigner(algorithms[alg])
	if err != nil {
		return nil, err
	}
	header := func(typ string) string {
		h, _ := json.Marshal(struct {
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			Typ string `json:"typ"`
		}{alg, kid, typ})
		return base64.RawURLEncoding.EncodeToString(h)
	}
	return &signingKey{
		kid: kid, alg: alg, signer: signer, key: opaqueSigner{priv},
		atHeader: header(TypeAccess), idHeader: header(TypeID), loHeader: header(TypeLogout),
	}, nil
}

package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"user-registry/storage"
)

// maxTokenLen bounds the work spent on a presented token.
const maxTokenLen = 8 << 10

// VerifyAccess verifies an access token and checks the revocation store:
// the token's jti and sid must not be revoked and its iat must not be
// before the subject's not-before (SEC-7, SEC-12, SEC-13). audience "" skips
// the aud check. Invalid tokens give an error wrapping ErrInvalidToken; a
// failing revocation store gives one wrapping storage.ErrUnavailable and
// never a valid result (SEC-18).
func (t *Tokens) VerifyAccess(ctx context.Context, token, audience string) (AccessClaims, error) {
	c, err := t.ParseAccess(ctx, token, audience)
	if err != nil {
		return AccessClaims{}, err
	}
	if err := t.checkRevocation(ctx, c); err != nil {
		return AccessClaims{}, err
	}
	return c, nil
}

// ParseAccess is VerifyAccess without the revocation store, for callers
// that check revocation themselves.
func (t *Tokens) ParseAccess(ctx context.Context, token, audience string) (AccessClaims, error) {
	var rc rawClaims
	if err := t.verify(ctx, token, TypeAccess, &rc); err != nil {
		return AccessClaims{}, err
	}
	if rc.JTI == "" {
		return AccessClaims{}, fmt.Errorf("%w: no jti", ErrInvalidToken)
	}
	if audience != "" && !rc.Aud.has(audience) {
		return AccessClaims{}, fmt.Errorf("%w: wrong audience", ErrInvalidToken)
	}
	return AccessClaims{
		Issuer: rc.Iss, Subject: rc.Sub, Audience: rc.Aud, ClientID: rc.ClientID, Scope: rc.Scope,
		Email: rc.Email, Domain: rc.Domain, IsActivated: rc.IsActivated, SID: rc.SID, JTI: rc.JTI,
		JKT: rc.Cnf.JKT, AMR: rc.AMR, ACR: rc.ACR,
		IssuedAt: rc.Iat.time(), NotBefore: rc.Nbf.time(), ExpiresAt: rc.Exp.time(),
	}, nil
}

// VerifyID verifies an ID token (typ JWT) issued to clientID. ID tokens are
// not revocable; they are only ever evidence of a past sign-in.
func (t *Tokens) VerifyID(ctx context.Context, token, clientID string) (IDClaims, error) {
	var rc rawClaims
	if err := t.verify(ctx, token, TypeID, &rc); err != nil {
		return IDClaims{}, err
	}
	if clientID == "" || !rc.Aud.has(clientID) {
		return IDClaims{}, fmt.Errorf("%w: wrong audience", ErrInvalidToken)
	}
	return IDClaims{
		Issuer: rc.Iss, Subject: rc.Sub, Audience: clientID, Nonce: rc.Nonce, AtHash: rc.AtHash,
		Email: rc.Email, EmailVerified: rc.EmailVerified, SID: rc.SID, AMR: rc.AMR, ACR: rc.ACR,
		AuthTime: rc.AuthTime.time(), IssuedAt: rc.Iat.time(), ExpiresAt: rc.Exp.time(),
	}, nil
}

func (t *Tokens) checkRevocation(ctx context.Context, c AccessClaims) error {
	if t.rev == nil {
		return fmt.Errorf("keys: no revocation store: %w", storage.ErrUnavailable)
	}
	ids := []string{c.JTI}
	if c.SID != "" {
		ids = append(ids, c.SID)
	}
	revoked, err := t.rev.IsRevoked(ctx, ids...)
	if err != nil {
		return unavailable(err)
	}
	if revoked {
		return fmt.Errorf("%w: revoked", ErrInvalidToken)
	}
	nb, spare, err := t.rev.NotBefore(ctx, c.Subject)
	if err != nil {
		return unavailable(err)
	}
	// The spared session is the one that changed the password: it keeps
	// working (SPEC §3a).
	if RevokedByNotBefore(c.IssuedAt, c.SID, nb, spare) {
		return fmt.Errorf("%w: issued before the subject's not-before", ErrInvalidToken)
	}
	return nil
}

// unavailable makes every revocation-store failure fail closed as
// storage.ErrUnavailable (SEC-18).
func unavailable(err error) error {
	if errors.Is(err, storage.ErrUnavailable) {
		return fmt.Errorf("keys: revocation check: %w", err)
	}
	return fmt.Errorf("keys: revocation check: %w: %w", storage.ErrUnavailable, err)
}

// verify checks the compact JWS against our published keys and the common
// claims (iss, exp, nbf, iat, sub), decoding the payload into rc.
func (t *Tokens) verify(ctx context.Context, token, typ string, rc *rawClaims) error {
	return t.verifyAt(ctx, token, typ, rc, false)
}

// verifyAt is verify; with anyExp an expired token passes (exp must still
// be present), for an id_token_hint (VerifyIDHint).
func (t *Tokens) verifyAt(ctx context.Context, token, typ string, rc *rawClaims, anyExp bool) error {
	if !wellFormed(token) {
		return fmt.Errorf("%w: malformed", ErrInvalidToken)
	}
	picker := &keyPicker{m: t.keys, ctx: ctx, typ: typ}
	payload, err := jws.Verify([]byte(token), jws.WithKeyProvider(picker), jws.WithCompact())
	if err != nil {
		if picker.err != nil {
			return picker.err
		}
		return fmt.Errorf("%w: signature", ErrInvalidToken)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(rc); err != nil {
		return fmt.Errorf("%w: claims: %v", ErrInvalidToken, err)
	}
	now := t.now()
	switch {
	case rc.Iss != t.issuer:
		return fmt.Errorf("%w: wrong issuer", ErrInvalidToken)
	case rc.Sub == "":
		return fmt.Errorf("%w: no subject", ErrInvalidToken)
	case rc.Exp == nil:
		return fmt.Errorf("%w: no exp", ErrInvalidToken)
	case !anyExp && !now.Before(rc.Exp.time().Add(Skew)):
		return fmt.Errorf("%w: expired", ErrInvalidToken)
	case rc.Nbf != nil && rc.Nbf.time().After(now.Add(Skew)):
		return fmt.Errorf("%w: not yet valid", ErrInvalidToken)
	case rc.Iat == nil:
		return fmt.Errorf("%w: no iat", ErrInvalidToken)
	case rc.Iat.time().After(now.Add(Skew)):
		return fmt.Errorf("%w: issued in the future", ErrInvalidToken)
	}
	return nil
}

// wellFormed accepts only the compact serialization in canonical base64url
// (no padding, no whitespace, exactly three parts), so a token has one
// encoding.
func wellFormed(token string) bool {
	if len(token) == 0 || len(token) > maxTokenLen {
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

// keyPicker is the only source of verification keys: the kid selects one of
// our published keys and the header alg must be that key's alg (SEC-1,
// SEC-2). jku, x5u, jwk and x5c headers are never looked at (SEC-3).
type keyPicker struct {
	m   *Manager
	ctx context.Context
	typ string
	err error
}

func (p *keyPicker) FetchKeys(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	p.err = p.pick(sink, h)
	return p.err
}

func (p *keyPicker) pick(sink jws.KeySink, h jws.Headers) error {
	alg := h.Algorithm()
	if _, ok := algorithms[alg.String()]; !ok || alg == jwa.NoSignature {
		return fmt.Errorf("%w: alg %q not accepted", ErrInvalidToken, alg)
	}
	if h.Type() != p.typ {
		return fmt.Errorf("%w: typ %q, want %q", ErrInvalidToken, h.Type(), p.typ)
	}
	if len(h.Critical()) > 0 {
		return fmt.Errorf("%w: crit header", ErrInvalidToken)
	}
	kid := h.KeyID()
	if kid == "" {
		return fmt.Errorf("%w: no kid", ErrInvalidToken)
	}
	k, ok := p.m.lookup(p.ctx, kid)
	if !ok {
		return fmt.Errorf("%w: unknown kid", ErrInvalidToken)
	}
	if k.alg != alg {
		return fmt.Errorf("%w: alg does not match key", ErrInvalidToken)
	}
	sink.Key(k.alg, k.key)
	return nil
}

// rawClaims is the decoded payload of any of our tokens.
type rawClaims struct {
	Iss           string       `json:"iss"`
	Sub           string       `json:"sub"`
	Aud           audience     `json:"aud"`
	ClientID      string       `json:"client_id"`
	Scope         string       `json:"scope"`
	Email         string       `json:"email"`
	Domain        string       `json:"domain"`
	IsActivated   *bool        `json:"is_activated"`
	SID           string       `json:"sid"`
	JTI           string       `json:"jti"`
	Nonce         string       `json:"nonce"`
	AtHash        string       `json:"at_hash"`
	EmailVerified *bool        `json:"email_verified"`
	Iat           *numericDate `json:"iat"`
	Nbf           *numericDate `json:"nbf"`
	Exp           *numericDate `json:"exp"`
	AuthTime      *numericDate `json:"auth_time"`
	AMR           []string     `json:"amr"`
	ACR           string       `json:"acr"`
	Cnf           struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// numericDate is a JWT NumericDate (seconds, possibly fractional).
type numericDate float64

func (d *numericDate) time() time.Time {
	if d == nil {
		return time.Time{}
	}
	sec, frac := math.Modf(float64(*d))
	return time.Unix(int64(sec), int64(frac*1e9))
}

// audience accepts aud as a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = many
	return nil
}

func (a audience) has(want string) bool {
	for _, v := range a {
		if v == want {
			return true
		}
	}
	return false
}

package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// TypeLogout is the typ header of back-channel logout tokens (OIDC
// Back-Channel Logout 1.0 §2.4), so no other verifier takes one for an ID
// or access token.
const TypeLogout = "logout+jwt"

// EventBackchannelLogout is the one member of a logout token's events.
const EventBackchannelLogout = "http://schemas.openid.net/event/backchannel-logout"

// LogoutTokenTTL is the lifetime of a logout token: short, since it is
// delivered at once or re-signed for each later attempt.
const LogoutTokenTTL = 2 * time.Minute

// LogoutClaims are the claims of a logout token. It never has a nonce
// (§2.4: that would let it pass for an ID token).
type LogoutClaims struct {
	Issuer    string
	Audience  string // the client_id
	Subject   string
	SID       string
	JTI       string // "" gets a fresh one; a re-signed token keeps its own
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// MintLogout signs a logout token (typ logout+jwt) for c.Audience with
// iss, aud, iat, exp (LogoutTokenTTL), jti, sid, sub and the back-channel
// event. Returns the token and the claims as encoded; ErrNoSigningKey when
// no key may sign.
func (t *Tokens) MintLogout(_ context.Context, c LogoutClaims) (string, LogoutClaims, error) {
	if c.Audience == "" || (c.Subject == "" && c.SID == "") {
		return "", c, errors.New("keys: logout token without audience, or without both sub and sid")
	}
	now := time.Unix(t.now().Unix(), 0)
	sk, err := t.keys.signing(t.now())
	if err != nil {
		return "", c, err
	}
	if c.JTI == "" {
		c.JTI = newJTI()
	}
	c.Issuer, c.IssuedAt, c.ExpiresAt = t.issuer, now, now.Add(LogoutTokenTTL)
	b, err := json.Marshal(struct {
		Iss    string              `json:"iss"`
		Aud    string              `json:"aud"`
		Sub    string              `json:"sub,omitempty"`
		SID    string              `json:"sid,omitempty"`
		Iat    int64               `json:"iat"`
		Exp    int64               `json:"exp"`
		JTI    string              `json:"jti"`
		Events map[string]struct{} `json:"events"`
	}{c.Issuer, c.Audience, c.Subject, c.SID, c.IssuedAt.Unix(), c.ExpiresAt.Unix(), c.JTI,
		map[string]struct{}{EventBackchannelLogout: {}}})
	if err != nil {
		return "", c, fmt.Errorf("keys: encode logout token: %w", err)
	}
	tok, err := t.sign(sk, sk.loHeader, b)
	return tok, c, err
}

// VerifyIDHint verifies an id_token_hint (OIDC RP-Initiated Logout 1.0
// §2): an ID token we signed (a published key, typ JWT, our iss), issued
// to clientID when clientID is not "" — but an expired one is accepted,
// since a logout often comes long after the sign-in. Returns its claims,
// with Audience the first aud; an error wrapping ErrInvalidToken
// otherwise.
func (t *Tokens) VerifyIDHint(ctx context.Context, token, clientID string) (IDClaims, error) {
	var rc rawClaims
	if err := t.verifyAt(ctx, token, TypeID, &rc, true); err != nil {
		return IDClaims{}, err
	}
	if len(rc.Aud) == 0 || (clientID != "" && !rc.Aud.has(clientID)) {
		return IDClaims{}, fmt.Errorf("%w: wrong audience", ErrInvalidToken)
	}
	aud := rc.Aud[0]
	if clientID != "" {
		aud = clientID
	}
	return IDClaims{
		Issuer: rc.Iss, Subject: rc.Sub, Audience: aud, Nonce: rc.Nonce, SID: rc.SID,
		AuthTime: rc.AuthTime.time(), IssuedAt: rc.Iat.time(), ExpiresAt: rc.Exp.time(),
	}, nil
}

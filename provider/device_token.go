package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"user-registry/keys"
	"user-registry/storage"
)

// DeviceToken answers one poll of the token endpoint with
// grant_type=urn:ietf:params:oauth:grant-type:device_code by client c
// (already authenticated). The store decides the poll atomically, so of
// any number of nodes polled at once exactly one issues the tokens, once
// (storage.DeviceStore). jkt is the thumbprint of the request's DPoP
// proof ("" for none), bound as in the code grant.
//
// Returns ErrUnauthorizedClient when c lacks the grant, ErrInvalidRequest
// without a device code, ErrAuthorizationPending, ErrSlowDown,
// ErrDeviceDenied, ErrExpiredToken, an ErrInvalidGrant variant for an
// unknown code, another client's, one already redeemed, or one approved by
// a user who has since signed out everywhere, been disabled or deleted;
// other errors wrap storage.ErrUnavailable or keys.ErrNoSigningKey.
func (f *DeviceFlow) DeviceToken(ctx context.Context, c storage.Client, deviceCode, jkt string) (CodeTokens, error) {
	if !slices.Contains(c.GrantTypes, GrantDeviceCode) {
		return CodeTokens{}, ErrUnauthorizedClient
	}
	if deviceCode == "" {
		return CodeTokens{}, InvalidRequest("device_code is required")
	}
	if len(deviceCode) > 128 {
		return CodeTokens{}, invalidGrant("Unknown device code")
	}
	g, out, err := f.store.PollDeviceGrant(ctx, HashSecret(deviceCode), c.ID, f.now(), DeviceSlowDownStep)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return CodeTokens{}, invalidGrant("Unknown device code, or issued to another client")
	case errors.Is(err, storage.ErrReused):
		return CodeTokens{}, invalidGrant("The device code was already used")
	case err != nil:
		return CodeTokens{}, fmt.Errorf("provider: poll device grant: %w", err)
	}
	switch out {
	case storage.PollApproved:
		return f.issue(ctx, c, g, jkt)
	case storage.PollSlowDown:
		return CodeTokens{}, ErrSlowDown
	case storage.PollDenied:
		return CodeTokens{}, ErrDeviceDenied
	case storage.PollExpired:
		return CodeTokens{}, ErrExpiredToken
	default:
		return CodeTokens{}, ErrAuthorizationPending
	}
}

// issue mints the tokens of an approved grant, with the code grant's rules:
// a refresh token with offline_access when the client has the
// refresh_token grant, an ID token with openid.
func (f *DeviceFlow) issue(ctx context.Context, c storage.Client, g storage.DeviceGrant, jkt string) (CodeTokens, error) {
	// The approving session may have ended since (logout everywhere, a
	// password change): its approval ends with it, as a code's does.
	if err := f.code.checkNotBefore(ctx, storage.AuthCode{UserID: g.UserID, AuthTime: g.AuthTime}); err != nil {
		return CodeTokens{}, err
	}
	if f.code.logouts != nil && g.SID != "" {
		// As at a code exchange: the client is recorded in the approving
		// browser session before its tokens exist, so that session's end
		// revokes them and tells the client (SPEC §12).
		if err := f.code.logouts.AddClient(ctx, g.SID, g.UserID, g.AuthTime, c.ID, g.FamilyID); err != nil {
			return CodeTokens{}, err
		}
	}
	u, err := f.code.accounts.Me(ctx, g.UserID)
	if errors.Is(err, ErrUnauthenticated) {
		return CodeTokens{}, invalidGrant("The user no longer exists or is disabled")
	}
	if err != nil {
		return CodeTokens{}, err
	}
	scopes := splitScope(g.Scope)
	pair, err := f.code.accounts.IssueTokensFor(ctx, u, Grant{
		ClientID:    c.ID,
		Scope:       g.Scope,
		Audience:    clientAudience(c),
		FamilyID:    g.FamilyID,
		WithRefresh: slices.Contains(scopes, ScopeOfflineAccess) && slices.Contains(c.GrantTypes, GrantRefreshToken),
		Bind:        Binding{JKT: jkt, Refresh: c.Public},
		AMR:         g.AMR,
	})
	if err != nil {
		return CodeTokens{}, err
	}
	out := CodeTokens{TokenPair: pair, Scope: g.Scope}
	if slices.Contains(scopes, ScopeOpenID) {
		sid := g.SID // the browser session that approved (SPEC §12)
		if sid == "" {
			sid = g.FamilyID
		}
		idc := keys.IDClaims{Subject: u.ID, Audience: c.ID, SID: sid, AuthTime: g.AuthTime, AMR: g.AMR, ACR: ACRFor(g.AMR)}
		if slices.Contains(scopes, ScopeEmail) {
			verified := u.IsActivated
			idc.Email, idc.EmailVerified = u.Email, &verified
		}
		if out.IDToken, _, err = f.code.ids.MintIDFor(ctx, idc, pair.AccessToken); err != nil {
			return CodeTokens{}, fmt.Errorf("provider: mint id token: %w", err)
		}
	}
	return out, nil
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"user-registry/storage"
)

// ConsentNeeded reports whether user userID must approve req on the
// consent page: not for a trusted client (--trusted), nor when the user
// already approved every requested scope for this client within
// ConsentTTL. Errors wrap storage.ErrUnavailable.
func (f *CodeFlow) ConsentNeeded(ctx context.Context, userID string, req AuthorizeRequest) (bool, error) {
	if req.Client.Trusted {
		return false, nil
	}
	c, err := f.sessions.Consent(ctx, userID, req.Client.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("provider: load consent: %w", err)
	}
	for _, s := range req.Scopes {
		if !slices.Contains(c.Scopes, s) {
			return true, nil
		}
	}
	return false, nil
}

// Approve remembers that user userID approved req's scopes for its client,
// for ConsentTTL from now, adding them to what the user approved before.
// Errors wrap storage.ErrUnavailable.
func (f *CodeFlow) Approve(ctx context.Context, userID string, req AuthorizeRequest) error {
	scopes := slices.Clone(req.Scopes)
	prev, err := f.sessions.Consent(ctx, userID, req.Client.ID)
	switch {
	case err == nil:
		for _, s := range prev.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	case !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("provider: load consent: %w", err)
	}
	err = f.sessions.SaveConsent(ctx, storage.Consent{
		UserID: userID, ClientID: req.Client.ID, Scopes: scopes, ExpiresAt: f.now().Add(f.consentTTL),
	})
	if err != nil {
		return fmt.Errorf("provider: save consent: %w", err)
	}
	return nil
}

// ScopeDescription is one line of the consent page.
type ScopeDescription struct {
	Scope string
	Text  string
}

// scopeTexts are the plain words the consent page shows for each scope.
var scopeTexts = map[string]string{
	ScopeOpenID:        "Confirm who you are (your account identifier)",
	ScopeEmail:         "See your email address and whether it is verified",
	ScopePhone:         "See your phone number",
	ScopeProfile:       "See your basic profile",
	ScopeOfflineAccess: "Stay connected when you are not using it (until you sign out everywhere)",
}

// DescribeScopes returns the consent page's text for each scope of req.
func DescribeScopes(req AuthorizeRequest) []ScopeDescription {
	out := make([]ScopeDescription, 0, len(req.Scopes))
	for _, s := range req.Scopes {
		out = append(out, ScopeDescription{Scope: s, Text: scopeTexts[s]})
	}
	return out
}

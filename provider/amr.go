package provider

import (
	"context"
	"fmt"
	"slices"

	"user-registry/storage"
)

// Authentication methods (RFC 8176) that sign-ins record in amr (SPEC §10):
// password only ["pwd"]; password + TOTP or recovery code
// ["pwd","otp","mfa"]; password + passkey ["pwd","hwk","mfa"]; passwordless
// passkey ["hwk","user","mfa"].
const (
	AMRPassword    = "pwd"
	AMROTP         = "otp"
	AMRHardwareKey = "hwk"
	AMRUser        = "user"
	AMRMFA         = "mfa"
)

// Authentication context classes (acr, SPEC §10): "mfa" whenever amr holds
// "mfa", else "pwd". These are also the acr_values the code flow accepts.
const (
	ACRPassword = "pwd"
	ACRMFA      = "mfa"
)

// ACRFor is the acr of a sign-in with amr; "" for no amr (tokens minted
// before amr was recorded, which keep carrying none).
func ACRFor(amr []string) string {
	switch {
	case len(amr) == 0:
		return ""
	case HasMFA(amr):
		return ACRMFA
	default:
		return ACRPassword
	}
}

// HasMFA reports whether amr records a second factor.
func HasMFA(amr []string) bool { return slices.Contains(amr, AMRMFA) }

// amrPasswordOnly and amrPasswordOTP are the two amr values of the password
// sign-ins (copied by callers: never handed out to be appended to).
func amrPasswordOnly() []string { return []string{AMRPassword} }
func amrPasswordOTP() []string  { return []string{AMRPassword, AMROTP, AMRMFA} }

// AMRWithPasskey is the amr of a password and a passkey; AMRPasswordless
// that of a passkey alone, whose user verification (a PIN, a biometric)
// makes it two factors on its own.
func AMRWithPasskey() []string  { return []string{AMRPassword, AMRHardwareKey, AMRMFA} }
func AMRPasswordless() []string { return []string{AMRHardwareKey, AMRUser, AMRMFA} }

// IssueTokensAMR issues the /login body's tokens for u with amr (acr "mfa"
// iff amr holds "mfa", else "pwd"), bound to the DPoP key jkt when jkt !=
// "", the refresh family remembering amr and acr. Errors as
// IssueTokensBound.
func (a *Accounts) IssueTokensAMR(ctx context.Context, u storage.User, jkt string, amr []string) (TokenPair, error) {
	g := a.loginGrant("")
	g.Bind = Binding{JKT: jkt, Refresh: true}
	g.AMR = slices.Clone(amr)
	return a.IssueTokensFor(ctx, u, g)
}

// mfaStillSatisfied refuses a session without a second factor once the
// user's domain requires one (SPEC §10, SEC-59): such a session is not
// refreshed, its user signs in again. Returns ErrUnauthenticated, or an
// error wrapping storage.ErrUnavailable.
func (a *Accounts) mfaStillSatisfied(ctx context.Context, u storage.User, amr []string) error {
	if HasMFA(amr) {
		return nil
	}
	required, err := a.policy.RequireMFA(ctx, u.Domain)
	if err != nil {
		return fmt.Errorf("provider: refresh: %w", err)
	}
	if required {
		return fmt.Errorf("%w: the domain requires a second factor", ErrUnauthenticated)
	}
	return nil
}

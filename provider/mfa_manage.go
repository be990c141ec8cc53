package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"user-registry/storage"
)

// MFAStatus is the body of GET /mfa (SPEC §10).
type MFAStatus struct {
	TOTP              bool          `json:"totp"`
	Passkeys          []PasskeyInfo `json:"passkeys"`
	RecoveryCodesLeft int           `json:"recovery_codes_left"`
}

// PasskeyInfo is one passkey as GET /mfa lists it.
type PasskeyInfo struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// PasskeyLister is implemented by a PasskeyFactor that can list a user's
// passkeys; Status lists them when it does.
type PasskeyLister interface {
	List(ctx context.Context, userID string) ([]PasskeyInfo, error)
}

// Status returns the user's second factors. Returns ErrUnauthenticated or
// an error wrapping storage.ErrUnavailable.
func (m *MFA) Status(ctx context.Context, userID string) (MFAStatus, error) {
	u, err := m.a.user(ctx, userID)
	if err != nil {
		return MFAStatus{}, err
	}
	on, err := m.hasTOTP(ctx, u.ID)
	if err != nil {
		return MFAStatus{}, err
	}
	left, err := m.store.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return MFAStatus{}, fmt.Errorf("provider: mfa: %w", err)
	}
	st := MFAStatus{TOTP: on, Passkeys: []PasskeyInfo{}, RecoveryCodesLeft: left}
	if l, ok := m.passkeys.(PasskeyLister); ok {
		list, err := l.List(ctx, u.ID)
		if err != nil {
			return MFAStatus{}, fmt.Errorf("provider: mfa: passkeys: %w", err)
		}
		if list != nil {
			st.Passkeys = list
		}
	}
	return st, nil
}

// HasFactor reports whether the user has a second factor (TOTP or a
// passkey).
func (m *MFA) HasFactor(ctx context.Context, userID string) (bool, error) {
	methods, err := m.Methods(ctx, userID)
	return len(methods) > 0, err
}

// RequiresMFA reports whether u's domain requires a second factor.
func (m *MFA) RequiresMFA(ctx context.Context, u storage.User) (bool, error) {
	req, err := m.a.policy.RequireMFA(ctx, u.Domain)
	if err != nil {
		return false, fmt.Errorf("provider: mfa: %w", err)
	}
	return req, nil
}

// CheckRemoval is asked before a passkey goes, with the passkeys that
// would be left: ErrLastFactor when the domain requires a second factor
// and nothing (no passkey, no TOTP) would remain (SEC-59).
func (m *MFA) CheckRemoval(ctx context.Context, u storage.User, passkeysLeft int) error {
	return m.checkRemoval(ctx, u, passkeysLeft, true)
}

// checkRemoval is CheckRemoval; totpStays false when TOTP is the factor
// going.
func (m *MFA) checkRemoval(ctx context.Context, u storage.User, passkeysLeft int, totpStays bool) error {
	if passkeysLeft > 0 {
		return nil
	}
	req, err := m.RequiresMFA(ctx, u)
	if err != nil || !req {
		return err
	}
	if !totpStays {
		return ErrLastFactor
	}
	on, err := m.hasTOTP(ctx, u.ID)
	if err != nil {
		return err
	}
	if !on {
		return ErrLastFactor
	}
	return nil
}

// FactorChanged is told after a factor was added or removed (kind: "totp"
// or "passkey"): when none is left the recovery codes are voided (they are
// no factor on their own); the user gets a mail and the event is audited.
func (m *MFA) FactorChanged(ctx context.Context, u storage.User, added bool, kind string) {
	name := "an authenticator app"
	if kind == MethodPasskey {
		name = "a passkey"
	}
	if added {
		m.recordFactor(ctx, u, kind, true)
		m.sendMail(u, "A second factor was added",
			"Sign-in with "+name+" was added to your account as a second factor.\n"+
				"If this was not you, change your password and remove it on the account page.\n")
		return
	}
	left, err := m.HasFactor(ctx, u.ID)
	if err != nil {
		m.log.WarnContext(ctx, "mfa: after removal: factors not counted", "user_id", u.ID, "err", err)
	}
	if err == nil && !left {
		if err := m.store.DeleteRecoveryCodes(ctx, u.ID); err != nil {
			m.log.ErrorContext(ctx, "mfa: recovery codes not voided", "user_id", u.ID, "err", err)
		}
	}
	m.recordFactor(ctx, u, kind, false)
	m.sendMail(u, "A second factor was removed",
		"Sign-in with "+name+" was removed from your account.\n"+
			"If this was not you, change your password at once.\n")
}

func (m *MFA) recordFactor(ctx context.Context, u storage.User, kind string, added bool) {
	event := EventMFAEnabled
	switch {
	case kind == MethodPasskey && added:
		event = EventPasskeyAdded
	case kind == MethodPasskey:
		event = EventPasskeyRemoved
	case !added:
		event = EventMFADisabled
	}
	m.audit.Record(ctx, userEvent(event, u))
}

// sendMail queues a notice to u when a mailer is configured.
func (m *MFA) sendMail(u storage.User, subject, text string) {
	if m.mail == nil {
		return
	}
	if !m.mail.Enqueue(Mail{To: u.Email, Subject: subject, Text: text}) {
		m.log.Warn("mfa: notice mail dropped", "user_id", u.ID, "subject", subject)
	}
}

// Reset removes every second factor of u (see MFAAdmin.Reset) and tells
// the user by mail.
func (m *MFA) Reset(ctx context.Context, u storage.User) error {
	if err := m.Admin().Reset(ctx, u); err != nil {
		return err
	}
	m.sendMail(u, "Your second factors were removed",
		"An administrator removed the second factors of your account. Sign in with your password and set them up again.\n")
	return nil
}

// Summary is u's factors as the admin API shows them.
func (m *MFA) Summary(ctx context.Context, userID string) (UserMFA, error) {
	return m.Admin().Summary(ctx, userID)
}

// Admin is the operators' view of the same factors.
func (m *MFA) Admin() *MFAAdmin { return &MFAAdmin{Store: m.store, Passkeys: m.passkeys} }

// MFAAdmin is what the operators' user administration (UserAdmin, the
// CLI and the admin API) does with second factors: show and reset them.
// It needs no sign-in machinery, so the CLI builds it from the database
// alone.
type MFAAdmin struct {
	Store    storage.MFAStore
	Passkeys PasskeyFactor // nil: passkeys off
}

// Reset removes every second factor of u: TOTP (pending too), recovery
// codes and passkeys (users mfa-reset, DELETE /admin/users/{id}/mfa).
// Returns an error wrapping storage.ErrUnavailable.
func (a *MFAAdmin) Reset(ctx context.Context, u storage.User) error {
	if err := a.Store.DeleteTOTP(ctx, u.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("provider: mfa reset: %w", err)
	}
	if err := a.Store.DeleteRecoveryCodes(ctx, u.ID); err != nil {
		return fmt.Errorf("provider: mfa reset: %w", err)
	}
	if a.Passkeys != nil {
		if err := a.Passkeys.RemoveAll(ctx, u.ID); err != nil {
			return fmt.Errorf("provider: mfa reset: passkeys: %w", err)
		}
	}
	return nil
}

// Summary returns whether TOTP is on and how many passkeys the user has.
func (a *MFAAdmin) Summary(ctx context.Context, userID string) (UserMFA, error) {
	var s UserMFA
	f, err := a.Store.TOTP(ctx, userID)
	switch {
	case err == nil:
		s.TOTP = f.Confirmed
	case !errors.Is(err, storage.ErrNotFound):
		return UserMFA{}, fmt.Errorf("provider: mfa: %w", err)
	}
	if a.Passkeys != nil {
		n, err := a.Passkeys.Count(ctx, userID)
		if err != nil {
			return UserMFA{}, fmt.Errorf("provider: mfa: passkeys: %w", err)
		}
		s.Passkeys = n
	}
	return s, nil
}

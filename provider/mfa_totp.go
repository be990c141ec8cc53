package provider

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"user-registry/keys"
	"user-registry/storage"
)

// TOTP parameters (SPEC §10, RFC 6238): SHA-1, 6 digits, 30 s steps, one
// step of skew either side, a 160-bit secret (RFC 4226's recommendation).
const (
	totpPeriod     = 30
	totpSkew       = 1
	totpSecretSize = 20
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPEnrolment is what a started enrolment shows the user once: the
// base32 secret and the otpauth URI (for a QR code).
type TOTPEnrolment struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
}

// isTOTPCode reports whether code has the form of a TOTP code.
func isTOTPCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// matchStep returns the step within one of now's whose code is code, the
// latest first; ok false when none matches. The comparison is constant
// time. pquerna/otp computes the codes; the window and the once-only rule
// are ours (totp.Validate has no replay protection).
func matchStep(secret, code string, now time.Time) (step int64, ok bool, err error) {
	cur := totpStep(now)
	for s := cur + totpSkew; s >= cur-totpSkew; s-- {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false, fmt.Errorf("provider: totp: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true, nil
		}
	}
	return 0, false, nil
}

// sealTOTP and openTOTP keep a secret at rest: AES-GCM under the key
// secret with the user id as additional data (SEC-57), so a row copied to
// another user does not open.
func (m *MFA) sealTOTP(userID, secret string) ([]byte, error) {
	return keys.Seal(m.secret, []byte(userID), []byte(secret))
}

func (m *MFA) openTOTP(f storage.TOTPFactor) (string, error) {
	b, err := keys.Open(m.secret, []byte(f.UserID), f.Secret)
	if err != nil {
		return "", fmt.Errorf("provider: totp secret of %s does not decrypt (wrong --key-secret?): %w", f.UserID, err)
	}
	return string(b), nil
}

// checkTOTP checks a sign-in code against u's confirmed factor: a code of
// the step before, the current or the next one, whose step is after the
// last accepted, taken with the store's compare-and-set so it passes once
// on every node (SEC-55).
func (m *MFA) checkTOTP(ctx context.Context, u storage.User, code string) (bool, error) {
	f, err := m.store.TOTP(ctx, u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("provider: mfa: %w", err)
	}
	if !f.Confirmed {
		return false, nil
	}
	secret, err := m.openTOTP(f)
	if err != nil {
		return false, err
	}
	step, ok, err := matchStep(secret, code, m.now())
	if err != nil || !ok || step <= f.LastStep {
		return false, err
	}
	switch err := m.store.UseTOTPStep(ctx, u.ID, step); {
	case err == nil:
		return true, nil
	case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrNotFound):
		return false, nil // another request took the step, or TOTP went
	default:
		return false, fmt.Errorf("provider: mfa: %w", err)
	}
}

// StartTOTP begins a TOTP enrolment (POST /mfa/totp) after checking the
// password: a fresh secret, stored sealed and pending until ConfirmTOTP.
// A pending enrolment is replaced. Returns ErrWrongPassword,
// *RateLimitError, ErrMFAAlreadyEnabled, ErrUnauthenticated, or an error
// wrapping storage.ErrUnavailable.
func (m *MFA) StartTOTP(ctx context.Context, userID, password string) (TOTPEnrolment, error) {
	u, err := m.a.checkOwnPassword(ctx, userID, password)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return m.startTOTP(ctx, u)
}

// StartTOTPForced begins an enrolment for a user the pages have just
// signed in with the password, whose domain requires a second factor and
// who has none: the password was checked moments ago.
func (m *MFA) StartTOTPForced(ctx context.Context, u storage.User) (TOTPEnrolment, error) {
	return m.startTOTP(ctx, u)
}

func (m *MFA) startTOTP(ctx context.Context, u storage.User) (TOTPEnrolment, error) {
	on, err := m.hasTOTP(ctx, u.ID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if on {
		return TOTPEnrolment{}, ErrMFAAlreadyEnabled
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: m.issuer, AccountName: u.Email, Period: totpPeriod, SecretSize: totpSecretSize,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("provider: totp: generate: %w", err)
	}
	sealed, err := m.sealTOTP(u.ID, key.Secret())
	if err != nil {
		return TOTPEnrolment{}, err
	}
	err = m.store.CreateTOTP(ctx, storage.TOTPFactor{UserID: u.ID, Secret: sealed, CreatedAt: m.now().UTC()})
	if errors.Is(err, storage.ErrExists) {
		return TOTPEnrolment{}, ErrMFAAlreadyEnabled
	}
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("provider: mfa: %w", err)
	}
	return TOTPEnrolment{Secret: key.Secret(), OTPAuthURI: key.URL()}, nil
}

// ConfirmTOTP completes an enrolment with its first code (POST
// /mfa/totp/confirm). The code's step is taken as the factor is confirmed,
// so the enrolment code never signs in (SEC-55). Recovery codes come with
// the first factor: a new set when the user has none left (nil
// otherwise). Returns ErrNothingPending, ErrWrongEnrolmentCode,
// ErrUnauthenticated, or an error wrapping storage.ErrUnavailable.
func (m *MFA) ConfirmTOTP(ctx context.Context, userID, code string) ([]string, error) {
	u, err := m.a.user(ctx, userID)
	if err != nil {
		return nil, err
	}
	f, err := m.store.TOTP(ctx, u.ID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && f.Confirmed {
		return nil, ErrNothingPending
	}
	if err != nil {
		return nil, fmt.Errorf("provider: mfa: %w", err)
	}
	secret, err := m.openTOTP(f)
	if err != nil {
		return nil, err
	}
	step, ok, err := matchStep(secret, code, m.now())
	if err != nil {
		return nil, err
	}
	if !ok || !isTOTPCode(code) {
		return nil, ErrWrongEnrolmentCode
	}
	switch err := m.store.ConfirmTOTP(ctx, u.ID, step); {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrNothingPending
	case errors.Is(err, storage.ErrConflict):
		return nil, ErrWrongEnrolmentCode
	case err != nil:
		return nil, fmt.Errorf("provider: mfa: %w", err)
	}
	codes, err := m.issueCodesIfNone(ctx, u)
	if err != nil {
		return nil, err
	}
	m.FactorChanged(ctx, u, true, MethodTOTP)
	return codes, nil
}

// DisableTOTP removes the TOTP factor after checking the password (DELETE
// /mfa/totp). Returns ErrWrongPassword, *RateLimitError,
// ErrTOTPNotEnabled, ErrLastFactor, or an error wrapping
// storage.ErrUnavailable.
func (m *MFA) DisableTOTP(ctx context.Context, userID, password string) error {
	u, err := m.a.checkOwnPassword(ctx, userID, password)
	if err != nil {
		return err
	}
	on, err := m.hasTOTP(ctx, u.ID)
	if err != nil {
		return err
	}
	if !on {
		return ErrTOTPNotEnabled
	}
	n, err := m.passkeyCount(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := m.checkRemoval(ctx, u, n, false); err != nil {
		return err
	}
	if err := m.store.DeleteTOTP(ctx, u.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("provider: mfa: %w", err)
	}
	m.FactorChanged(ctx, u, false, MethodTOTP)
	return nil
}

// PendingTOTP returns the enrolment the user started and has not
// confirmed, to show it again while it is pending (a wrong first code, the
// QR image). A confirmed secret is never shown again (SEC-57): then, and
// when nothing is pending, ErrNothingPending.
func (m *MFA) PendingTOTP(ctx context.Context, u storage.User) (TOTPEnrolment, error) {
	f, err := m.store.TOTP(ctx, u.ID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && f.Confirmed {
		return TOTPEnrolment{}, ErrNothingPending
	}
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("provider: mfa: %w", err)
	}
	secret, err := m.openTOTP(f)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	key, err := otp.NewKeyFromURL((&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + m.issuer + ":" + u.Email,
		RawQuery: url.Values{"secret": {secret}, "issuer": {m.issuer}, "period": {"30"}, "digits": {"6"},
			"algorithm": {"SHA1"}}.Encode()}).String())
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("provider: totp: %w", err)
	}
	return TOTPEnrolment{Secret: secret, OTPAuthURI: key.URL()}, nil
}

// FinishEnrolment is the forced enrolment of the pages (a user whose
// domain requires a second factor, or a client asking for one, and who
// has none): the challenge of mfaToken stands for the password just
// checked; code confirms the TOTP enrolment StartTOTPForced began. On
// success the challenge ends; the user and the recovery codes to show
// once are returned, and the sign-in counts as password + TOTP. A wrong
// code counts against the challenge and the login limit. Returns
// ErrMFAExpired, ErrWrongEnrolmentCode, ErrNothingPending,
// *RateLimitError, or an error wrapping storage.ErrUnavailable.
func (m *MFA) FinishEnrolment(ctx context.Context, mfaToken, code string) (storage.User, []string, error) {
	u, err := m.PendingUser(ctx, mfaToken)
	if err != nil {
		return storage.User{}, nil, err
	}
	key := loginKeyPrefix + u.EmailCanonical
	if _, err := m.a.loginRL.Allow(ctx, key); err != nil {
		return storage.User{}, nil, err
	}
	codes, err := m.ConfirmTOTP(ctx, u.ID, code)
	if errors.Is(err, ErrWrongEnrolmentCode) {
		if ferr := m.Fail(ctx, mfaToken); ferr != nil && !errors.Is(ferr, ErrMFAExpired) {
			return storage.User{}, nil, ferr
		}
		return storage.User{}, nil, err
	}
	if rerr := m.a.loginRL.Refund(ctx, key); rerr != nil {
		m.log.WarnContext(ctx, "login limit: refund not stored", "err", rerr)
	}
	if err != nil {
		return storage.User{}, nil, err
	}
	u, err = m.consume(ctx, mfaToken)
	return u, codes, err
}

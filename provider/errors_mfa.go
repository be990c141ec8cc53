package provider

import "slices"

// Second-factor sentinels (SPEC §10). Like the account sentinels their text
// is the user-facing message; the web layer's table gives the status (in
// parentheses).
var (
	// ErrMFARequired is matched by every *MFARequiredError (401 with the
	// mfa_token and methods).
	ErrMFARequired error = &accountError{"Second factor required."}
	// ErrMFAExpired: a dead or unknown mfa_token (401).
	ErrMFAExpired error = &accountError{"Second factor expired. Sign in again."}
	// ErrWrongCode: a wrong TOTP or recovery code at sign-in (401).
	ErrWrongCode error = &accountError{"Wrong code."}
	// ErrWrongEnrolmentCode: a wrong first code confirming TOTP (400).
	ErrWrongEnrolmentCode error = &accountError{"Wrong code."}
	// ErrMFASetupRequired: the user's domain requires a second factor and
	// the user has none (403 at /login).
	ErrMFASetupRequired error = &accountError{"Your domain requires two-factor authentication. Set it up on the account page."}
	// ErrMFAAlreadyEnabled: TOTP enrolment while TOTP is on (409).
	ErrMFAAlreadyEnabled error = &accountError{"Two-factor authentication is already enabled."}
	// ErrNothingPending: a TOTP confirm without an enrolment (409).
	ErrNothingPending error = &accountError{"No two-factor enrolment is pending. Start again."}
	// ErrTOTPNotEnabled: removing TOTP that is not on (409).
	ErrTOTPNotEnabled error = &accountError{"Two-factor authentication is not enabled."}
	// ErrNoFactor: recovery codes asked for without a factor (409).
	ErrNoFactor error = &accountError{"Enable a second factor first."}
	// ErrLastFactor: removing the last factor while the domain requires
	// one (409).
	ErrLastFactor error = &accountError{"Your domain requires two-factor authentication: the last second factor cannot be removed."}
	// ErrPasskeyInvalid: a registration response that fails the WebAuthn
	// checks, or has no live ceremony (begun elsewhere, expired, or
	// already finished) (400).
	ErrPasskeyInvalid error = &accountError{"The passkey was not accepted. Start again."}
	// ErrPasskeySignIn: a sign-in with a passkey that fails (unknown or
	// used ceremony, a response for another origin or RP ID, a bad
	// signature, a sign count gone backwards, another user's credential,
	// a disabled user) (401). It says no more, like a wrong password.
	ErrPasskeySignIn error = &accountError{"Passkey sign-in failed."}
	// ErrPasskeyNotFound: removing a passkey the user does not have (404).
	ErrPasskeyNotFound error = &accountError{"Passkey not found."}
)

// Sign-in methods listed in an MFARequiredError (SPEC §10).
const (
	MethodTOTP         = "totp"
	MethodPasskey      = "passkey"
	MethodRecoveryCode = "recovery_code"
)

// MFARequiredError is the answer to a right password of a user with a
// second factor: the sign-in continues at /login/mfa (or the passkey
// endpoints) with Token. errors.Is(err, ErrMFARequired) holds.
type MFARequiredError struct {
	Token   string   // the mfa_token; shown once, stored hashed
	Methods []string // the user's methods, from MethodTOTP, MethodPasskey, MethodRecoveryCode
}

func (e *MFARequiredError) Error() string { return ErrMFARequired.Error() }

// UserMessage returns the text to send as {"message": ...}.
func (e *MFARequiredError) UserMessage() string { return ErrMFARequired.Error() }

// Is makes errors.Is(err, ErrMFARequired) hold.
func (e *MFARequiredError) Is(target error) bool { return target == ErrMFARequired }

// HasMethod reports whether m is one of the methods.
func (e *MFARequiredError) HasMethod(m string) bool { return slices.Contains(e.Methods, m) }

package provider

import (
	"fmt"
	"time"
)

// accountError is an account-flow failure whose text is the user-facing
// message of the original service (SPEC §3). It is compared by identity
// (errors.Is on the exported sentinels) and exposes UserMessage so the web
// layer shows the message even when the error arrives wrapped.
type accountError struct{ msg string }

func (e *accountError) Error() string { return e.msg }

// UserMessage returns the text to send as {"message": ...}.
func (e *accountError) UserMessage() string { return e.msg }

// Account-flow sentinels. Their Error text is the user-facing message; the
// web layer maps each to its status (in parentheses, per SPEC §3).
var (
	// ErrDomainBlocked: signup from a blocked domain (401).
	ErrDomainBlocked error = &accountError{"You are not allowed to register."}
	// ErrUserExists: signup of a taken address (202).
	ErrUserExists error = &accountError{"User already exists. Please log in"}
	// ErrUnknownUser: login with an address no account has (401; in
	// `generic` mode the web layer shows GenericLoginMessage instead).
	ErrUnknownUser error = &accountError{"User does not exist."}
	// ErrWrongPassword: login, password change or account deletion with a
	// wrong password (401).
	ErrWrongPassword error = &accountError{"Wrong password."}
	// ErrUnauthenticated: a missing, invalid, expired or revoked access
	// token, an unusable refresh token, or a token whose user is gone (401).
	ErrUnauthenticated error = &accountError{"Invalid or expired token."}
	// ErrNotVerified: login of an unverified user with
	// --require-verified-email (403).
	ErrNotVerified error = &accountError{"Please verify your email address."}
	// ErrUserDisabled: login of a user an operator disabled (403, SPEC
	// §13). Like ErrNotVerified it is told only after the password
	// check, so only the account owner learns the state.
	ErrUserDisabled error = &accountError{"This account is disabled."}
	// ErrForeignToken: a token issued to a third-party OAuth client,
	// presented to an account endpoint (403; see Accounts.FirstParty).
	ErrForeignToken error = &accountError{"This token was not issued for the account API"}
	// ErrRateLimited is matched (errors.Is) by every *RateLimitError (429).
	ErrRateLimited error = &accountError{"Too many requests. Please try again later."}
)

// GenericLoginMessage is the single login failure message of the `generic`
// error mode (SEC-27), for ErrUnknownUser and ErrWrongPassword alike.
const GenericLoginMessage = "Invalid email or password."

// msgPasswordMismatch is the original service's confirm_pass message.
const msgPasswordMismatch = "Passwords don't match!"

// RateLimitError reports that a rate limit was reached. RetryAfter is how
// long until the window resets, at least one second, in whole seconds, ready
// for the Retry-After header. errors.Is(err, ErrRateLimited) holds.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited: retry after %s", e.RetryAfter)
}

// UserMessage returns the text to send as {"message": ...}.
func (e *RateLimitError) UserMessage() string { return ErrRateLimited.Error() }

// Is makes errors.Is(err, ErrRateLimited) hold.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Seconds returns RetryAfter in whole seconds, at least 1, for the
// Retry-After header.
func (e *RateLimitError) Seconds() int {
	s := int((e.RetryAfter + time.Second - 1) / time.Second)
	return max(s, 1)
}

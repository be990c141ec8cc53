package provider

import "errors"

// ErrInvalidInput is wrapped by every error caused by malformed user input
// (email, domain, phone, password). The web layer answers 400 for it, with
// the user-facing text from Message.
var ErrInvalidInput = errors.New("invalid input")

// inputError is a user-input error with a message safe to show to the user.
// It matches ErrInvalidInput under errors.Is, so callers can test the class
// while the message stays specific.
type inputError struct {
	msg string
}

func (e *inputError) Error() string { return "invalid input: " + e.msg }

// UserMessage returns the text to send as {"message": ...}; the web layer
// looks for this method on any error (see also Message).
func (e *inputError) UserMessage() string { return e.msg }

// Is makes errors.Is(err, ErrInvalidInput) hold for every inputError.
func (e *inputError) Is(target error) bool { return target == ErrInvalidInput }

// InvalidInput returns an error wrapping ErrInvalidInput whose user-facing
// message (see Message) is msg, e.g. "Please provide a valid email".
func InvalidInput(msg string) error {
	return &inputError{msg: msg}
}

// Message returns the user-facing message carried by err (or by an error it
// wraps), such as "Please provide a valid email": the UserMessage of the
// first error in the chain that has one. For a bare ErrInvalidInput it
// returns "Invalid input"; for errors carrying no message it returns "", and
// the caller picks its own (never the internal error text).
func Message(err error) string {
	var m interface{ UserMessage() string }
	if errors.As(err, &m) {
		return m.UserMessage()
	}
	if errors.Is(err, ErrInvalidInput) {
		return "Invalid input"
	}
	return ""
}

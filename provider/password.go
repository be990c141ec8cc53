package provider

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Password length in Unicode code points after NFKC (SPEC §3, SEC-25).
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

const (
	msgPasswordLength = "Password must be 8 to 128 characters long"
	msgPasswordCommon = "This password is too common. Please choose another one"
	msgPasswordText   = "Password must be valid UTF-8 text"

	maxPasswordInput = 4096 // bytes, before normalization
)

// NormalizePassword returns the NFKC form of pw, which is what gets hashed.
// Signup, login and password changes all pass passwords through it, so a
// password typed with fullwidth digits or a precomposed "é" on one device
// matches the same password typed differently on another.
func NormalizePassword(pw string) string {
	return norm.NFKC.String(pw)
}

// CheckPassword applies the password policy (SPEC §3, SEC-25) and returns
// the normalized password to hash: NFKC, 8 to 128 code points, and not in
// the shipped list of common passwords (compared case-insensitively). There
// are deliberately no composition rules (digits, symbols).
//
// Errors wrap ErrInvalidInput with a message saying which rule failed.
func CheckPassword(pw string) (string, error) {
	if !utf8.ValidString(pw) {
		return "", InvalidInput(msgPasswordText)
	}
	// Bound the work before normalizing. NFKC composition can shrink a
	// string (three Hangul jamo become one syllable, a letter and two marks
	// one precomposed letter), so the raw byte length is not the limit; but
	// no 128-code-point result comes from more than 4 KiB of input.
	if len(pw) > maxPasswordInput {
		return "", InvalidInput(msgPasswordLength)
	}
	n := NormalizePassword(pw)
	if c := utf8.RuneCountInString(n); c < MinPasswordLen || c > MaxPasswordLen {
		return "", InvalidInput(msgPasswordLength)
	}
	if isCommonPassword(n) {
		return "", InvalidInput(msgPasswordCommon)
	}
	return n, nil
}

// isCommonPassword reports whether pw, lower-cased, is in the common list.
func isCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}

package provider

import "strings"

const msgInvalidPhone = "Please provide a valid phone number (e.g. 921234567890)"

// E.164 allows at most 15 digits; fewer than 8 is no reachable number.
const (
	minPhoneDigits = 8
	maxPhoneDigits = 15
)

// ParsePhone normalizes a phone number to E.164 with a leading "+" (SPEC §3,
// SEC-30). Spaces, dots, dashes and brackets are removed and a leading "+"
// is optional, so the original service's form "921234567890" and
// "+92 (123) 456-7890" both give "+921234567890". What remains must be 8–15
// ASCII digits.
//
// Errors wrap ErrInvalidInput with the message
// "Please provide a valid phone number (e.g. 921234567890)".
func ParsePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "+")
	var b strings.Builder
	b.Grow(1 + maxPhoneDigits)
	b.WriteByte('+')
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			n++
			if n > maxPhoneDigits {
				return "", InvalidInput(msgInvalidPhone)
			}
			b.WriteByte(c)
		case c == ' ' || c == '.' || c == '-' || c == '(' || c == ')':
			// separators people type; dropped
		default:
			return "", InvalidInput(msgInvalidPhone)
		}
	}
	if n < minPhoneDigits {
		return "", InvalidInput(msgInvalidPhone)
	}
	return b.String(), nil
}

package provider

import (
	"strings"
)

const msgInvalidEmail = "Please provide a valid email"

// Limits from RFC 5321 §4.5.3.1: 64 octets of local part; a path of 256
// octets including the angle brackets leaves 254 for the address.
const (
	maxLocalLen = 64
	maxEmailLen = 254
)

// Email is a parsed email address.
type Email struct {
	// Address is the address as typed, trimmed, with the domain part
	// normalized: what we store and show.
	Address string
	// Canonical is Address lower-cased; it carries the unique index and is
	// the login lookup key, so addresses differing only in case are one
	// account (SEC-28).
	Canonical string
	// Local is the part before "@", as typed.
	Local string
	// Domain is the normalized domain (NormalizeDomain).
	Domain string
}

// ParseEmail checks and normalizes an email address (SPEC §3, SEC-28).
// The local part is a dot-atom of printable ASCII (RFC 5322 atext: no
// spaces, quotes, control characters or non-ASCII), 1–64 characters, without
// leading, trailing or consecutive dots; quoted local parts and address
// literals are refused, as no real signup needs them. The domain goes
// through NormalizeDomain. For example " Ann.Lee@Example.COM. " gives
// Address "Ann.Lee@example.com" and Canonical "ann.lee@example.com".
//
// Errors wrap ErrInvalidInput with the message "Please provide a valid email".
func ParseEmail(s string) (Email, error) {
	s = strings.TrimSpace(s)
	if strings.Count(s, "@") != 1 {
		return Email{}, InvalidInput(msgInvalidEmail)
	}
	local, domain, _ := strings.Cut(s, "@")
	if !validLocalPart(local) {
		return Email{}, InvalidInput(msgInvalidEmail)
	}
	domain, err := NormalizeDomain(domain)
	// The domain must not need trimming of its own: "ann@ example.com"
	// is a typo, not an address.
	if err != nil || strings.TrimSpace(s[len(local)+1:]) != s[len(local)+1:] {
		return Email{}, InvalidInput(msgInvalidEmail)
	}
	addr := local + "@" + domain
	if len(addr) > maxEmailLen {
		return Email{}, InvalidInput(msgInvalidEmail)
	}
	return Email{
		Address:   addr,
		Canonical: strings.ToLower(addr),
		Local:     local,
		Domain:    domain,
	}, nil
}

// validLocalPart reports whether local is an RFC 5322 dot-atom of at most 64
// characters.
func validLocalPart(local string) bool {
	if local == "" || len(local) > maxLocalLen {
		return false
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		if !isAtext(local[i]) && local[i] != '.' {
			return false
		}
	}
	return true
}

// isAtext reports whether c is RFC 5322 atext: letters, digits and
// !#$%&'*+-/=?^_`{|}~ (never space, quotes, brackets, "@" or controls).
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

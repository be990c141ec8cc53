package provider

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordsText is the 10,000 most common passwords, lower-cased,
// deduplicated, one per line, in rank order. Source: the "passwords"
// frequency list (passwords from public leaks, ranked by frequency) shipped
// in data/passwords.txt of github.com/trustelem/zxcvbn v1.0.1, itself from
// Dropbox's zxcvbn 4.4.2; the first 10,000 distinct entries were kept.
//
//go:embed commonpasswords.txt
var commonPasswordsText string

// commonPasswords builds the lookup set on first use, so processes that
// never check a password (CLI commands) do not pay for it. sync.OnceValue
// keeps it race-free without an init function.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	lines := strings.Split(strings.TrimSpace(commonPasswordsText), "\n")
	set := make(map[string]struct{}, len(lines))
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			set[l] = struct{}{}
		}
	}
	return set
})

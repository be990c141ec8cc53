package provider

import (
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

const msgInvalidDomain = "Please provide a valid domain"

// Limits from RFC 1035 §2.3.4 (a name of 253 characters is 255 octets on the
// wire once the length bytes are counted).
const (
	maxLabelLen  = 63
	maxDomainLen = 253
)

// domainProfile is the UTS #46 lookup profile: it maps fullwidth and other
// compatibility forms, case-folds, applies the STD3 (LDH) rules, validates
// labels (including Punycode labels given as input) and the Bidi rule.
// Non-transitional, so "ß" stays "ß" (xn--...) as IDNA2008 registries expect.
// A Profile is immutable, so building one per call is cheap and keeps the
// package free of globals.
func domainProfile() *idna.Profile {
	return idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))
}

// NormalizeDomain returns the canonical ASCII form of a domain (SEC-32), used
// both for domain records and for the domain part of emails:
// whitespace trimmed, one trailing dot removed, UTS #46 mapping (case folding,
// fullwidth forms), IDN converted to Punycode ("xn--"). For example
// NormalizeDomain(" ＥＶＩＬ.com. ") is "evil.com" and NormalizeDomain("bücher.de")
// is "xn--bcher-kva.de".
//
// It rejects empty labels, labels over 63 and names over 253 characters,
// anything outside letters, digits and hyphen after conversion, names
// without a dot (an email domain always has one: bare TLDs and intranet
// names do not receive mail from the public), IPv4 addresses (an all-numeric
// last label), and labels mixing scripts
// (Latin with a Cyrillic "е", a classic homograph). The result is a fixed
// point: NormalizeDomain(NormalizeDomain(x)) == NormalizeDomain(x).
//
// Errors wrap ErrInvalidInput with the message "Please provide a valid domain".
func NormalizeDomain(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 4*maxDomainLen {
		// The length cap only bounds work: no valid name is this long even
		// when every character is a 4-byte rune.
		return "", InvalidInput(msgInvalidDomain)
	}
	p := domainProfile()
	ascii, err := p.ToASCII(s)
	if err != nil {
		return "", InvalidInput(msgInvalidDomain)
	}
	// Trailing dot after mapping, so "evil.com。" (ideographic full stop)
	// is treated like "evil.com.". Only one: "evil.com.." stays invalid.
	ascii = strings.TrimSuffix(ascii, ".")
	if len(ascii) > maxDomainLen || !strings.Contains(ascii, ".") {
		return "", InvalidInput(msgInvalidDomain)
	}
	// An all-numeric last label is an IPv4 address (or a typo of one), never
	// a top-level domain (RFC 3696 §2).
	if strings.Trim(ascii[strings.LastIndexByte(ascii, '.')+1:], "0123456789") == "" {
		return "", InvalidInput(msgInvalidDomain)
	}
	for label := range strings.SplitSeq(ascii, ".") {
		if !validLDHLabel(label) {
			return "", InvalidInput(msgInvalidDomain)
		}
		if strings.HasPrefix(label, "xn--") {
			// Decide scripts on the Unicode form; the ASCII form is always
			// "Latin". Decoding also re-validates the label, which keeps the
			// function idempotent on its own output.
			u, err := p.ToUnicode(label)
			if err != nil || mixedScripts(u) {
				return "", InvalidInput(msgInvalidDomain)
			}
		}
	}
	return ascii, nil
}

// validLDHLabel reports whether label is 1–63 characters of lower-case
// letters, digits and hyphens, not starting or ending with a hyphen.
func validLDHLabel(label string) bool {
	if label == "" || len(label) > maxLabelLen {
		return false
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// mixedScripts reports whether the Unicode label u mixes scripts in a way a
// homograph attack would (e.g. Latin "evil" with a Cyrillic "е"). Digits,
// hyphens and other Common or Inherited (combining) characters belong to
// every script. A label may use one script, or one of the combinations UTS #39
// "highly restrictive" allows for Japanese, Chinese and Korean writing (each
// legitimately mixes Han with Latin and kana, Bopomofo or Hangul).
func mixedScripts(u string) bool {
	seen := map[string]bool{}
	for _, r := range u {
		if name := scriptOf(r); name != "" {
			seen[name] = true
		}
	}
	if len(seen) <= 1 {
		return false
	}
	combos := [][]string{
		{"Latin", "Han", "Hiragana", "Katakana"},
		{"Latin", "Han", "Bopomofo"},
		{"Latin", "Han", "Hangul"},
	}
	for _, allowed := range combos {
		if subsetOf(seen, allowed) {
			return false
		}
	}
	return true
}

func subsetOf(set map[string]bool, allowed []string) bool {
	for name := range set {
		found := false
		for _, a := range allowed {
			if a == name {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// scriptOf returns the Unicode script of r, or "" for Common and Inherited
// characters (digits, hyphen, combining marks), which take the script of
// their neighbours.
func scriptOf(r rune) string {
	if r < 0x80 {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return "Latin"
		}
		return ""
	}
	if unicode.In(r, unicode.Common, unicode.Inherited) {
		return ""
	}
	// Frequent scripts first so typical labels do not scan every table.
	for _, name := range [...]string{"Latin", "Cyrillic", "Greek", "Han", "Hiragana", "Katakana", "Hangul", "Arabic", "Hebrew"} {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	for name, table := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && unicode.Is(table, r) {
			return name
		}
	}
	// Unassigned in this Unicode version: its own "script", so it never
	// silently blends into a Latin label.
	return "Unknown"
}

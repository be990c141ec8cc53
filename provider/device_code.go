package provider

import "strings"

// userCodeAlphabet is the alphabet of user codes (SPEC §12, RFC 8628
// §6.1): upper-case consonants without vowels (no words) and without
// letters easily confused, 20 letters.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// userCodeLen is the number of letters of a user code: 20^8 ≈ 2^34.6.
const userCodeLen = 8

// newUserCode draws a user code, uniformly: bytes of 240 or more are
// dropped, so every letter has the same chance (240 = 12 × 20).
func newUserCode() string {
	out := make([]byte, 0, userCodeLen)
	for len(out) < userCodeLen {
		for _, b := range RandomBytes(userCodeLen) {
			if b < 240 && len(out) < userCodeLen {
				out = append(out, userCodeAlphabet[int(b)%len(userCodeAlphabet)])
			}
		}
	}
	return string(out)
}

// FormatUserCode shows a normalized user code as XXXX-XXXX.
func FormatUserCode(code string) string {
	if len(code) != userCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// NormalizeUserCode reads a user code as a person typed it: case, dashes
// and spaces are ignored ("bcdf-ghjk", "BCDF GHJK", "bcdfghjk" are one
// code). It reports false unless 8 letters of the alphabet remain.
func NormalizeUserCode(in string) (string, bool) {
	if len(in) > 32 {
		return "", false
	}
	var b strings.Builder
	for _, r := range in {
		switch {
		case r == '-' || r == ' ':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if r > 0x7f || !strings.ContainsRune(userCodeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != userCodeLen {
		return "", false
	}
	return b.String(), true
}

package keys

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The hot path builds token JSON by hand (see the token-endpoint note):
// these helpers append JSON values to a byte slice with the same escaping
// rules as encoding/json, so any claim string is safe.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Control characters, quotes,
// backslashes, <, >, &, U+2028/U+2029 are escaped and invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendField appends `,"name":"value"` (name must need no escaping); the
// leading comma is omitted when first is set.
func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendTime appends `,"name":<seconds>` (a NumericDate).
func appendTime(b []byte, name string, t time.Time) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, t.Unix(), 10)
}

func appendBool(b []byte, name string, v bool) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendBool(b, v)
}

// appendAuthn appends "amr" (an array) and "acr" when set.
func appendAuthn(b []byte, amr []string, acr string) []byte {
	if len(amr) > 0 {
		b = append(b, `,"amr":[`...)
		for i, m := range amr {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m)
		}
		b = append(b, ']')
	}
	if acr != "" {
		b = appendField(b, "acr", acr)
	}
	return b
}

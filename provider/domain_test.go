package provider_test

import (
	"errors"
	"strings"
	"testing"

	"user-registry/provider"
)

func TestNormalizeDomain(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		in   string
		want string // "" means an error is expected
	}{
		{"evil.com", "evil.com"},
		{"EVIL.com", "evil.com"},
		{"evil.com.", "evil.com"},
		{"  evil.com \t", "evil.com"},
		{"mail.evil.com", "mail.evil.com"},
		{"ｅｖｉｌ.com", "evil.com"},                 // fullwidth letters
		{"ＥＶＩＬ．ＣＯＭ", "evil.com"},                 // fullwidth letters and dot
		{"evil.com。", "evil.com"},                // ideographic full stop as trailing dot
		{"bücher.de", "xn--bcher-kva.de"},        // IDN → punycode
		{"BÜCHER.de", "xn--bcher-kva.de"},        // case-folded first
		{"xn--bcher-kva.de", "xn--bcher-kva.de"}, // punycode form given
		{"XN--BCHER-KVA.DE", "xn--bcher-kva.de"},
		{"пример.рф", "xn--e1afmkfd.xn--p1ai"}, // all Cyrillic is fine
		{"例え.jp", "xn--r8jz45g.jp"},            // Han + Hiragana is Japanese
		{"a-b.c0.org", "a-b.c0.org"},
		{"123.example.com4", "123.example.com4"},
		{long63 + ".com", long63 + ".com"},

		{"", ""},
		{"   ", ""},
		{"com", ""},             // no dot
		{"com.", ""},            // no dot once the root dot is gone
		{"evil.com..", ""},      // only one trailing dot removed
		{".evil.com", ""},       // empty label
		{"evil..com", ""},       // empty label
		{"-evil.com", ""},       // leading hyphen
		{"evil-.com", ""},       // trailing hyphen
		{"ev_il.com", ""},       // not LDH
		{"evil.com/x", ""},      // not LDH
		{"ev il.com", ""},       // space inside
		{"evil@com.org", ""},    // not LDH
		{"еvil.com", ""},        // Cyrillic "е" + Latin "vil": mixed script
		{"xn--vil-qdd.com", ""}, // the same, given as punycode
		{"pаypal.com", ""},      // Cyrillic "а" inside Latin
		{"xn--pypal-4ve.com", ""},
		{"xn--zz.com", ""}, // invalid punycode
		{strings.Repeat("a", 64) + ".com", ""},
		{strings.Repeat(long63+".", 4) + "com", ""}, // 256 > 253 characters
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := provider.NormalizeDomain(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("NormalizeDomain(%q) = %q, want error", tt.in, got)
				}
				if !errors.Is(err, provider.ErrInvalidInput) || provider.Message(err) != "Please provide a valid domain" {
					t.Fatalf("error %v: not ErrInvalidInput with the domain message", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if again, err := provider.NormalizeDomain(got); err != nil || again != got {
				t.Fatalf("not idempotent: %q → %q, %v", got, again, err)
			}
		})
	}
}

func FuzzNormalizeDomain(f *testing.F) {
	for _, s := range []string{"Example.COM.", "ｅｖｉｌ.com", "bücher.de", "xn--bcher-kva.de", "еvil.com", "a..b", "例え.jp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := provider.NormalizeDomain(in)
		if err != nil {
			if !errors.Is(err, provider.ErrInvalidInput) {
				t.Fatalf("%q: error %v does not wrap ErrInvalidInput", in, err)
			}
			return
		}
		again, err := provider.NormalizeDomain(d)
		if err != nil || again != d {
			t.Fatalf("%q → %q → %q, %v", in, d, again, err)
		}
		if len(d) > 253 || !strings.Contains(d, ".") || strings.ToLower(d) != d {
			t.Fatalf("%q → %q violates the output rules", in, d)
		}
	})
}

package provider_test

import (
	"errors"
	"strings"
	"testing"

	"user-registry/provider"
)

func TestParseEmail(t *testing.T) {
	local64 := strings.Repeat("x", 64)
	tests := []struct {
		in        string
		address   string // "" means an error is expected
		canonical string
		domain    string
	}{
		{"ann@example.com", "ann@example.com", "ann@example.com", "example.com"},
		{"  Ann.Lee@Example.COM.  ", "Ann.Lee@example.com", "ann.lee@example.com", "example.com"},
		{"first+tag@mail.example.org", "first+tag@mail.example.org", "first+tag@mail.example.org", "mail.example.org"},
		{"o'neil!#$%&*/=?^_`{|}~-@example.com", "o'neil!#$%&*/=?^_`{|}~-@example.com", "o'neil!#$%&*/=?^_`{|}~-@example.com", "example.com"},
		{"user@ｅｖｉｌ.com", "user@evil.com", "user@evil.com", "evil.com"},
		{"User@Bücher.de", "User@xn--bcher-kva.de", "user@xn--bcher-kva.de", "xn--bcher-kva.de"},
		{local64 + "@example.com", local64 + "@example.com", local64 + "@example.com", "example.com"},

		{"", "", "", ""},
		{"plainaddress", "", "", ""},
		{"@example.com", "", "", ""},
		{"ann@", "", "", ""},
		{"ann@@example.com", "", "", ""},
		{"a@b@example.com", "", "", ""},
		{".ann@example.com", "", "", ""},
		{"ann.@example.com", "", "", ""},
		{"an..n@example.com", "", "", ""},
		{"an n@example.com", "", "", ""},
		{"\"ann\"@example.com", "", "", ""},
		{"ann\x00@example.com", "", "", ""},
		{"ann\n@example.com", "", "", ""},
		{"ännchen@example.com", "", "", ""},
		{"ann@ example.com", "", "", ""},
		{"ann@localhost", "", "", ""},
		{"ann@еvil.com", "", "", ""}, // mixed-script domain
		{"ann@[127.0.0.1]", "", "", ""},
		{strings.Repeat("x", 65) + "@example.com", "", "", ""},
		{local64 + "@" + strings.Repeat("d", 62) + "." + strings.Repeat("e", 62) + "." + strings.Repeat("f", 62) + ".com", "", "", ""}, // > 254
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := provider.ParseEmail(tt.in)
			if tt.address == "" {
				if err == nil {
					t.Fatalf("ParseEmail(%q) = %+v, want error", tt.in, e)
				}
				if !errors.Is(err, provider.ErrInvalidInput) || provider.Message(err) != "Please provide a valid email" {
					t.Fatalf("error %v: not ErrInvalidInput with the email message", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEmail(%q): %v", tt.in, err)
			}
			if e.Address != tt.address || e.Canonical != tt.canonical || e.Domain != tt.domain {
				t.Fatalf("ParseEmail(%q) = %+v, want address %q canonical %q domain %q", tt.in, e, tt.address, tt.canonical, tt.domain)
			}
			if e.Local+"@"+e.Domain != e.Address {
				t.Fatalf("Local %q + Domain %q != Address %q", e.Local, e.Domain, e.Address)
			}
		})
	}
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"ann@example.com", " Ann.Lee@Example.COM. ", "a@b@c.d", "user@ｅｖｉｌ.com", "x@xn--bcher-kva.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := provider.ParseEmail(in)
		if err != nil {
			if !errors.Is(err, provider.ErrInvalidInput) {
				t.Fatalf("%q: error %v does not wrap ErrInvalidInput", in, err)
			}
			return
		}
		if e.Canonical != strings.ToLower(e.Address) {
			t.Fatalf("%q: Canonical %q != lower(Address %q)", in, e.Canonical, e.Address)
		}
		again, err := provider.ParseEmail(e.Address)
		if err != nil || again != e {
			t.Fatalf("%q → %+v → %+v, %v", in, e, again, err)
		}
		if len(e.Address) > 254 {
			t.Fatalf("%q: address longer than 254", in)
		}
	})
}

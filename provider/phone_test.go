package provider_test

import (
	"errors"
	"testing"

	"user-registry/provider"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means an error is expected
	}{
		{"921234567890", "+921234567890"},
		{"+921234567890", "+921234567890"},
		{"+92 (123) 456-7890", "+921234567890"},
		{"92.123.456.7890", "+921234567890"},
		{"  +1 415 555 2671 ", "+14155552671"},
		{"12345678", "+12345678"},               // 8 digits
		{"123456789012345", "+123456789012345"}, // 15 digits

		{"", ""},
		{"+", ""},
		{"1234567", ""},          // 7 digits
		{"1234567890123456", ""}, // 16 digits
		{"++921234567890", ""},
		{"92+1234567890", ""},
		{"92123456789a", ""},
		{"921234567890 ext 5", ""},
		{"９２１２３４５６７８９０", ""}, // fullwidth digits are not ASCII digits
		{"92_1234_567890", ""},
		{"92/1234567890", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := provider.ParsePhone(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParsePhone(%q) = %q, want error", tt.in, got)
				}
				if !errors.Is(err, provider.ErrInvalidInput) || provider.Message(err) != "Please provide a valid phone number (e.g. 921234567890)" {
					t.Fatalf("error %v: not ErrInvalidInput with the phone message", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"921234567890", "+92 (123) 456-7890", "+", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := provider.ParsePhone(in)
		if err != nil {
			if !errors.Is(err, provider.ErrInvalidInput) {
				t.Fatalf("%q: error %v does not wrap ErrInvalidInput", in, err)
			}
			return
		}
		if len(p) < 9 || len(p) > 16 || p[0] != '+' {
			t.Fatalf("%q → %q: not +8..15 digits", in, p)
		}
		for _, c := range p[1:] {
			if c < '0' || c > '9' {
				t.Fatalf("%q → %q: non-digit", in, p)
			}
		}
		if again, err := provider.ParsePhone(p); err != nil || again != p {
			t.Fatalf("%q → %q → %q, %v", in, p, again, err)
		}
	})
}

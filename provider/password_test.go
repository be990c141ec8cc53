package provider_test

import (
	"errors"
	"strings"
	"testing"

	"user-registry/provider"
)

func TestCheckPassword(t *testing.T) {
	const (
		msgLen    = "Password must be 8 to 128 characters long"
		msgCommon = "This password is too common. Please choose another one"
	)
	tests := []struct {
		name    string
		in      string
		want    string // normalized result when msg is ""
		wantMsg string
	}{
		{"ascii", "correct horse battery", "correct horse battery", ""},
		{"exactly 8", "x7#kq2!m", "x7#kq2!m", ""},
		{"exactly 128", strings.Repeat("ab3", 42) + "zz", strings.Repeat("ab3", 42) + "zz", ""},
		{"fullwidth folds to ascii", "ｍｙ－ｏｗｎ－ｐａｓｓ", "my-own-pass", ""},
		{"decomposed e-acute composes", "cafe\u0301-au-lait", "café-au-lait", ""},
		{"8 code points of multibyte text", "пароль-42", "пароль-42", ""},
		{"ligature expands", "ﬁrewall-9x", "firewall-9x", ""},

		{"empty", "", "", msgLen},
		{"7 characters", "abc-123", "", msgLen},
		{"129 characters", strings.Repeat("a", 129), "", msgLen},
		{"short in code points, long in bytes", "пароль1", "", msgLen},
		// "e" + U+0301 is 2 code points raw but 1 after NFKC: 7 after normalization.
		{"counted after NFKC", "abcde\u0301f", "", msgLen},
		{"huge input", strings.Repeat("a", 100000), "", msgLen},
		{"common", "password", "", msgCommon},
		{"common, other case", "PassWord1", "", msgCommon},
		{"common, fullwidth", "ｐａｓｓｗｏｒｄ", "", msgCommon},
		{"common digits", "12345678", "", msgCommon},
		{"common word", "iloveyou", "", msgCommon},
		{"invalid utf-8", "abc\xffdefgh", "", "Password must be valid UTF-8 text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := provider.CheckPassword(tt.in)
			if tt.wantMsg != "" {
				if err == nil {
					t.Fatalf("CheckPassword(%q) = %q, want error %q", tt.in, got, tt.wantMsg)
				}
				if !errors.Is(err, provider.ErrInvalidInput) || provider.Message(err) != tt.wantMsg {
					t.Fatalf("error %v (message %q), want ErrInvalidInput with %q", err, provider.Message(err), tt.wantMsg)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CheckPassword(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if n := provider.NormalizePassword(tt.in); n != got {
				t.Fatalf("NormalizePassword = %q, CheckPassword = %q", n, got)
			}
		})
	}
}

// The shipped list is the top 10,000; spot-check a few ranks so a truncated
// or mangled file is noticed.
func TestCommonPasswordList(t *testing.T) {
	for _, pw := range []string{"password", "12345678", "trustno1", "sunshine", "starwars", "passw0rd", "1qaz2wsx"} {
		if _, err := provider.CheckPassword(pw); provider.Message(err) != "This password is too common. Please choose another one" {
			t.Errorf("CheckPassword(%q) = %v, want the common-password error", pw, err)
		}
	}
	// The last kept entry (rank 10,000 after dedup) is in; a rare one is not.
	if _, err := provider.CheckPassword("159753456"); err == nil {
		t.Error("rank-10000 entry 159753456 not in the list")
	}
	if _, err := provider.CheckPassword("vq8-plinth-sorrel"); err != nil {
		t.Errorf("uncommon password refused: %v", err)
	}
}

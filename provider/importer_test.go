package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"user-registry/storage/memstore"
)

func TestImportLegacyUser(t *testing.T) {
	ctx := context.Background()
	users := memstore.New()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const pbkdf2Hash = "pbkdf2:sha256:1000$saltsalt$0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		in   LegacyUser
		want error
	}{
		{"pbkdf2", LegacyUser{"Alice@Example.COM", pbkdf2Hash, "921234567890"}, nil},
		{"scrypt", LegacyUser{"bob@example.com", "scrypt:32768:8:1$salt$" + strings.Repeat("ab", 64), ""}, nil},
		{"duplicate other case", LegacyUser{"alice@example.com", pbkdf2Hash, ""}, ErrAlreadyPresent},
		{"bad email", LegacyUser{"not-an-email", pbkdf2Hash, ""}, ErrInvalidInput},
		{"plain hash refused", LegacyUser{"c@example.com", "plain$$secret", ""}, ErrInvalidInput},
		{"argon2 refused", LegacyUser{"d@example.com", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", ""}, ErrInvalidInput},
		{"bad phone", LegacyUser{"e@example.com", pbkdf2Hash, "12"}, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ImportLegacyUser(ctx, users, tt.in, now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil {
				return
			}
			got, err := users.UserByEmail(ctx, u.EmailCanonical)
			if err != nil || got.PasswordHash != tt.in.PasswordHash || !got.IsActivated {
				t.Fatalf("stored %+v, %v", got, err)
			}
		})
	}
	if u, _ := users.UserByEmail(ctx, "alice@example.com"); u.Email != "Alice@example.com" || u.PhoneNum != "+921234567890" {
		t.Fatalf("email/phone = %q %q", u.Email, u.PhoneNum)
	}
}

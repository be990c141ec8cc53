package provider_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"user-registry/provider"
)

// TestNewSecret: the secret is nbytes of base64url text without padding,
// the hash is HashSecret of it, and no two secrets are alike.
func TestNewSecret(t *testing.T) {
	for _, n := range []int{16, 32, 48} {
		seen := map[string]bool{}
		for range 50 {
			secret, hash := provider.NewSecret(n)
			raw, err := base64.RawURLEncoding.DecodeString(secret)
			if err != nil || len(raw) != n || strings.ContainsAny(secret, "=+/") {
				t.Fatalf("NewSecret(%d) = %q: %d bytes, %v", n, secret, len(raw), err)
			}
			if hash != provider.HashSecret(secret) {
				t.Fatalf("NewSecret(%d) hash %q, HashSecret says %q", n, hash, provider.HashSecret(secret))
			}
			if seen[secret] {
				t.Fatalf("NewSecret(%d) repeated %q", n, secret)
			}
			seen[secret] = true
		}
	}
}

// TestHashSecretForm pins the stored form: SHA-256, base64url without
// padding. Mail tokens and browser sessions stored by earlier releases have
// this form, so changing it would void every link and sign-in in flight.
func TestHashSecretForm(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"},
		{"abc", "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"},
	} {
		if got := provider.HashSecret(tc.in); got != tc.want {
			t.Errorf("HashSecret(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestStoredSecretsMatchEarlierReleases: what the stores hold for a mail
// link and a refresh token is still found under the hash earlier releases
// computed, so records written before an upgrade keep working after it:
// mail tokens under base64url SHA-256, refresh tokens (alive up to 30
// days) under hex SHA-256 of the whole token.
func TestStoredSecretsMatchEarlierReleases(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t, "0")
	u := e.signupMail(t, "ann@example.com")
	_, tok := e.box.last(t, "ann@example.com")
	sum := sha256.Sum256([]byte(tok))
	rec, err := e.store.ConsumeOneTimeToken(ctx, base64.RawURLEncoding.EncodeToString(sum[:]), provider.PurposeVerifyEmail)
	if err != nil || rec.UserID != u.ID {
		t.Fatalf("mail token under its base64url SHA-256: %+v %v", rec, err)
	}

	pair, err := e.acc.IssueTokensFor(ctx, u, provider.Grant{ClientID: "user-registry", Scope: "openid", WithRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	family, _, _ := strings.Cut(pair.RefreshToken, ".")
	sum = sha256.Sum256([]byte(pair.RefreshToken))
	if r, err := e.store.RefreshToken(ctx, family, hex.EncodeToString(sum[:])); err != nil || r.UserID != u.ID {
		t.Fatalf("refresh token under its hex SHA-256: %+v %v", r, err)
	}
}

package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"user-registry/keys"
)

// FuzzVerifyAccess feeds arbitrary strings, and mutations of a valid token,
// to the verifier: it must never panic, and anything it accepts must be a
// token this service minted (same claims as the original).
func FuzzVerifyAccess(f *testing.F) {
	e := newEnv(f, "ES256")
	valid, claims := mint(f, e.tokens, userClaims())
	parts := strings.Split(valid, ".")
	f.Add(valid)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add("eyJhbGciOiJub25lIn0." + parts[1] + ".")
	f.Add(parts[0] + ".e30." + parts[2])
	f.Add("..")
	f.Add(strings.Repeat("a.", 500))
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := e.tokens.VerifyAccess(context.Background(), tok, "")
		if err != nil {
			if !errors.Is(err, keys.ErrInvalidToken) {
				t.Fatalf("unexpected error class for %q: %v", tok, err)
			}
			return
		}
		if got.JTI != claims.JTI || got.Subject != claims.Subject {
			t.Fatalf("accepted a token that is not ours: %q → %+v", tok, got)
		}
	})
}

package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/pbkdf2"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage/memstore"
	"user-registry/storage/sqlstore"
)

// BenchmarkLoginFailureTiming times failed POST /login requests through the
// whole handler (generic login errors, default argon2id, SQLite, the
// failure floor calibrated as serve does), interleaving an unknown address
// and wrong passwords for an argon2id account and an imported werkzeug
// pbkdf2:sha256:600000 one, and reports each kind's median in ms
// (SEC-26, SEC-75). It fails if the answers differ. Run:
//
//	go test -run '^$' -bench LoginFailureTiming -benchtime 20x ./web/
func BenchmarkLoginFailureTiming(b *testing.B) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	eph := memstore.New()
	secret := make([]byte, 32)
	rand.Read(secret)
	mgr, err := keys.NewManager(db, keys.Config{Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	if err := mgr.Ensure(ctx); err != nil {
		b.Fatal(err)
	}
	const issuer = "https://issuer.example"
	tokens := keys.NewTokens(mgr, eph, keys.TokenConfig{Issuer: issuer})
	policy := provider.NewDomainPolicy(db, false, nil)
	hasher := provider.NewHasher(provider.DefaultArgon2Params(), 0)
	acfg := provider.DefaultAccountsConfig(issuer)
	acfg.LoginLimit = "0"
	if acfg.FailureFloor, err = hasher.CalibrateFailureFloor(ctx); err != nil {
		b.Fatal(err)
	}
	accounts, err := provider.NewAccounts(provider.AccountDeps{
		Users: db, Policy: policy, Hasher: hasher, Tokens: tokens, Refresh: eph, Revocations: eph, Rate: eph.Rate(),
		Consents: eph, Config: acfg,
	})
	if err != nil {
		b.Fatal(err)
	}
	h := New(Config{Issuer: issuer, Keys: mgr, Tokens: tokens, Accounts: accounts,
		Policy: policy, GenericLoginErrors: true})
	if _, err := accounts.Signup(ctx, provider.SignupInput{Email: "ann@example.com", Password: testPassword}); err != nil {
		b.Fatal(err)
	}
	key := pbkdf2.Key([]byte(testPassword), []byte("benchsalt"), 600000, sha256.Size, sha256.New)
	legacy := provider.LegacyUser{Email: "leg@example.com", PasswordHash: "pbkdf2:sha256:600000$benchsalt$" + hex.EncodeToString(key)}
	if _, err := provider.ImportLegacyUser(ctx, db, legacy, time.Now()); err != nil {
		b.Fatal(err)
	}

	kinds := []struct{ name, email string }{
		{"unknown", "nobody@example.com"},
		{"argon2id", "ann@example.com"},
		{"pbkdf2", "leg@example.com"},
	}
	took := make([][]time.Duration, len(kinds))
	var first string
	for b.Loop() {
		for i, k := range kinds {
			body := `{"email":"` + k.email + `","password":"not the password"}`
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			took[i] = append(took[i], time.Since(start))
			got := rec.Result().Status + " " + rec.Body.String()
			if first == "" {
				first = got
			}
			if rec.Code != http.StatusUnauthorized || got != first {
				b.Fatalf("%s: %s, want 401 and the same answer as the others (%s)", k.name, got, first)
			}
		}
	}
	for i, k := range kinds {
		s := slices.Clone(took[i])
		slices.Sort(s)
		b.ReportMetric(float64(s[len(s)/2])/float64(time.Millisecond), k.name+"-ms")
	}
	b.ReportMetric(float64(acfg.FailureFloor)/float64(time.Millisecond), "floor-ms")
}

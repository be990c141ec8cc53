package provider_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/pbkdf2"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

const legacyPW = "legacy secret"

// legacyPBKDF2 is a werkzeug pbkdf2:sha256 hash of pw with iter rounds.
func legacyPBKDF2(pw string, iter int) string {
	const salt = "floorsalt"
	key := pbkdf2.Key([]byte(pw), []byte(salt), iter, sha256.Size, sha256.New)
	return "pbkdf2:sha256:" + strconv.Itoa(iter) + "$" + salt + "$" + hex.EncodeToString(key)
}

// neverScrypt is a werkzeug scrypt hash no password matches (zero digest).
func neverScrypt(n string) string {
	return "scrypt:" + n + ":8:1$floorsalt$" + strings.Repeat("00", 64)
}

// floorAccounts builds Accounts over a memstore with slots hashing slots
// and the clock now (nil: the wall clock, for benchmarks). wrap, if not
// nil, wraps the user store Accounts sees.
func floorAccounts(tb testing.TB, params provider.Argon2Params, slots int, now func() time.Time,
	cfg provider.AccountsConfig, wrap func(storage.UserStore) storage.UserStore) (*provider.Accounts, *memstore.Store) {
	tb.Helper()
	ctx := context.Background()
	var opts []memstore.Option
	if now != nil {
		opts = append(opts, memstore.WithClock(now))
	}
	store := memstore.New(opts...)
	sec := make([]byte, 32)
	if _, err := rand.Read(sec); err != nil {
		tb.Fatal(err)
	}
	m, err := keys.NewManager(store, keys.Config{Secret: sec, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	if err := m.Ensure(ctx); err != nil {
		tb.Fatal(err)
	}
	tokens := keys.NewTokens(m, store, keys.TokenConfig{Issuer: acctIssuer})
	var users storage.UserStore = store
	if wrap != nil {
		users = wrap(store)
	}
	acc, err := provider.NewAccounts(provider.AccountDeps{
		Users: users, Policy: provider.NewDomainPolicy(store, false, now), Hasher: provider.NewHasher(params, slots),
		Tokens: tokens, Refresh: store, Revocations: store, Rate: store.Rate(), Consents: store, Config: cfg, Now: now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return acc, store
}

// floorUsers creates the accounts of the failure-floor tests: ann (argon2id
// through signup), leg (imported pbkdf2), scr (imported scrypt, matching no
// password) and dev (a hash nothing can match, e.g. a device-only row).
func floorUsers(tb testing.TB, acc *provider.Accounts, store *memstore.Store, now time.Time, pbkdf2Iter int, scryptN string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := acc.Signup(ctx, provider.SignupInput{Email: "ann@example.com", Password: annPW}); err != nil {
		tb.Fatal(err)
	}
	for email, hash := range map[string]string{
		"leg@example.com": legacyPBKDF2(legacyPW, pbkdf2Iter),
		"scr@example.com": neverScrypt(scryptN),
	} {
		if _, err := provider.ImportLegacyUser(ctx, store, provider.LegacyUser{Email: email, PasswordHash: hash}, now); err != nil {
			tb.Fatal(err)
		}
	}
	dev := storage.User{ID: "dev-id", Email: "dev@example.com", EmailCanonical: "dev@example.com", Domain: "example.com",
		PasswordHash: "device-only", IsActivated: true, CreatedAt: now, UpdatedAt: now}
	if err := store.CreateUser(ctx, &dev); err != nil {
		tb.Fatal(err)
	}
}

// slowLookups advances the fake clock by *d on every user lookup, standing
// in for the time a check spends before it hashes.
type slowLookups struct {
	storage.UserStore
	clk *acctClock
	d   *atomic.Int64
}

func (s slowLookups) UserByEmail(ctx context.Context, canonical string) (storage.User, error) {
	s.clk.Advance(time.Duration(s.d.Load()))
	return s.UserStore.UserByEmail(ctx, canonical)
}

// SEC-26, SEC-75: every failed login lasts the floor from the start of the
// check, whatever the account's hash (or its absence); a check slower
// than the floor is not held further, and a success is not held at all.
// The fake clock stands for time: Sleep advances it, lookups may too.
func TestFailureFloorRule(t *testing.T) {
	const floor = 300 * time.Millisecond
	clk := newAcctClock()
	var lookup atomic.Int64
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.LoginLimit, cfg.FailureFloor, cfg.Sleep = "0", floor, clk.Sleep
	acc, store := floorAccounts(t, cheapArgon2, 0, clk.Now, cfg, func(u storage.UserStore) storage.UserStore {
		return slowLookups{u, clk, &lookup}
	})
	floorUsers(t, acc, store, clk.Now(), 1000, "16")

	tests := []struct {
		name, email, pw string
		lookup          time.Duration // fake time the lookup takes
		want            error
		took            time.Duration
	}{
		{"unknown address", "nobody@example.com", "not the password", 0, provider.ErrUnknownUser, floor},
		{"unparsable address", "not an address", "not the password", 0, provider.ErrUnknownUser, floor},
		{"argon2id, wrong password", "ann@example.com", "not the password", 0, provider.ErrWrongPassword, floor},
		{"pbkdf2, wrong password", "leg@example.com", "not the password", 0, provider.ErrWrongPassword, floor},
		{"pbkdf2, wrong password, NFKC differs", "leg@example.com", "not the \ufb01", 0, provider.ErrWrongPassword, floor},
		{"scrypt, wrong password", "scr@example.com", "not the password", 0, provider.ErrWrongPassword, floor},
		{"unusable hash", "dev@example.com", "not the password", 0, provider.ErrWrongPassword, floor},
		{"slow lookup, held the rest", "nobody@example.com", "not the password", 120 * time.Millisecond, provider.ErrUnknownUser, floor},
		{"slower than the floor, not held", "ann@example.com", "not the password", 2 * floor, provider.ErrWrongPassword, 2 * floor},
		{"argon2id, right password", "ann@example.com", annPW, 40 * time.Millisecond, nil, 40 * time.Millisecond},
		{"pbkdf2, right password (rehashed)", "leg@example.com", legacyPW, 40 * time.Millisecond, nil, 40 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup.Store(int64(tt.lookup))
			start := clk.Now()
			_, err := acc.Authenticate(context.Background(), tt.email, tt.pw)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Authenticate = %v, want %v", err, tt.want)
			}
			if took := clk.Now().Sub(start); took != tt.took {
				t.Fatalf("took %v, want %v", took, tt.took)
			}
		})
	}
}

// A wrong current password on the account page goes through the same
// limited check, so it is held to the floor too.
func TestFailureFloorSetPassword(t *testing.T) {
	const floor = 250 * time.Millisecond
	clk := newAcctClock()
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.LoginLimit, cfg.FailureFloor, cfg.Sleep = "0", floor, clk.Sleep
	acc, _ := floorAccounts(t, cheapArgon2, 0, clk.Now, cfg, nil)
	u, err := acc.Signup(context.Background(), provider.SignupInput{Email: "ann@example.com", Password: annPW})
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	if _, err := acc.SetPassword(context.Background(), u.ID, "not the password", "a new long password"); !errors.Is(err, provider.ErrWrongPassword) {
		t.Fatalf("SetPassword = %v, want ErrWrongPassword", err)
	}
	if took := clk.Now().Sub(start); took != floor {
		t.Fatalf("wrong current password took %v, want %v", took, floor)
	}
}

// The hold happens after the hashing slot is given back: with one slot, a
// failed login parked in its hold does not stop another login's hash.
func TestFailureFloorHoldsNoHashingSlot(t *testing.T) {
	clk := newAcctClock()
	parked, release := make(chan struct{}), make(chan struct{})
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.LoginLimit, cfg.FailureFloor = "0", time.Second
	cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		close(parked)
		<-release
		return clk.Sleep(ctx, d)
	}
	acc, _ := floorAccounts(t, cheapArgon2, 1, clk.Now, cfg, nil)
	if _, err := acc.Signup(context.Background(), provider.SignupInput{Email: "ann@example.com", Password: annPW}); err != nil {
		t.Fatal(err)
	}
	failed := make(chan error, 1)
	go func() {
		_, err := acc.Authenticate(context.Background(), "nobody@example.com", "not the password")
		failed <- err
	}()
	select {
	case <-parked:
	case err := <-failed:
		t.Fatalf("failure returned without being held: %v", err)
	}
	// Only a failure sleeps, so this success never parks; the deadline only
	// turns a held slot into a test failure instead of a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := acc.Authenticate(ctx, "ann@example.com", annPW); err != nil {
		t.Fatalf("login while a failure is held: %v (the hold keeps the hashing slot?)", err)
	}
	close(release)
	if err := <-failed; !errors.Is(err, provider.ErrUnknownUser) {
		t.Fatalf("held failure = %v, want ErrUnknownUser", err)
	}
}

// FailureFloor is bounded: negative means none, above MaxFailureFloor
// means MaxFailureFloor (and a failed login is held exactly that long).
func TestFailureFloorConfigBounds(t *testing.T) {
	for _, tt := range []struct{ set, want time.Duration }{
		{-time.Second, 0},
		{0, 0},
		{400 * time.Millisecond, 400 * time.Millisecond},
		{time.Minute, provider.MaxFailureFloor},
	} {
		clk := newAcctClock()
		cfg := provider.DefaultAccountsConfig(acctIssuer)
		cfg.LoginLimit, cfg.FailureFloor, cfg.Sleep = "0", tt.set, clk.Sleep
		acc, _ := floorAccounts(t, cheapArgon2, 0, clk.Now, cfg, nil)
		start := clk.Now()
		if _, err := acc.Authenticate(context.Background(), "nobody@example.com", "not the password"); !errors.Is(err, provider.ErrUnknownUser) {
			t.Fatal(err)
		}
		if took := clk.Now().Sub(start); took != tt.want {
			t.Errorf("FailureFloor %v: failure held %v, want %v", tt.set, took, tt.want)
		}
	}
}

// A cancelled context stops the calibration before any hashing.
func TestCalibrateFailureFloorCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := provider.NewHasher(cheapArgon2, 0).CalibrateFailureFloor(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
	"user-registry/storage/sqlstore"
)

// newLocalAPI builds the whole handler over SQLite and the given ephemeral
// store, like newTestEnv but for any testing.TB (fuzz targets) and with the
// ephemeral store chosen by the caller (fault injection). While *dbDown
// (if given) is set, the user store fails as an unreachable database does.
func newLocalAPI(tb testing.TB, eph ephemeralStore, dbDown *atomic.Bool, opts ...envOption) http.Handler {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(tb.TempDir(), "api.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	km, err := keys.NewManager(db, keys.Config{Secret: secret})
	if err != nil {
		tb.Fatal(err)
	}
	if err := km.Ensure(ctx); err != nil {
		tb.Fatal(err)
	}
	const issuer = "http://registry.test"
	tokens := keys.NewTokens(km, eph, keys.TokenConfig{Issuer: issuer})
	var users storage.UserStore = db
	if dbDown != nil {
		users = flakyUsers{db, dbDown}
	}
	policy := provider.NewDomainPolicy(db, false, nil)
	acfg := provider.DefaultAccountsConfig(issuer)
	cfg := Config{
		Issuer: issuer, Keys: km, Tokens: tokens, JWKSMaxAge: keys.DefaultJWKSMaxAge,
		DomainAdmin: &provider.DomainAdmin{Store: db, Policy: policy}, Policy: policy,
		Sessions: mustSessions(tb, provider.SessionDeps{Store: eph, Revocations: eph, Users: users}),
		Ready:    map[string]Pinger{"sessions": eph},
	}
	for _, o := range opts {
		o(&cfg, &acfg)
	}
	cfg.Accounts, err = provider.NewAccounts(testAccountDeps(users, policy, tokens, eph, acfg))
	if err != nil {
		tb.Fatal(err)
	}
	return New(cfg)
}

// flakyUsers is a user store that fails with storage.ErrUnavailable while
// *down is set.
type flakyUsers struct {
	storage.UserStore
	down *atomic.Bool
}

func (u flakyUsers) fail() error {
	if u.down.Load() {
		return fmt.Errorf("test: database gone: %w", storage.ErrUnavailable)
	}
	return nil
}

func (u flakyUsers) CreateUser(ctx context.Context, x *storage.User) error {
	if err := u.fail(); err != nil {
		return err
	}
	return u.UserStore.CreateUser(ctx, x)
}

func (u flakyUsers) UserByID(ctx context.Context, id string) (storage.User, error) {
	if err := u.fail(); err != nil {
		return storage.User{}, err
	}
	return u.UserStore.UserByID(ctx, id)
}

func (u flakyUsers) UserByEmail(ctx context.Context, canonical string) (storage.User, error) {
	if err := u.fail(); err != nil {
		return storage.User{}, err
	}
	return u.UserStore.UserByEmail(ctx, canonical)
}

func (u flakyUsers) UpdateUser(ctx context.Context, id string, c storage.UserChange) error {
	if err := u.fail(); err != nil {
		return err
	}
	return u.UserStore.UpdateUser(ctx, id, c)
}

func (u flakyUsers) DeleteUser(ctx context.Context, id string) error {
	if err := u.fail(); err != nil {
		return err
	}
	return u.UserStore.DeleteUser(ctx, id)
}

// flakyStore is an in-process ephemeral store whose session, refresh and
// revocation methods fail with storage.ErrUnavailable while down is set,
// as Redis does when it is unreachable.
type flakyStore struct {
	*memstore.Store
	down atomic.Bool
}

func (s *flakyStore) fail() error {
	if s.down.Load() {
		return fmt.Errorf("test: connection refused: %w", storage.ErrUnavailable)
	}
	return nil
}

func (s *flakyStore) Revoke(ctx context.Context, id string, until time.Time) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.Revoke(ctx, id, until)
}

func (s *flakyStore) IsRevoked(ctx context.Context, ids ...string) (bool, error) {
	if err := s.fail(); err != nil {
		return false, err
	}
	return s.Store.IsRevoked(ctx, ids...)
}

func (s *flakyStore) SetNotBefore(ctx context.Context, userID string, t, until time.Time, spare string) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.SetNotBefore(ctx, userID, t, until, spare)
}

func (s *flakyStore) NotBefore(ctx context.Context, userID string) (time.Time, string, error) {
	if err := s.fail(); err != nil {
		return time.Time{}, "", err
	}
	return s.Store.NotBefore(ctx, userID)
}

func (s *flakyStore) CreateRefresh(ctx context.Context, t storage.RefreshToken) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.CreateRefresh(ctx, t)
}

func (s *flakyStore) RotateRefresh(ctx context.Context, familyID, oldHash string, next storage.RefreshToken) (storage.RefreshToken, error) {
	if err := s.fail(); err != nil {
		return storage.RefreshToken{}, err
	}
	return s.Store.RotateRefresh(ctx, familyID, oldHash, next)
}

func (s *flakyStore) RefreshToken(ctx context.Context, familyID, hash string) (storage.RefreshToken, error) {
	if err := s.fail(); err != nil {
		return storage.RefreshToken{}, err
	}
	return s.Store.RefreshToken(ctx, familyID, hash)
}

func (s *flakyStore) RevokeFamily(ctx context.Context, familyID string) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.RevokeFamily(ctx, familyID)
}

func (s *flakyStore) Session(ctx context.Context, id string) (storage.Session, error) {
	if err := s.fail(); err != nil {
		return storage.Session{}, err
	}
	return s.Store.Session(ctx, id)
}

func (s *flakyStore) DeleteUserConsents(ctx context.Context, userID string) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.DeleteUserConsents(ctx, userID)
}

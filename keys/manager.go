package keys

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"user-registry/storage"
)

// Manager owns the signing keys of this node: it mirrors the KeyStore,
// decrypts the keys that may sign, rotates them and serves the JWKS. Safe for
// concurrent use; several Managers (nodes) on one store agree because the
// lifecycle is computed from the rows alone.
type Manager struct {
	store storage.KeyStore
	cfg   Config

	mu    sync.Mutex // guards plans and privs, serialises rebuilds
	plans []keyPlan  // of the rows last read, by generation
	privs map[string]crypto.Signer

	snap atomic.Pointer[keySet]

	kidMu         sync.Mutex
	lastKidReload time.Time
}

// KeyInfo describes a key for `keys list`.
type KeyInfo struct {
	KID        string    `json:"kid"`
	Alg        string    `json:"alg"`
	State      string    `json:"state"` // next, active, retired (or withdrawn until deleted)
	Generation int64     `json:"generation"`
	Emergency  bool      `json:"emergency,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	ActivateAt time.Time `json:"activate_at"`
	WithdrawAt time.Time `json:"withdraw_at,omitzero"` // zero while the key is still needed
}

// NewManager returns a Manager over store. It does not touch the store; call
// Ensure (or Reload) before use. Returns an error for a bad Config (unknown
// alg, secret not 32 bytes).
func NewManager(store storage.KeyStore, cfg Config) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{store: store, cfg: cfg, privs: map[string]crypto.Signer{}}
	m.snap.Store(buildKeySet(nil, nil, cfg.Now(), cfg.Log))
	return m, nil
}

// Ensure loads the keys and, on a fresh install, creates the first key,
// which signs at once (generation 1).
func (m *Manager) Ensure(ctx context.Context) error {
	if err := m.Reload(ctx); err != nil {
		return err
	}
	m.mu.Lock()
	empty := len(m.plans) == 0
	m.mu.Unlock()
	if !empty {
		return nil
	}
	err := m.create(ctx, 1, m.cfg.Now(), false)
	if errors.Is(err, storage.ErrExists) {
		// Another node created the first key since our reload: use it.
		return m.Reload(ctx)
	}
	return err
}

// Rotate creates the next generation. A normal key is published now and
// signs after JWKSMaxAge (plus propagation); an emergency key signs at once
// and withdraws every older key. Losing a race to another node is not an
// error: its key is used instead.
func (m *Manager) Rotate(ctx context.Context, emergency bool) error {
	for attempt := 0; attempt < 3; attempt++ {
		if err := m.Reload(ctx); err != nil {
			return err
		}
		m.mu.Lock()
		gen := int64(1)
		if n := len(m.plans); n > 0 {
			gen = m.plans[n-1].row.Generation + 1
		}
		m.mu.Unlock()
		now := m.cfg.Now()
		activate := now.Add(m.cfg.JWKSMaxAge + propagation)
		if emergency || gen == 1 {
			activate = now
		}
		err := m.create(ctx, gen, activate, emergency)
		if !errors.Is(err, storage.ErrExists) {
			return err
		}
		// Another node rotated first. Its key serves a normal rotation;
		// an emergency must still create its own key, so retry.
		if !emergency {
			return m.Reload(ctx)
		}
	}
	return fmt.Errorf("keys: emergency rotation kept losing races: %w", storage.ErrExists)
}

// create generates, seals and stores one key, then reloads.
func (m *Manager) create(ctx context.Context, gen int64, activate time.Time, emergency bool) error {
	priv, err := generateKey(m.cfg.Alg)
	if err != nil {
		return err
	}
	kid, public, err := publicJWK(priv, m.cfg.Alg)
	if err != nil {
		return err
	}
	sealed, err := sealKey(m.cfg.Secret, kid, priv)
	if err != nil {
		return err
	}
	row := &storage.SigningKey{
		KID: kid, Generation: gen, Alg: m.cfg.Alg, Private: sealed, Public: public,
		CreatedAt: m.cfg.Now(), ActivateAt: activate, Emergency: emergency,
	}
	if err := m.store.CreateKey(ctx, row); err != nil {
		if errors.Is(err, storage.ErrExists) {
			_ = m.Reload(ctx)
		}
		return err
	}
	m.cfg.Log.Info("signing key created", "kid", kid, "alg", m.cfg.Alg, "generation", gen,
		"activate_at", activate, "emergency", emergency)
	if m.cfg.OnCreate != nil {
		m.cfg.OnCreate(ctx, kid, gen, emergency)
	}
	return m.Reload(ctx)
}

// Reload reads every key from the store and rebuilds the snapshot. Keys
// that cannot be decrypted are still published (their tokens verify) but
// never sign; the first such failure is returned.
func (m *Manager) Reload(ctx context.Context) error {
	rows, err := m.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: reload: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Now()
	plans := plan(rows, m.cfg.JWKSMaxAge, m.cfg.TokenTTL)
	privs := make(map[string]crypto.Signer, len(plans))
	var firstErr error
	for _, p := range plans {
		if !p.published(now) {
			continue // can never sign again; leave it sealed
		}
		if k, ok := m.privs[p.row.KID]; ok {
			privs[p.row.KID] = k
			continue
		}
		k, err := openKey(m.cfg.Secret, p.row.KID, p.row.Private)
		if err != nil {
			m.cfg.Log.Error("signing key does not open", "kid", p.row.KID, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		privs[p.row.KID] = k
	}
	m.plans = plans
	m.privs = privs
	m.snap.Store(buildKeySet(plans, privs, now, m.cfg.Log))
	return firstErr
}

// current returns the snapshot valid at now, rebuilding it from the cached
// plans when a lifecycle transition has passed (no store access).
func (m *Manager) current(now time.Time) *keySet {
	if s := m.snap.Load(); s.validAt(now) {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.snap.Load(); s.validAt(now) {
		return s
	}
	s := buildKeySet(m.plans, m.privs, now, m.cfg.Log)
	m.snap.Store(s)
	return s
}

// lookup returns the published key of kid. An unknown kid triggers at most
// one store reload per kidReloadEvery (a key created by another node may be
// newer than our last reload); nothing else is ever fetched (SEC-2, SEC-3).
func (m *Manager) lookup(ctx context.Context, kid string) (verifyKey, bool) {
	now := m.cfg.Now()
	if k, ok := m.current(now).verify[kid]; ok {
		return k, true
	}
	m.kidMu.Lock()
	due := m.lastKidReload.IsZero() || now.Sub(m.lastKidReload) >= kidReloadEvery || now.Before(m.lastKidReload)
	if due {
		m.lastKidReload = now
	}
	m.kidMu.Unlock()
	if !due {
		return verifyKey{}, false
	}
	if err := m.Reload(ctx); err != nil {
		m.cfg.Log.Warn("key reload for unknown kid failed", "err", err)
	}
	k, ok := m.current(m.cfg.Now()).verify[kid]
	return k, ok
}

// signing returns the key that signs at now. Returns ErrNoSigningKey.
func (m *Manager) signing(now time.Time) (*signingKey, error) {
	if sk := m.current(now).signing; sk != nil {
		return sk, nil
	}
	return nil, ErrNoSigningKey
}

// JWKS returns the pre-encoded {"keys":[...]} of the published public keys
// and its ETag. The body must not be modified.
func (m *Manager) JWKS() (body []byte, etag string) {
	s := m.current(m.cfg.Now())
	return s.jwks, s.etag
}

// Algs returns the algorithms of the published keys, for discovery.
func (m *Manager) Algs() []string {
	algs := m.current(m.cfg.Now()).algs
	if len(algs) == 0 {
		return []string{m.cfg.Alg}
	}
	return append([]string(nil), algs...)
}

// MaxAge is the JWKS max-age the web layer should send.
func (m *Manager) MaxAge() time.Duration { return m.cfg.JWKSMaxAge }

// List describes every stored key, oldest first, as read from the store now.
func (m *Manager) List(ctx context.Context) ([]KeyInfo, error) {
	rows, err := m.store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	now := m.cfg.Now()
	plans := plan(rows, m.cfg.JWKSMaxAge, m.cfg.TokenTTL)
	out := make([]KeyInfo, 0, len(plans))
	for _, p := range plans {
		out = append(out, KeyInfo{
			KID: p.row.KID, Alg: p.row.Alg, State: p.state(now), Generation: p.row.Generation,
			Emergency: p.row.Emergency, CreatedAt: p.row.CreatedAt, ActivateAt: p.activate,
			WithdrawAt: p.withdraw,
		})
	}
	return out, nil
}

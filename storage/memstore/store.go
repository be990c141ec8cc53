package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/ulule/limiter/v3/drivers/store/memory"

	"user-registry/storage"
)

// Compile-time checks that Store implements every storage interface.
var (
	_ storage.UserStore       = (*Store)(nil)
	_ storage.DomainStore     = (*Store)(nil)
	_ storage.ClientStore     = (*Store)(nil)
	_ storage.KeyStore        = (*Store)(nil)
	_ storage.SessionStore    = (*Store)(nil)
	_ storage.RefreshStore    = (*Store)(nil)
	_ storage.RevocationStore = (*Store)(nil)
	_ storage.NonceStore      = (*Store)(nil)
	_ storage.FederationStore = (*Store)(nil)
	_ storage.Pinger          = (*Store)(nil)
)

// Sweep policy: a full pass over the expiring maps runs at most once per
// sweepEvery of clock time, or after sweepWrites writes, whichever comes
// first. Both bounds keep the amortised cost per write constant while
// preventing expired items from piling up under a steady write load.
const (
	sweepEvery  = time.Minute
	sweepWrites = 1024
)

// Store is an in-memory implementation of all storage interfaces. The zero
// value is not usable; call New.
type Store struct {
	now  func() time.Time
	rate storage.RateStore

	mu        sync.Mutex
	lastSweep time.Time
	writes    int

	users       map[string]storage.User // by ID
	emails      map[string]string       // canonical email → user ID
	domains     map[string]storage.DomainRecord
	clients     map[string]storage.Client
	keys        map[string]storage.SigningKey // by KID
	generations map[int64]string              // generation → KID
	trusts      map[string]storage.Trust      // by ID

	sessions  map[string]storage.Session
	codes     map[string]*codeEntry
	consents  map[string]map[string]storage.Consent // user → client → consent
	oneTime   map[string]storage.OneTimeToken
	families  map[string]*family
	revoked   map[string]time.Time             // id → until
	notBefore map[string]notBefore             // user → entry
	nonces    *nonceSet                        // single-use keys (NonceStore); own lock and sweep
	pushed    map[string]storage.PushedRequest // by hash; made on first use (pushed.go)
	devices   devices                          // device authorization requests (device.go)

	lo logoutMem // back-channel logout records (logout.go)

	totp       map[string]storage.TOTPFactor   // by user ID
	recovery   map[string]map[string]struct{}  // user ID → code hashes
	challenges map[string]storage.MFAChallenge // by mfa_token hash

	passkeys     map[string]storage.Passkey          // by our ID
	passkeyCreds map[string]string                   // credential ID bytes → our ID
	ceremonies   map[string]storage.PasskeyChallenge // WebAuthn ceremonies by key
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store decide expiry with now instead of time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		now:         time.Now,
		rate:        memory.NewStore(),
		users:       map[string]storage.User{},
		emails:      map[string]string{},
		domains:     map[string]storage.DomainRecord{},
		clients:     map[string]storage.Client{},
		keys:        map[string]storage.SigningKey{},
		generations: map[int64]string{},
		sessions:    map[string]storage.Session{},
		codes:       map[string]*codeEntry{},
		consents:    map[string]map[string]storage.Consent{},
		oneTime:     map[string]storage.OneTimeToken{},
		families:    map[string]*family{},
		revoked:     map[string]time.Time{},
		notBefore:   map[string]notBefore{},
		nonces:      newNonceSet(),
		trusts:      map[string]storage.Trust{},
		totp:        map[string]storage.TOTPFactor{},
		recovery:    map[string]map[string]struct{}{},
		challenges:  map[string]storage.MFAChallenge{},

		passkeys:     map[string]storage.Passkey{},
		passkeyCreds: map[string]string{},
		ceremonies:   map[string]storage.PasskeyChallenge{},
	}
	for _, o := range opts {
		o(s)
	}
	s.lastSweep = s.now()
	return s
}

// Ping always succeeds: memory is always reachable.
func (s *Store) Ping(context.Context) error { return nil }

// Rate returns the rate-limit counter store (the limiter library's memory
// store; it runs its own cleanup of stale counters).
func (s *Store) Rate() storage.RateStore { return s.rate }

// live reports whether an item expiring at exp is still valid at now.
func live(exp, now time.Time) bool { return now.Before(exp) }

// wrote records a write and sweeps expired items when due. Callers hold mu.
func (s *Store) wrote(now time.Time) {
	s.writes++
	if s.writes < sweepWrites && now.Sub(s.lastSweep) < sweepEvery {
		return
	}
	s.writes = 0
	s.lastSweep = now
	for id, v := range s.sessions {
		if !live(v.ExpiresAt, now) {
			delete(s.sessions, id)
		}
	}
	for h, v := range s.codes {
		if !live(v.code.ExpiresAt, now) {
			delete(s.codes, h)
		}
	}
	for h, v := range s.challenges {
		if !live(v.ExpiresAt, now) {
			delete(s.challenges, h)
		}
	}
	for k, v := range s.ceremonies {
		if !live(v.ExpiresAt, now) {
			delete(s.ceremonies, k)
		}
	}
	for uid, m := range s.consents {
		for cid, v := range m {
			if !live(v.ExpiresAt, now) {
				delete(m, cid)
			}
		}
		if len(m) == 0 {
			delete(s.consents, uid)
		}
	}
	for h, v := range s.oneTime {
		if !live(v.ExpiresAt, now) {
			delete(s.oneTime, h)
		}
	}
	for id, f := range s.families {
		if !f.alive(now) {
			delete(s.families, id)
		}
	}
	for id, until := range s.revoked {
		if !live(until, now) {
			delete(s.revoked, id)
		}
	}
	for uid, nb := range s.notBefore {
		if !live(nb.until, now) {
			delete(s.notBefore, uid)
		}
	}
	s.sweepPushed(now)
	s.devices.sweep(now)
}

package storagetest

import (
	"sync"
	"testing"
	"time"

	"user-registry/storage"
)

// Stores is what a backend under test provides. Nil fields are skipped.
type Stores struct {
	Users       storage.UserStore
	Domains     storage.DomainStore
	Clients     storage.ClientStore
	Keys        storage.KeyStore
	Sessions    storage.SessionStore
	Refresh     storage.RefreshStore
	Revocations storage.RevocationStore
	Rate        storage.RateStore
	Audit       storage.AuditStore
	Nonces      storage.NonceStore
	Federation  storage.FederationStore
	Logout      storage.LogoutStore
	MFA         storage.MFAStore
	Challenges  storage.MFAChallengeStore

	Passkeys          storage.PasskeyStore
	PasskeyChallenges storage.PasskeyChallengeStore

	// Clock is the clock the ephemeral stores were built with (their Now),
	// so expiry is tested by advancing it rather than sleeping. Backends
	// that also set a real TTL (Redis) check it in their own tests.
	Clock *Clock
}

// Clock is a settable clock for expiry tests. Its Now method is the store's
// injected clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock starting at a fixed instant.
func NewClock() *Clock {
	return &Clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Run runs the whole suite against fresh stores from newStores, which the
// suite calls once per subtest (with the subtest's t, so backends can clean
// up with t.Cleanup) and passes a new Clock to use as Now.
func Run(t *testing.T, newStores func(t *testing.T, clock *Clock) Stores) {
	t.Helper()
	groups := []struct {
		name string
		run  func(t *testing.T, s Stores)
		need func(s Stores) bool
	}{
		{"users", testUsers, func(s Stores) bool { return s.Users != nil }},
		{"domains", testDomains, func(s Stores) bool { return s.Domains != nil }},
		{"domain-lists", testDomainLists, func(s Stores) bool { return s.Domains != nil }},
		{"clients", testClients, func(s Stores) bool { return s.Clients != nil }},
		{"client-long-lists", testClientLongLists, func(s Stores) bool { return s.Clients != nil }},
		{"keys", testKeys, func(s Stores) bool { return s.Keys != nil }},
		{"sessions", testSessions, func(s Stores) bool { return s.Sessions != nil }},
		{"refresh", testRefresh, func(s Stores) bool { return s.Refresh != nil }},
		{"revocations", testRevocations, func(s Stores) bool { return s.Revocations != nil }},
		{"rate", testRate, func(s Stores) bool { return s.Rate != nil }},
		{"client-keys", testClientKeys, func(s Stores) bool { return s.Clients != nil }},
		{"nonces", testNonces, func(s Stores) bool { return s.Nonces != nil }},
		{"federation", testFederation, func(s Stores) bool { return s.Federation != nil }},
		{"client-secret-rotation", testClientSecretRotation, func(s Stores) bool { return s.Clients != nil }},
		{"logout", testLogout, func(s Stores) bool { return s.Logout != nil }},
		{"mfa", testMFA, func(s Stores) bool { return s.MFA != nil }},
		{"mfa-challenges", testMFAChallenges, func(s Stores) bool { return s.Challenges != nil }},
		{"passkeys", testPasskeys, func(s Stores) bool { return s.Passkeys != nil }},
		// DeleteUser takes the passkeys: a backend holding both stores.
		{"passkeys/deleted-with-user", testPasskeysDeletedWithUser, func(s Stores) bool { return s.Passkeys != nil && s.Users != nil }},
		{"passkey-challenges", testPasskeyChallenges, func(s Stores) bool { return s.PasskeyChallenges != nil }},
	}
	for _, g := range auditGroups {
		groups = append(groups, struct {
			name string
			run  func(t *testing.T, s Stores)
			need func(s Stores) bool
		}{g.name, g.run, func(s Stores) bool { return s.Audit != nil }})
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			clock := NewClock()
			s := newStores(t, clock)
			s.Clock = clock
			if !g.need(s) {
				t.Skipf("backend has no %s store", g.name)
			}
			g.run(t, s)
		})
	}
}

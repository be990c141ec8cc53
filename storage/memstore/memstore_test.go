package memstore_test

import (
	"testing"

	"user-registry/storage/memstore"
	"user-registry/storage/storagetest"
)

func TestConformance(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, clock *storagetest.Clock) storagetest.Stores {
			s := memstore.New(memstore.WithClock(clock.Now))
			return storagetest.Stores{
				Users: s, Domains: s, Clients: s, Keys: s,
				Sessions: s, Refresh: s, Revocations: s, Rate: s.Rate(),
				Audit:  memstore.NewAudit(clock.Now),
				Nonces: s, Federation: s, Logout: s, MFA: s, Challenges: s,
				Passkeys: s, PasskeyChallenges: s,
			}
		})
	})
}

package memstore

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// nonceSet holds the single-use keys of NonceStore: client-assertion and
// DPoP proof jti values. Under machine-client load it is by far the
// largest map of the store (one entry per token request for up to five
// minutes: ~10^5–10^6 entries), so it differs from the other maps:
//
//   - an entry is a 64-bit seeded hash of the key and an expiry in unix
//     seconds, ~20 bytes instead of ~200 for the key string and a
//     time.Time. Two keys sharing a hash would make the second look
//     replayed: a refusal, never an acceptance, and with a per-process
//     random seed nobody can aim for one (at 10^6 live keys the chance of
//     any collision is ~3·10^-8);
//   - it has its own lock, so its sweeps never stall sessions or tokens;
//   - it is swept when the writes since the last sweep reach half its size
//     (and at least sweepWrites), so the amortised sweep cost per write is
//     constant however large the set grows.
type nonceSet struct {
	mu     sync.Mutex
	seed   maphash.Seed
	until  map[uint64]int64 // key hash → expiry (unix seconds, rounded up)
	writes int
}

func newNonceSet() *nonceSet {
	return &nonceSet{seed: maphash.MakeSeed(), until: map[uint64]int64{}}
}

// useOnce records key until `until` and reports whether this was its first
// use while live at now.
func (n *nonceSet) useOnce(key string, until, now time.Time) bool {
	h := maphash.String(n.seed, key)
	exp := until.Unix()
	if until.Nanosecond() != 0 {
		exp++ // rounding up keeps a key at least as long as asked
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if cur, ok := n.until[h]; ok && now.Unix() < cur {
		return false
	}
	n.until[h] = exp
	n.writes++
	if n.writes >= max(sweepWrites, len(n.until)/2) {
		n.sweep(now.Unix())
	}
	return true
}

// sweep drops the entries expired at now. Callers hold mu.
func (n *nonceSet) sweep(now int64) {
	n.writes = 0
	for h, exp := range n.until {
		if now >= exp {
			delete(n.until, h)
		}
	}
}

// size is the number of entries held, live or not yet swept.
func (n *nonceSet) size() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.until)
}

// UseOnce records key until `until` and reports whether this was its first
// use while live.
func (s *Store) UseOnce(_ context.Context, key string, until time.Time) (bool, error) {
	return s.nonces.useOnce(key, until, s.now()), nil
}

package provider

import (
	"sync"
	"time"
)

// rateLimitedWindow is how long one rate_limited event stands for its
// repeats.
const rateLimitedWindow = time.Minute

// maxRateLimitedKeys bounds the memory of recent rate_limited events; a
// flood from many addresses clears it (and records a few more events)
// rather than growing it.
const maxRateLimitedKeys = 10000

// rateLimitedDedup remembers which rate_limited events were recorded in
// the last window, so that a client hammering a limit produces one event
// a minute instead of one per refused request.
type rateLimitedDedup struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newRateLimitedDedup() *rateLimitedDedup {
	return &rateLimitedDedup{seen: make(map[string]time.Time)}
}

// first reports whether e is the first of its kind within the window at
// now, and remembers it.
func (d *rateLimitedDedup) first(e AuditEvent, now time.Time) bool {
	key := e.Detail + "\x00" + e.IP + "\x00" + e.UserID + "\x00" + e.ClientID
	d.mu.Lock()
	defer d.mu.Unlock()
	if at, ok := d.seen[key]; ok && now.Sub(at) >= 0 && now.Sub(at) < rateLimitedWindow {
		return false
	}
	if len(d.seen) >= maxRateLimitedKeys {
		for k, at := range d.seen {
			if now.Sub(at) >= rateLimitedWindow {
				delete(d.seen, k)
			}
		}
		if len(d.seen) >= maxRateLimitedKeys {
			clear(d.seen)
		}
	}
	d.seen[key] = now
	return true
}

package main

import (
	"context"
	"runtime/debug"
	"time"
)

// The collector setting follows the work. GOGC=400 suits the token path
// (little live data, much short-lived garbage: fewer collections), but a
// password hash keeps argon2id's 19 MiB live per hashing slot, and five
// times that is far over the soft limit: the collector then runs at the
// limit, and the runtime returns freed hash buffers to the kernel just
// before the next hash faults them in again. Measured on 2 cores under a
// login load: CPU per login 1.45× the hash alone at GOGC=400, 1.06× at
// GOGC=100, with peak RSS 150 MiB and 127 MiB. So while passwords are being
// hashed the server collects at GOGC=100, and returns to 400 once no hash
// has begun for hashQuiet.
const (
	hashingGCPercent = 100
	hashQuiet        = 2 * time.Second
	gcGovernorTick   = 250 * time.Millisecond
)

// gcGovernor decides the GOGC value from how many hashes have begun.
type gcGovernor struct {
	idle, busy int // GOGC without and with hashing
	quiet      time.Duration

	lastCount uint64
	lastHash  time.Time // when a new hash was last seen
	current   int
}

func newGCGovernor(idle int) *gcGovernor {
	return &gcGovernor{idle: idle, busy: hashingGCPercent, quiet: hashQuiet, current: idle}
}

// observe takes the hash count at now and returns the GOGC value to use
// and whether it differs from the one in force.
func (g *gcGovernor) observe(count uint64, now time.Time) (percent int, changed bool) {
	if count != g.lastCount {
		g.lastCount, g.lastHash = count, now
	}
	want := g.idle
	if !g.lastHash.IsZero() && now.Sub(g.lastHash) < g.quiet {
		want = g.busy
	}
	if want == g.current {
		return want, false
	}
	g.current = want
	return want, true
}

// runGCGovernor sets GOGC from hashes (the hasher's Started) every tick
// until ctx ends. It is not started when the environment sets GOGC.
func runGCGovernor(ctx context.Context, idle int, hashes func() uint64) {
	g := newGCGovernor(idle)
	g.lastCount = hashes()
	t := time.NewTicker(gcGovernorTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if p, changed := g.observe(hashes(), now); changed {
				debug.SetGCPercent(p)
			}
		}
	}
}

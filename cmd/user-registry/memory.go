package main

import (
	"runtime/debug"

	"user-registry/provider"
)

// The memory policy of the process, set at start from the machine (the
// performance issue). Two kinds of work share the heap:
//
//   - the token and document endpoints allocate a few KiB per request and
//     keep almost nothing: collecting less often (GOGC=400) cuts their GC
//     cost, measured ~15% more tokens/s on 2 cores;
//   - every password hash (login, signup, password change) allocates the
//     argon2id memory, 19 MiB, and the hashing semaphore lets one run per
//     core (provider.NewHasher's default width).
//
// A soft limit keeps GOGC=400 from growing the heap to five times the live
// hashes. It must leave room for two buffers per hashing slot: the one in
// use and the previous one, garbage the collector has not reclaimed yet.
// With less (the fixed 112 MiB of before, on 2 cores), the collector runs
// almost continuously under a login load and the runtime hands freed
// buffers back to the kernel just before the next hash faults them in
// again: login throughput fell to 0.6 of the argon2id bound.
//
// So: limit = memoryBase + cores × 2 × argon2id memory (124 MiB on 2
// cores). The executable's pages and the runtime's overshoot of a soft
// limit add ~20 MiB of resident memory outside it: the README states the
// rule as "about 72 MiB + 38 MiB per core". GOGC=400 holds only while no
// password is being hashed (gcgovernor.go); Go's default GOGC=100 on the
// token path costs 10-15 µs per token. GOGC and GOMEMLIMIT in the
// environment win, as usual for Go programs.
const (
	// memoryBase is what the server holds besides password hashes: code,
	// runtime, caches, connection buffers and the token path's garbage
	// between collections (the peak RSS of the token and JWKS load runs is
	// about 50 MiB).
	memoryBase = 48 << 20
	// buffersPerSlot: the hash running and the previous one's garbage.
	buffersPerSlot = 2
	// defaultGCPercent is GOGC unless the environment sets it.
	defaultGCPercent = 400
)

// gcPolicy is what applyGCPolicy sets; a zero field is left alone
// (the environment set it).
type gcPolicy struct {
	GCPercent int
	Limit     int64 // bytes
}

// memoryLimit is the soft memory limit for a server whose hasher runs
// slots argon2id hashes with p at once.
func memoryLimit(slots int, p provider.Argon2Params) int64 {
	return memoryBase + int64(max(slots, 1))*buffersPerSlot*int64(p.Memory)<<10
}

// gcPolicyFor returns the policy for a machine with cores CPUs (the
// hasher's width) hashing with p, leaving what the environment sets.
func gcPolicyFor(lookupEnv func(string) (string, bool), cores int, p provider.Argon2Params) gcPolicy {
	var g gcPolicy
	if _, set := lookupEnv("GOGC"); !set {
		g.GCPercent = defaultGCPercent
	}
	if _, set := lookupEnv("GOMEMLIMIT"); !set {
		g.Limit = memoryLimit(cores, p)
	}
	return g
}

func applyGCPolicy(g gcPolicy) {
	if g.GCPercent != 0 {
		debug.SetGCPercent(g.GCPercent)
	}
	if g.Limit != 0 {
		debug.SetMemoryLimit(g.Limit)
	}
}

package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/argon2"

	"user-registry/provider"
)

// loginVsBound measures POST /login against the argon2id bound of this
// machine in the same run: hashes per second with the server's parameters
// on all cores, computed in this process with nothing else running. A
// login is one argon2id verification plus a little work, so the bound is
// the most it can reach; the ratio shows what memory management, the
// semaphore and the rest of the request cost. The bound is measured for
// half the login duration just before and just after the login run, and
// the two are averaged, so drift on a shared machine hits both sides.
func loginVsBound(ctx context.Context, o options, rep *backendReport, login peer) {
	if login.note != "" || !preflight(ctx, &login) {
		rep.Rows = append(rep.Rows, row{Scenario: "login", Target: "ours", Note: login.note})
		return
	}
	before, cpu1 := argonBound(ctx, o.loginDuration/2)
	st := attack(ctx, login.tgts, o.loginWorkers, o.loginDuration, login.pids)
	after, cpu2 := argonBound(ctx, o.loginDuration/2)
	printRound("login", "ours", 1, st)
	fmt.Printf("  %-9s %-7s before %.1f, after %.1f hashes/s on %d cores; CPU %.0f, %.0f µs/hash\n",
		"login", "bound", before, after, runtime.NumCPU(), us(cpu1), us(cpu2))
	st.Rounds = []float64{st.ReqPerSec}
	rep.Rows = append(rep.Rows, row{Scenario: "login", Target: "ours", Stats: st})
	rep.Bound = (before + after) / 2
	rep.BoundCPU = (cpu1 + cpu2) / 2
}

// argonBound runs one argon2id hash loop per core for d and returns the
// completed hashes per second (a hash still running at the deadline is
// finished and counted, with its time) and the CPU time per hash of this
// process (nothing else of it runs meanwhile): unlike the rate, the CPU
// per hash hardly moves with other load on the machine.
func argonBound(ctx context.Context, d time.Duration) (float64, time.Duration) {
	cpu0 := selfCPU()
	p := provider.DefaultArgon2Params()
	pw, salt := []byte(benchPassword), make([]byte, p.SaltLen)
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
				n.Add(1)
			}
		})
	}
	wg.Wait()
	rate := float64(n.Load()) / time.Since(start).Seconds()
	if n.Load() == 0 {
		return rate, 0
	}
	return rate, (selfCPU() - cpu0) / time.Duration(n.Load())
}

// selfCPU is the user+system CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

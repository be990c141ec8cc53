package provider

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Every failed password check lasts at least AccountsConfig.FailureFloor
// (SEC-26, SEC-75). An unknown address costs the dummy argon2id hash and a
// wrong password the stored hash's verification, but the werkzeug hashes
// of imported accounts cost several argon2id ones (twice that when the
// password's NFKC form differs, since Verify then tries both forms). The
// answers are identical, so without a floor the time alone would tell
// which addresses hold imported accounts. A failed check therefore sleeps
// until the floor has passed since it began. The sleep comes after Verify
// has given its hashing slot back: a held failure costs a parked
// goroutine, not hashing throughput or memory. Successful checks are not
// held: success is visible anyway.

// MaxFailureFloor caps the failure floor, whatever is configured or
// measured, so a slow machine or a costly reference cannot make every
// failed login take seconds.
const MaxFailureFloor = time.Second

// floorReference is a legacy hash to measure, standing for one that
// costs times as much.
type floorReference struct {
	hash  string
	times time.Duration
}

// failureFloorReferences are, besides the Hasher's own argon2id, the
// dearest stored hashes a failed login is expected to meet: werkzeug's
// defaults (pbkdf2:sha256 at 1,000,000 rounds since 3.1, cheaper before:
// 600,000 in 2.3, 260,000 in 2.0; scrypt 32768:8:1 since 3.0). pbkdf2's
// time is linear in its rounds, so a tenth is measured and scaled, to
// keep start-up short. Rows with dearer parameters (up to the parser's
// bounds) still take longer than the floor: covering them would hold
// every failure for seconds.
var failureFloorReferences = []floorReference{
	{"pbkdf2:sha256:100000$floor-reference$" + strings.Repeat("00", 32), 10},
	{"scrypt:32768:8:1$floor-reference$" + strings.Repeat("00", scryptKeyLen), 1},
}

// calibrationPassword differs from its NFKC form (the ligature "ﬁ"), so a
// legacy reference costs both of Verify's tries, as a caller can make it.
const calibrationPassword = "floor-calibration-\ufb01"

// CalibrateFailureFloor measures how long h takes to reject a wrong
// password against each kind of hash a failed login is expected to meet:
// its own argon2id (also the dummy hash of unknown addresses) and
// werkzeug's default pbkdf2 and scrypt, each kind's fastest of
// floorSamples runs. It returns the slowest kind's time plus
// a quarter for noise, capped at MaxFailureFloor, for
// AccountsConfig.FailureFloor. Run it once at start, before serving: it
// takes a fraction of a second of one core. Returns ctx's error if ctx
// ends.
func (h *Hasher) CalibrateFailureFloor(ctx context.Context) (time.Duration, error) {
	return h.calibrate(ctx, time.Now, failureFloorReferences)
}

// floorSamples is how often each kind is measured; the fastest run
// counts, so one preemption or a first run's page faults (scrypt's fresh
// 32 MiB) do not double the floor.
const floorSamples = 2

// calibrate is CalibrateFailureFloor against the legacy hashes refs,
// timed with now (tests step a fake clock).
func (h *Hasher) calibrate(ctx context.Context, now func() time.Time, refs []floorReference) (time.Duration, error) {
	kinds := []func() error{func() error { return h.VerifyDummy(ctx, calibrationPassword) }}
	scale := []time.Duration{1}
	for _, ref := range refs {
		kinds = append(kinds, func() error {
			_, _, err := h.Verify(ctx, calibrationPassword, ref.hash)
			return err
		})
		scale = append(scale, ref.times)
	}
	var slowest time.Duration
	for i, verify := range kinds {
		fastest := time.Duration(math.MaxInt64)
		for range floorSamples {
			start := now()
			if err := verify(); err != nil {
				return 0, fmt.Errorf("provider: calibrate failure floor: %w", err)
			}
			fastest = min(fastest, now().Sub(start))
		}
		slowest = max(slowest, fastest*scale[i])
	}
	return min(slowest+slowest/4, MaxFailureFloor), nil
}

// holdFailure sleeps until the failure floor has passed since start, when
// the failed check began. A context that ends first cuts the wait short:
// its caller is gone and times nothing.
func (a *Accounts) holdFailure(ctx context.Context, start time.Time) {
	if rest := a.cfg.FailureFloor - a.now().Sub(start); rest > 0 {
		_ = a.sleep(ctx, rest)
	}
}

package provider

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The references CalibrateFailureFloor measures are hashes Verify accepts
// (a malformed one would make calibration, and so serve, fail).
func TestFailureFloorReferencesSupported(t *testing.T) {
	for _, ref := range failureFloorReferences {
		if !IsSupportedHash(ref.hash) || ref.times < 1 {
			t.Errorf("reference %+v: not a supported hash or no scale", ref)
		}
	}
}

// steppingClock moves by the next step between the two readings of each
// measured span, so every span is exactly one step.
type steppingClock struct {
	now   time.Time
	steps []time.Duration
	reads int
}

func (c *steppingClock) Now() time.Time {
	if c.reads%2 == 1 {
		c.now = c.now.Add(c.steps[c.reads/2])
	}
	c.reads++
	return c.now
}

// The floor is the slowest measured kind plus a quarter, capped at
// MaxFailureFloor. Cheap legacy hashes stand in for werkzeug's defaults
// (slow under -race); the spans come from the stepping clock.
func TestCalibrateFailureFloorArithmetic(t *testing.T) {
	h := NewHasher(fastParams(), 0)
	refs := []floorReference{
		{"pbkdf2:sha256:1000$salt$" + strings.Repeat("00", 32), 10},
		{"scrypt:16:8:1$salt$" + strings.Repeat("00", scryptKeyLen), 1},
	}
	const ms = time.Millisecond
	for _, tt := range []struct {
		name string
		// Two runs per kind: dummy argon2id, pbkdf2 (counts 10 times), scrypt.
		steps []time.Duration
		want  time.Duration
	}{
		{"scaled pbkdf2 slowest", []time.Duration{30 * ms, 30 * ms, 32 * ms, 50 * ms, 200 * ms, 200 * ms}, 400 * ms},
		{"scrypt slowest, its fastest run", []time.Duration{30 * ms, 30 * ms, 8 * ms, 8 * ms, 400 * ms, 160 * ms}, 200 * ms},
		{"argon2id slowest", []time.Duration{90 * ms, 80 * ms, 4 * ms, 4 * ms, 60 * ms, 60 * ms}, 100 * ms},
		{"capped", []time.Duration{30 * ms, 30 * ms, 90 * ms, 90 * ms, 200 * ms, 200 * ms}, MaxFailureFloor},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := &steppingClock{now: time.Unix(0, 0), steps: tt.steps}
			got, err := h.calibrate(context.Background(), clk.Now, refs)
			if err != nil || got != tt.want {
				t.Fatalf("calibrate = %v, %v; want %v", got, err, tt.want)
			}
			if clk.reads != 2*len(tt.steps) {
				t.Fatalf("%d clock readings, want %d (two spans per kind)", clk.reads, 2*len(tt.steps))
			}
		})
	}
}

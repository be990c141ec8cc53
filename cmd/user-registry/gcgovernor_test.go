package main

import (
	"testing"
	"time"
)

// TestGCGovernor: the collector setting follows hashing, with a quiet
// period before going back to the token path's setting.
func TestGCGovernor(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	g := newGCGovernor(400)
	for i, step := range []struct {
		count       uint64
		now         time.Time
		want        int
		wantChanged bool
	}{
		{0, at(0), 400, false},                       // nothing hashed: idle setting, already in force
		{0, at(time.Second), 400, false},             // still nothing
		{1, at(2 * time.Second), 100, true},          // a hash began: collect often
		{3, at(2500 * time.Millisecond), 100, false}, // more hashes: unchanged
		{3, at(4400 * time.Millisecond), 100, false}, // 1.9 s since the last new hash: still busy
		{3, at(4500 * time.Millisecond), 400, true},  // quiet for 2 s: back to idle
		{3, at(9 * time.Second), 400, false},         // stays idle
		{4, at(10 * time.Second), 100, true},         // hashing again
		{4, at(12 * time.Second), 400, true},         // and quiet again
	} {
		got, changed := g.observe(step.count, step.now)
		if got != step.want || changed != step.wantChanged {
			t.Fatalf("step %d: observe(%d, +%v) = %d, %v; want %d, %v", i, step.count, step.now.Sub(t0), got, changed, step.want, step.wantChanged)
		}
	}
}

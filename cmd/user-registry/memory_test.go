package main

import (
	"testing"

	"user-registry/provider"
)

func TestMemoryLimitRule(t *testing.T) {
	const mib = 1 << 20
	def := provider.DefaultArgon2Params() // 19 MiB
	for _, tc := range []struct {
		name  string
		slots int
		p     provider.Argon2Params
		want  int64
	}{
		{"1 core", 1, def, 48*mib + 2*19*mib},
		{"2 cores", 2, def, 48*mib + 4*19*mib},
		{"8 cores", 8, def, 48*mib + 16*19*mib},
		{"no cores reported counts as one", 0, def, 48*mib + 2*19*mib},
		{"64 MiB hashes", 2, provider.Argon2Params{Memory: 64 << 10}, 48*mib + 4*64*mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := memoryLimit(tc.slots, tc.p); got != tc.want {
				t.Fatalf("memoryLimit(%d, %d KiB) = %d MiB, want %d MiB", tc.slots, tc.p.Memory, got/mib, tc.want/mib)
			}
		})
	}
	// The documented figure for a 2-core machine stays within the issue's
	// 150 MiB.
	if got := memoryLimit(2, def); got > 150*mib {
		t.Fatalf("2-core limit %d MiB exceeds 150 MiB", got/mib)
	}
}

func TestGCPolicyEnvironmentWins(t *testing.T) {
	def := provider.DefaultArgon2Params()
	rule := memoryLimit(4, def)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want gcPolicy
	}{
		{"nothing set", nil, gcPolicy{GCPercent: defaultGCPercent, Limit: rule}},
		{"GOGC set", map[string]string{"GOGC": "100"}, gcPolicy{Limit: rule}},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, gcPolicy{GCPercent: defaultGCPercent}},
		{"both set, even empty", map[string]string{"GOGC": "", "GOMEMLIMIT": ""}, gcPolicy{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			if got := gcPolicyFor(lookup, 4, def); got != tc.want {
				t.Fatalf("gcPolicyFor = %+v, want %+v", got, tc.want)
			}
		})
	}
}

package redisstore

import (
	"os"
	"regexp"
	"testing"
)

// TestScriptsTouchOnlyDeclaredKeys: on Redis Cluster a script may touch
// only the keys passed in KEYS (SPEC §9), so every redis.call in scripts.go
// must name its key as KEYS[n], never one built from ARGV or from data.
func TestScriptsTouchOnlyDeclaredKeys(t *testing.T) {
	src, err := os.ReadFile("scripts.go")
	if err != nil {
		t.Fatal(err)
	}
	calls := regexp.MustCompile(`redis\.call\(\s*'([A-Za-z]+)'\s*,\s*([^,)]+)`).FindAllStringSubmatch(string(src), -1)
	if len(calls) == 0 {
		t.Fatal("no redis.call found in scripts.go")
	}
	declared := regexp.MustCompile(`^KEYS\[[0-9]+\]$`)
	for _, c := range calls {
		if !declared.MatchString(c[2]) {
			t.Errorf("redis.call('%s', %s): key not taken from KEYS", c[1], c[2])
		}
	}
}

package provider

import (
	"strings"
	"testing"
)

// A client ID is passed as a command-line argument (`clients delete ID`) and
// in URLs: one that began with "-" would be read as a flag. base64url draws
// "-" as the first character once in 64 IDs.
func TestNewClientIDNeverLooksLikeAFlag(t *testing.T) {
	for i := 0; i < 20000; i++ {
		id := newClientID()
		if strings.HasPrefix(id, "-") || len(id) != 22 {
			t.Fatalf("client ID %q: must be 22 characters and not start with '-'", id)
		}
	}
}

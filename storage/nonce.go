package storage

import (
	"context"
	"time"
)

// NonceStore remembers single-use values across every node that shares it:
// the jti of a client assertion (RFC 7523, SEC-60) or of a DPoP proof (RFC
// 9449, SEC-63). Callers namespace their keys ("assert:…", "dpop:…").
type NonceStore interface {
	// UseOnce records key until `until` and reports whether this call was
	// its first use: of concurrent calls with one key exactly one gets
	// true, and every later call before `until` gets false. After `until`
	// the key may be used again (the value it guards has expired by then).
	UseOnce(ctx context.Context, key string, until time.Time) (first bool, err error)
}

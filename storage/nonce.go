package storage

import (
	"context"
	"time"
)

// NonceStore remembers one-use values (assertion and proof jti) across nodes.
type NonceStore interface {
	// UseOnce records key until `until` and reports whether this call was the first; later calls for the same
	// key before `until` report false.
	UseOnce(ctx context.Context, key string, until time.Time) (first bool, err error)
}

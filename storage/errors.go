package storage

import "errors"

var (
	// ErrNotFound is returned when a record does not exist (or has expired).
	ErrNotFound = errors.New("storage: not found")
	// ErrExists is returned when a create would violate a uniqueness rule,
	// such as a second user with the same canonical email.
	ErrExists = errors.New("storage: already exists")
	// ErrReused is returned when a single-use item (a rotated refresh token,
	// a consumed authorization code) is presented again.
	ErrReused = errors.New("storage: already used")
	// ErrConflict is returned when a conditional write finds the record
	// changed since the caller read it (UserChange.IfPasswordHash), so the
	// caller's decision rests on stale data and nothing was written.
	ErrConflict = errors.New("storage: changed concurrently")
	// ErrUnavailable wraps failures to reach a backend (network, server
	// down). Callers answer 503 and never treat it as "not found".
	ErrUnavailable = errors.New("storage: backend unavailable")
)

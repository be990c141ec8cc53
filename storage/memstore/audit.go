package memstore

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"user-registry/storage"
)

var _ storage.AuditStore = (*Audit)(nil)

// Audit is an in-memory AuditStore, for tests and single-process runs
// without a database. Events are kept in append order; a list scans them
// from the newest, which is fine at the sizes memory can hold. It is a
// type of its own, not part of Store: the audit trail belongs with the
// database, and Store is the ephemeral state.
type Audit struct {
	now func() time.Time

	mu     sync.Mutex
	nextID int64
	events []storage.AuditEvent // ascending by ID
}

// NewAudit returns an empty audit store; now (nil: time.Now) stamps events
// appended without a time.
func NewAudit(now func() time.Time) *Audit {
	if now == nil {
		now = time.Now
	}
	return &Audit{now: now}
}

// AppendAuditEvents stores events with fresh increasing IDs.
func (a *Audit) AppendAuditEvents(_ context.Context, events []storage.AuditEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range events {
		if e.Time.IsZero() {
			e.Time = a.now()
		}
		// The precision the SQL stores keep, so cursors agree everywhere.
		e.Time = e.Time.UTC().Truncate(time.Microsecond)
		a.nextID++
		e.ID = a.nextID
		a.events = append(a.events, e)
	}
	return nil
}

// ListAuditEvents returns a keyset page of events, newest first (Time,
// then ID, descending).
func (a *Audit) ListAuditEvents(_ context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	a.mu.Lock()
	matched := make([]storage.AuditEvent, 0)
	for _, e := range a.events {
		if matches(e, f) {
			matched = append(matched, e)
		}
	}
	a.mu.Unlock()
	sortNewestFirst(matched)
	if len(matched) > limit {
		matched = matched[:limit]
	}
	return matched, nil
}

func matches(e storage.AuditEvent, f storage.AuditFilter) bool {
	switch {
	case f.UserID != "" && e.UserID != f.UserID,
		f.Domain != "" && e.Domain != f.Domain,
		f.Event != "" && e.Event != f.Event,
		!f.Since.IsZero() && e.Time.Before(f.Since):
		return false
	case f.Cursor.IsZero():
		return true
	}
	return before(e, f.Cursor)
}

// before reports whether e comes after cursor c in the list order
// (older, or as old with a smaller ID).
func before(e storage.AuditEvent, c storage.AuditCursor) bool {
	return e.Time.Before(c.Time) || (e.Time.Equal(c.Time) && e.ID < c.ID)
}

func sortNewestFirst(list []storage.AuditEvent) {
	slices.SortFunc(list, func(x, y storage.AuditEvent) int {
		if c := y.Time.Compare(x.Time); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
}

// PruneAuditEvents deletes events older than cutoff.
func (a *Audit) PruneAuditEvents(_ context.Context, cutoff time.Time) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	kept := a.events[:0]
	for _, e := range a.events {
		if !e.Time.Before(cutoff) {
			kept = append(kept, e)
		}
	}
	n := int64(len(a.events) - len(kept))
	clear(a.events[len(kept):])
	a.events = kept
	return n, nil
}

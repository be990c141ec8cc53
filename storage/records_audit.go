package storage

import "time"

// AuditEvent is one stored security event (SPEC §13). ID is assigned by the
// store on append (increasing; the tie-breaker of the list order). Detail
// is a short reason, never a secret (SEC-71): the store keeps what it is
// given, the writer in provider decides what that is.
type AuditEvent struct {
	ID        int64
	Time      time.Time
	Event     string
	UserID    string
	ClientID  string
	Domain    string
	Actor     string
	IP        string
	UserAgent string
	Detail    string
}

// AuditCursor is the position after which a page of audit events starts:
// the (Time, ID) of the last event of the previous page. The zero value
// starts at the newest event.
type AuditCursor struct {
	Time time.Time
	ID   int64
}

// IsZero reports whether c is the first-page cursor.
func (c AuditCursor) IsZero() bool { return c.ID == 0 && c.Time.IsZero() }

// AuditFilter selects audit events for ListAuditEvents. Empty fields do
// not filter; a zero Since means no lower bound.
type AuditFilter struct {
	UserID string
	Domain string
	Event  string
	Since  time.Time // events at or after Since
	Cursor AuditCursor
	Limit  int // at most this many; ≤ 0 means 100
}

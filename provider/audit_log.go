package provider

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"user-registry/storage"
)

// Paging of the audit query (SPEC §13: like /admin/users).
const (
	DefaultAuditPage = 100
	MaxAuditPage     = 500
	// DefaultAuditRetention is --audit-retention's default.
	DefaultAuditRetention = 2160 * time.Hour
)

// auditEventNames are the events a query may filter for.
var auditEventNames = []string{
	EventSignup, EventLoginSucceeded, EventLoginFailed, EventMFAEnabled, EventMFADisabled,
	EventRecoveryCodeUsed, EventPasskeyAdded, EventPasskeyRemoved, EventLogout, EventLogoutAll,
	EventPasswordChanged, EventPasswordReset, EventEmailVerified, EventAccountDeleted,
	EventUserDisabled, EventUserEnabled, EventClientCreated, EventClientDeleted,
	EventClientSecretRotated, EventDomainChanged, EventKeyRotated, EventRefreshReuse, EventRateLimited,
}

// AuditEntry is one event as `audit list --json` and GET /admin/audit
// show it.
type AuditEntry struct {
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	UserID    string    `json:"user_id"`
	ClientID  string    `json:"client_id"`
	Domain    string    `json:"domain"`
	Actor     string    `json:"actor"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
	Detail    string    `json:"detail"`
}

// AuditQuery is a query of the audit trail. User is a user id or an email
// address; Domain is normalized; Event must be a known event name; Cursor
// is a NextCursor of an earlier page ("" for the first); Limit 0 means
// DefaultAuditPage.
type AuditQuery struct {
	User   string
	Domain string
	Event  string
	Since  time.Time
	Cursor string
	Limit  int
}

// AuditPage is one page of events, newest first. NextCursor is "" on the
// last page.
type AuditPage struct {
	Events     []AuditEntry `json:"events"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// AuditLogDeps are what AuditLog is built from. Store is required; Users
// resolves an email given as the user of a query (nil: ids only).
type AuditLogDeps struct {
	Store storage.AuditStore
	Users storage.UserStore
	Now   func() time.Time // nil means time.Now
	Log   *slog.Logger     // nil discards
}

// AuditLog owns reading and pruning the audit trail, for the admin API,
// the CLI and the account page alike. Safe for concurrent use.
type AuditLog struct {
	store storage.AuditStore
	users storage.UserStore
	now   func() time.Time
	log   *slog.Logger
}

// NewAuditLog returns the audit query service. Returns an error without a
// store.
func NewAuditLog(d AuditLogDeps) (*AuditLog, error) {
	if d.Store == nil {
		return nil, errors.New("provider: audit log needs a store")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &AuditLog{store: d.Store, users: d.Users, now: d.Now, log: d.Log}, nil
}

// List returns one page of the events q selects, of every domain.
// Returns an error wrapping ErrInvalidInput for a bad limit, cursor,
// event, domain or an unknown email, or one wrapping
// storage.ErrUnavailable.
func (l *AuditLog) List(ctx context.Context, q AuditQuery) (AuditPage, error) {
	return l.ListFor(ctx, q, "")
}

// ListFor is List for a caller confined to the events of domain
// allowedDomain ("" = every domain): the one place a domain admin's view
// is narrowed (SPEC §13). A query naming another domain is ErrForbidden.
func (l *AuditLog) ListFor(ctx context.Context, q AuditQuery, allowedDomain string) (AuditPage, error) {
	f, err := l.filter(ctx, q)
	if err != nil {
		return AuditPage{}, err
	}
	if allowedDomain != "" {
		if f.Domain != "" && f.Domain != allowedDomain {
			return AuditPage{}, ErrForbidden
		}
		f.Domain = allowedDomain
	}
	limit := f.Limit
	f.Limit = limit + 1 // one more tells whether a next page exists
	rows, err := l.store.ListAuditEvents(ctx, f)
	if err != nil {
		return AuditPage{}, fmt.Errorf("provider: list audit events: %w", err)
	}
	page := AuditPage{Events: make([]AuditEntry, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			last := rows[i-1]
			page.NextCursor = encodeAuditCursor(storage.AuditCursor{Time: last.Time, ID: last.ID})
			break
		}
		page.Events = append(page.Events, toAuditEntry(r))
	}
	return page, nil
}

// Recent returns the user's last n events, newest first (the account
// page's "Recent activity").
func (l *AuditLog) Recent(ctx context.Context, userID string, n int) ([]AuditEntry, error) {
	if userID == "" {
		return nil, nil
	}
	rows, err := l.store.ListAuditEvents(ctx, storage.AuditFilter{UserID: userID, Limit: n})
	if err != nil {
		return nil, fmt.Errorf("provider: recent audit events: %w", err)
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = toAuditEntry(r)
	}
	return out, nil
}

// filter validates q and turns it into a store filter.
func (l *AuditLog) filter(ctx context.Context, q AuditQuery) (storage.AuditFilter, error) {
	f := storage.AuditFilter{Event: q.Event, Since: q.Since, Limit: q.Limit}
	switch {
	case q.Limit == 0:
		f.Limit = DefaultAuditPage
	case q.Limit < 0 || q.Limit > MaxAuditPage:
		return f, InvalidInput(fmt.Sprintf("limit must be between 1 and %d", MaxAuditPage))
	}
	if q.Event != "" && !slices.Contains(auditEventNames, q.Event) {
		return f, InvalidInput(fmt.Sprintf("Unknown event %q", q.Event))
	}
	if q.Domain != "" {
		d, err := NormalizeDomain(q.Domain)
		if err != nil {
			return f, err
		}
		f.Domain = d
	}
	if q.Cursor != "" {
		c, ok := decodeAuditCursor(q.Cursor)
		if !ok {
			return f, InvalidInput("Invalid cursor")
		}
		f.Cursor = c
	}
	uid, err := l.userID(ctx, q.User)
	if err != nil {
		return f, err
	}
	f.UserID = uid
	return f, nil
}

// userID resolves a query's user: an email address is looked up, anything
// else is taken as an id (a deleted user's events stay findable by id).
func (l *AuditLog) userID(ctx context.Context, user string) (string, error) {
	user = strings.TrimSpace(user)
	if !strings.Contains(user, "@") {
		return user, nil
	}
	e, err := ParseEmail(user)
	if err != nil {
		return "", err
	}
	if l.users == nil {
		return "", InvalidInput("Give the user's id")
	}
	u, err := l.users.UserByEmail(ctx, e.Canonical)
	if isNotFound(err) {
		return "", InvalidInput("No user with this email")
	}
	if err != nil {
		return "", fmt.Errorf("provider: audit: load user: %w", err)
	}
	return u.ID, nil
}

// Prune deletes the events older than retention.
func (l *AuditLog) Prune(ctx context.Context, retention time.Duration) (int64, error) {
	n, err := l.store.PruneAuditEvents(ctx, l.now().Add(-retention))
	if err != nil {
		return n, fmt.Errorf("provider: prune audit events: %w", err)
	}
	return n, nil
}

// RunPruner prunes at start and then every interval until ctx ends.
// Every node may run it: a prune deletes only what is due, so two nodes
// pruning at once just find less to do. Failures are logged.
func (l *AuditLog) RunPruner(ctx context.Context, retention, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := l.Prune(ctx, retention)
		switch {
		case err != nil && ctx.Err() == nil:
			l.log.Warn("audit prune failed", "err", err)
		case n > 0:
			l.log.Info("audit events pruned", "events", n, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ParseSince reads a --since or since= value: an RFC 3339 time, or a
// duration (24h) counted back from now.
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, InvalidInput("since must be an RFC 3339 time or a duration such as 24h")
}

func toAuditEntry(r storage.AuditEvent) AuditEntry {
	return AuditEntry{
		Time: r.Time.UTC(), Event: r.Event, UserID: r.UserID, ClientID: r.ClientID, Domain: r.Domain,
		Actor: r.Actor, IP: r.IP, UserAgent: r.UserAgent, Detail: r.Detail,
	}
}

// encodeAuditCursor makes the opaque next_cursor: the last event's time
// (Unix microseconds) and id.
func encodeAuditCursor(c storage.AuditCursor) string {
	raw := strconv.FormatInt(c.Time.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeAuditCursor(s string) (storage.AuditCursor, bool) {
	if len(s) > 64 {
		return storage.AuditCursor{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return storage.AuditCursor{}, false
	}
	us, id, ok := strings.Cut(string(raw), ".")
	if !ok {
		return storage.AuditCursor{}, false
	}
	t, err1 := strconv.ParseInt(us, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 {
		return storage.AuditCursor{}, false
	}
	return storage.AuditCursor{Time: time.UnixMicro(t).UTC(), ID: n}, true
}

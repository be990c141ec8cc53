package sqlstore

import (
	"context"
	"fmt"
	"time"

	"user-registry/storage"
)

var _ storage.AuditStore = (*Store)(nil)

// auditRow is an audit_events row. The id is the database's
// auto-increment: appends from many nodes need no coordination, and it
// breaks ties between events of the same microsecond in the list order.
// Each filter of the admin API has an index led by its column and
// followed by time, so a filtered page is an index range scan; InnoDB and
// SQLite both keep the primary key in every secondary index, which covers
// the id tie-breaker.
type auditRow struct {
	ID        int64     `gorm:"primaryKey;autoIncrement"`
	Time      time.Time `gorm:"column:time;not null;precision:6;index:ix_audit_time;index:ix_audit_user_time,priority:2;index:ix_audit_domain_time,priority:2;index:ix_audit_event_time,priority:2"`
	Event     string    `gorm:"size:40;not null;index:ix_audit_event_time,priority:1"`
	UserID    string    `gorm:"size:36;not null;index:ix_audit_user_time,priority:1"`
	ClientID  string    `gorm:"size:191;not null"`
	Domain    string    `gorm:"size:253;not null;index:ix_audit_domain_time,priority:1"`
	Actor     string    `gorm:"size:200;not null"`
	IP        string    `gorm:"column:ip;size:45;not null"`
	UserAgent string    `gorm:"size:255;not null"`
	Detail    string    `gorm:"size:255;not null"`
}

func (auditRow) TableName() string { return "audit_events" }

// pruneBatch bounds one DELETE of PruneAuditEvents, so pruning a large
// backlog never holds locks on the table for long.
const pruneBatch = 5000

// AppendAuditEvents inserts events in one multi-row statement.
func (s *Store) AppendAuditEvents(ctx context.Context, events []storage.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	rows := make([]auditRow, len(events))
	for i, e := range events {
		rows[i] = auditRow{
			Time: s.stamp(e.Time), Event: e.Event, UserID: e.UserID, ClientID: e.ClientID, Domain: e.Domain,
			Actor: e.Actor, IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail,
		}
	}
	// 500 rows × 10 columns stays below every driver's placeholder limit.
	if err := s.db.WithContext(ctx).CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("sqlstore: append audit events: %w", classify(err))
	}
	return nil
}

// ListAuditEvents returns a keyset page of events, newest first.
func (s *Store) ListAuditEvents(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := s.db.WithContext(ctx).Model(&auditRow{})
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.Domain != "" {
		q = q.Where("domain = ?", f.Domain)
	}
	if f.Event != "" {
		q = q.Where("event = ?", f.Event)
	}
	if !f.Since.IsZero() {
		q = q.Where("time >= ?", f.Since.UTC())
	}
	if !f.Cursor.IsZero() {
		at := f.Cursor.Time.UTC()
		q = q.Where("(time < ? OR (time = ? AND id < ?))", at, at, f.Cursor.ID)
	}
	var rows []auditRow
	if err := q.Order("time DESC").Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list audit events: %w", classify(err))
	}
	out := make([]storage.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = storage.AuditEvent{
			ID: r.ID, Time: r.Time.UTC(), Event: r.Event, UserID: r.UserID, ClientID: r.ClientID,
			Domain: r.Domain, Actor: r.Actor, IP: r.IP, UserAgent: r.UserAgent, Detail: r.Detail,
		}
	}
	return out, nil
}

// PruneAuditEvents deletes events older than before, in bounded batches.
func (s *Store) PruneAuditEvents(ctx context.Context, before time.Time) (int64, error) {
	// MySQL takes ORDER BY/LIMIT on DELETE but no LIMIT in an IN
	// subquery; SQLite (as built) the other way round.
	stmt := "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE time < ? LIMIT ?)"
	if s.isMySQL {
		stmt = "DELETE FROM audit_events WHERE time < ? ORDER BY time LIMIT ?"
	}
	at := before.UTC()
	var total int64
	for {
		res := s.db.WithContext(ctx).Exec(stmt, at, pruneBatch)
		if res.Error != nil {
			return total, fmt.Errorf("sqlstore: prune audit events: %w", classify(res.Error))
		}
		total += res.RowsAffected
		if res.RowsAffected < pruneBatch {
			return total, nil
		}
	}
}

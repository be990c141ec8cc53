package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"user-registry/storage"
)

// importBatch is how many records one statement of ImportDomains carries:
// 1,000 rows of 3 columns stay far below MySQL's 65,535 placeholders and
// SQLite's 32,766 variables, and make 150,000 records 150 round trips.
const importBatch = 1000

var errEmptyDomain = errors.New("empty domain")

// ImportDomains creates or replaces every record of recs in ONE
// transaction (SEC-72: a failure midway, a lost connection included, rolls
// every batch back). Each batch of importBatch records costs two
// statements: a SELECT on the primary key to learn which records exist and
// with which policy, then one multi-row INSERT ... ON DUPLICATE KEY UPDATE
// (MySQL) / ON CONFLICT DO UPDATE (SQLite) of the new and changed ones, so
// re-importing a list writes nothing. An empty domain fails the import.
func (s *Store) ImportDomains(ctx context.Context, recs []storage.DomainRecord) (storage.DomainImport, error) {
	var total storage.DomainImport
	if len(recs) == 0 {
		return total, nil
	}
	now := s.stamp(time.Time{})
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		total = storage.DomainImport{}
		for start := 0; start < len(recs); start += importBatch {
			n, err := s.importBatch(tx, recs[start:min(start+importBatch, len(recs))], now)
			if err != nil {
				return err
			}
			total.Inserted += n.Inserted
			total.Updated += n.Updated
			total.Unchanged += n.Unchanged
		}
		return nil
	})
	if err != nil {
		return storage.DomainImport{}, fmt.Errorf("sqlstore: import domains: %w", classify(err))
	}
	return total, nil
}

// importBatch writes one batch inside tx. Within a batch the last record
// of a domain is the one written.
func (s *Store) importBatch(tx *gorm.DB, batch []storage.DomainRecord, now time.Time) (storage.DomainImport, error) {
	var n storage.DomainImport
	names := make([]string, len(batch))
	for i, r := range batch {
		if r.Domain == "" {
			return n, errEmptyDomain
		}
		names[i] = r.Domain
	}
	var existing []domainRow
	if err := tx.Select("domain", "belongs_to").Where("domain IN ?", names).Find(&existing).Error; err != nil {
		return n, err
	}
	have := make(map[string]int, len(existing))
	for _, e := range existing {
		have[e.Domain] = e.BelongsTo
	}
	rows := make([]domainRow, 0, len(batch))
	at := make(map[string]int, len(batch)) // domain → index in rows
	for _, r := range batch {
		old, ok := have[r.Domain]
		switch {
		case !ok:
			n.Inserted++
		case old != r.BelongsTo:
			n.Updated++
		default:
			n.Unchanged++
			continue
		}
		row := domainRow{Domain: r.Domain, BelongsTo: r.BelongsTo, UpdatedAt: now}
		if !r.UpdatedAt.IsZero() {
			row.UpdatedAt = s.stamp(r.UpdatedAt)
		}
		if i, dup := at[r.Domain]; dup {
			rows[i] = row
			continue
		}
		at[r.Domain] = len(rows)
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return n, nil
	}
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "domain"}},
		DoUpdates: clause.AssignmentColumns([]string{"belongs_to", "updated_at"}),
	}).Create(&rows).Error
	return n, err
}

package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm/clause"

	"user-registry/storage"
)

// PutDomain creates or replaces the record for r.Domain in one statement
// (INSERT ... ON DUPLICATE KEY UPDATE / ON CONFLICT DO UPDATE), so
// concurrent puts never fail with ErrExists. A zero UpdatedAt becomes now.
func (s *Store) PutDomain(ctx context.Context, r storage.DomainRecord) error {
	if r.Domain == "" {
		return fmt.Errorf("sqlstore: put domain: empty domain")
	}
	row := domainRow{Domain: r.Domain, BelongsTo: r.BelongsTo, RequireMFA: r.RequireMFA, UpdatedAt: s.stamp(r.UpdatedAt)}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "domain"}},
		DoUpdates: clause.AssignmentColumns([]string{"belongs_to", "require_mfa", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("sqlstore: put domain: %w", classify(err))
	}
	return nil
}

// DeleteDomain returns storage.ErrNotFound when there is no record.
func (s *Store) DeleteDomain(ctx context.Context, domain string) error {
	return s.deleteWhere(ctx, "domain", &domainRow{}, "domain = ?", domain)
}

// ListDomains returns every record, ordered by domain.
func (s *Store) ListDomains(ctx context.Context) ([]storage.DomainRecord, error) {
	var rows []domainRow
	if err := s.db.WithContext(ctx).Order("domain").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list domains: %w", classify(err))
	}
	return toDomains(rows), nil
}

// LookupDomains returns the records of those names that have one, in one
// query on the primary key (WHERE domain IN (...)).
func (s *Store) LookupDomains(ctx context.Context, names []string) ([]storage.DomainRecord, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var rows []domainRow
	if err := s.db.WithContext(ctx).Where("domain IN ?", names).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: lookup domains: %w", classify(err))
	}
	return toDomains(rows), nil
}

// ListDomainsPage returns at most limit records after after whose domain
// contains q, ordered by domain. Keyset paging (domain > ? ORDER BY domain
// LIMIT n) walks the primary key from the cursor, never skipping rows with
// OFFSET. The substring filter is a LIKE with its wildcards escaped.
func (s *Store) ListDomainsPage(ctx context.Context, q, after string, limit int) ([]storage.DomainRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	db := s.db.WithContext(ctx)
	if after != "" {
		db = db.Where("domain > ?", after)
	}
	if q != "" {
		// '!' as the escape character: a backslash means different
		// things in MySQL and SQLite string literals.
		db = db.Where("domain LIKE ? ESCAPE '!'", "%"+escapeLike(q)+"%")
	}
	var rows []domainRow
	if err := db.Order("domain").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list domains page: %w", classify(err))
	}
	return toDomains(rows), nil
}

// escapeLike makes s match itself literally inside a LIKE pattern whose
// escape character is '!'.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

func toDomains(rows []domainRow) []storage.DomainRecord {
	out := make([]storage.DomainRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, toDomain(r))
	}
	return out
}

package sqlstore

import (
	"context"
	"fmt"

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
	row := domainRow{Domain: r.Domain, BelongsTo: r.BelongsTo, UpdatedAt: s.stamp(r.UpdatedAt)}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "domain"}},
		DoUpdates: clause.AssignmentColumns([]string{"belongs_to", "updated_at"}),
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
	out := make([]storage.DomainRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, toDomain(r))
	}
	return out, nil
}

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"user-registry/storage"
)

var _ storage.FederationStore = (*Store)(nil)

// trustRow is a workload-identity trust (SPEC §11). Scopes is a JSON array,
// like the list columns of clients.
type trustRow struct {
	ID        string    `gorm:"primaryKey;size:191"`
	Domain    string    `gorm:"size:253;not null"`
	Issuer    string    `gorm:"size:2048;not null"`
	Subject   string    `gorm:"size:1024;not null"`
	Audience  string    `gorm:"size:512;not null"`
	Scopes    string    `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null;precision:6;autoCreateTime:false"`
}

func (trustRow) TableName() string { return "federation_trusts" }

// CreateTrust inserts t. Returns storage.ErrExists when t.ID is taken. A
// zero CreatedAt is set to now and written back to t.
func (s *Store) CreateTrust(ctx context.Context, t *storage.Trust) error {
	if t.ID == "" {
		return fmt.Errorf("sqlstore: create trust: empty id")
	}
	t.CreatedAt = s.stamp(t.CreatedAt)
	scopes, err := encodeList(t.Scopes)
	if err != nil {
		return fmt.Errorf("sqlstore: create trust: %w", err)
	}
	row := trustRow{ID: t.ID, Domain: t.Domain, Issuer: t.Issuer, Subject: t.Subject, Audience: t.Audience,
		Scopes: scopes, CreatedAt: t.CreatedAt}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("sqlstore: create trust: %w", classify(err))
	}
	return nil
}

// ListTrusts returns every trust, ordered by creation time then id.
func (s *Store) ListTrusts(ctx context.Context) ([]storage.Trust, error) {
	var rows []trustRow
	if err := s.db.WithContext(ctx).Order("created_at").Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list trusts: %w", classify(err))
	}
	out := make([]storage.Trust, 0, len(rows))
	for _, r := range rows {
		scopes, err := decodeList(r.Scopes)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: trust %q: %w", r.ID, err)
		}
		out = append(out, storage.Trust{ID: r.ID, Domain: r.Domain, Issuer: r.Issuer, Subject: r.Subject,
			Audience: r.Audience, Scopes: scopes, CreatedAt: r.CreatedAt.UTC()})
	}
	return out, nil
}

// DeleteTrust returns storage.ErrNotFound for an unknown id.
func (s *Store) DeleteTrust(ctx context.Context, id string) error {
	return s.deleteWhere(ctx, "trust", &trustRow{}, "id = ?", id)
}

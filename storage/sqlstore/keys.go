package sqlstore

import (
	"context"
	"fmt"
	"time"

	"user-registry/storage"
)

// CreateKey inserts k. Returns storage.ErrExists when k.Generation or k.KID
// is taken: the unique indexes decide, so of two nodes rotating at once
// exactly one wins. A zero CreatedAt is set to now and written back to k.
func (s *Store) CreateKey(ctx context.Context, k *storage.SigningKey) error {
	if k.KID == "" {
		return fmt.Errorf("sqlstore: create key: empty kid")
	}
	k.CreatedAt = s.stamp(k.CreatedAt)
	row := keyRow{
		KID:        k.KID,
		Generation: k.Generation,
		Alg:        k.Alg,
		Private:    k.Private,
		Public:     string(k.Public),
		CreatedAt:  k.CreatedAt,
		Emergency:  k.Emergency,
	}
	if !k.ActivateAt.IsZero() {
		at := k.ActivateAt.UTC().Truncate(time.Microsecond)
		row.ActivateAt = &at
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("sqlstore: create key: %w", classify(err))
	}
	return nil
}

// ListKeys returns all keys ordered by Generation ascending.
func (s *Store) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Order("generation").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list keys: %w", classify(err))
	}
	out := make([]storage.SigningKey, 0, len(rows))
	for _, r := range rows {
		out = append(out, toKey(r))
	}
	return out, nil
}

// DeleteKey removes a key no longer published. Returns storage.ErrNotFound.
func (s *Store) DeleteKey(ctx context.Context, kid string) error {
	return s.deleteWhere(ctx, "key", &keyRow{}, "kid = ?", kid)
}

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"user-registry/storage"
)

// CreateClient inserts c. Returns storage.ErrExists when c.ID is taken. A
// zero CreatedAt is set to now and written back to c.
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	if c.ID == "" {
		return fmt.Errorf("sqlstore: create client: empty id")
	}
	c.CreatedAt = s.stamp(c.CreatedAt)
	row := clientRow{
		ID:         c.ID,
		SecretHash: c.SecretHash,
		Domain:     c.Domain,
		Name:       c.Name,
		Public:     c.Public,
		Admin:      c.Admin,
		Trusted:    c.Trusted,
		CreatedBy:  c.CreatedBy,
		CreatedAt:  c.CreatedAt,
		JWKS:       c.JWKS,
		JWKSURI:    c.JWKSURI,
		DPoP:       c.DPoP,
		RequirePAR: c.RequirePAR,

		BackchannelLogoutURI: c.BackchannelLogoutURI,

		PrevSecretHash:      c.PrevSecretHash,
		PrevSecretExpiresAt: toNullTime(c.PrevSecretExpiresAt),
	}
	for _, f := range []struct {
		dst *string
		src []string
	}{
		{&row.GrantTypes, c.GrantTypes},
		{&row.Scopes, c.Scopes},
		{&row.RedirectURIs, c.RedirectURIs},
		{&row.Audiences, c.Audiences},
		{&row.PostLogoutRedirectURIs, c.PostLogoutRedirectURIs},
	} {
		v, err := encodeList(f.src)
		if err != nil {
			return fmt.Errorf("sqlstore: create client: %w", err)
		}
		*f.dst = v
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("sqlstore: create client: %w", classify(err))
	}
	return nil
}

// Client returns storage.ErrNotFound for an unknown id.
func (s *Store) Client(ctx context.Context, id string) (storage.Client, error) {
	if id == "" {
		return storage.Client{}, storage.ErrNotFound
	}
	var row clientRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return storage.Client{}, fmt.Errorf("sqlstore: get client: %w", classify(err))
	}
	return toClient(row)
}

// ListClients returns the clients of domain ("" = all), ordered by creation
// time then id.
func (s *Store) ListClients(ctx context.Context, domain string) ([]storage.Client, error) {
	q := s.db.WithContext(ctx)
	if domain != "" {
		q = q.Where("domain = ?", domain)
	}
	return s.listClients(q)
}

// ListClientsByCreator returns the clients userID registered, ordered like
// ListClients; none for an empty userID.
func (s *Store) ListClientsByCreator(ctx context.Context, userID string) ([]storage.Client, error) {
	if userID == "" {
		return []storage.Client{}, nil
	}
	return s.listClients(s.db.WithContext(ctx).Where("created_by = ?", userID))
}

// listClients runs the query q over the clients table, in list order.
func (s *Store) listClients(q *gorm.DB) ([]storage.Client, error) {
	var rows []clientRow
	if err := q.Order("created_at").Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list clients: %w", classify(err))
	}
	out := make([]storage.Client, 0, len(rows))
	for _, r := range rows {
		c, err := toClient(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// DeleteClient returns storage.ErrNotFound for an unknown id.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.deleteWhere(ctx, "client", &clientRow{}, "id = ?", id)
}

// RotateClientSecret makes hash the secret hash of client id and moves the
// replaced one to prev_secret_hash until prevExpiresAt, in one UPDATE: the
// previous hash is the one stored at that instant, whatever a concurrent
// rotation did before. prev_secret_hash is assigned first because MySQL
// evaluates single-table assignments left to right (SQLite reads the old
// row for all of them). Returns storage.ErrNotFound for an unknown id.
func (s *Store) RotateClientSecret(ctx context.Context, id string, hash []byte, prevExpiresAt time.Time) error {
	res := s.db.WithContext(ctx).Exec(
		"UPDATE clients SET prev_secret_hash = secret_hash, prev_secret_expires_at = ?, secret_hash = ? WHERE id = ?",
		toNullTime(prevExpiresAt), hash, id)
	if res.Error != nil {
		return fmt.Errorf("sqlstore: rotate client secret: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return storage.ErrNotFound
	}
	return nil
}

package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"user-registry/storage"
)

// likeEscaper makes a query string match only itself inside a LIKE
// pattern: '!' is the escape character (declared with ESCAPE, since SQLite
// has no default and MySQL's backslash default would differ).
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// ListUsers returns at most f.Limit users matching f, newest first, after
// f.Cursor, by keyset: the cursor is a WHERE on (created_at, id), never an
// OFFSET, so a late page costs what the first does (ix_users_created, or
// ix_users_domain_created with a domain). A Query is a substring match,
// which no index serves; the keyset order still bounds each page.
func (s *Store) ListUsers(ctx context.Context, f storage.UserFilter) ([]storage.User, error) {
	if f.Limit <= 0 {
		return []storage.User{}, nil
	}
	q := s.db.WithContext(ctx).Model(&userRow{})
	if f.Domain != "" {
		q = q.Where("domain = ?", f.Domain)
	}
	if f.Query != "" {
		q = q.Where("email_canonical LIKE ? ESCAPE '!'", "%"+likeEscaper.Replace(strings.ToLower(f.Query))+"%")
	}
	if !f.Cursor.IsZero() {
		at := f.Cursor.CreatedAt.UTC()
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", at, at, f.Cursor.ID)
	}
	var rows []userRow
	if err := q.Order("created_at DESC").Order("id DESC").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", classify(err))
	}
	out := make([]storage.User, len(rows))
	for i, r := range rows {
		out[i] = toUser(r)
	}
	return out, nil
}

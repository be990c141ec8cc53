package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"user-registry/storage"
)

// CreateUser inserts u. Returns storage.ErrExists when u.EmailCanonical (or
// u.ID) is taken; the unique index decides, so of concurrent creates of one
// email exactly one succeeds. Zero CreatedAt/UpdatedAt are set to now and
// written back to u.
func (s *Store) CreateUser(ctx context.Context, u *storage.User) error {
	u.CreatedAt = s.stamp(u.CreatedAt)
	u.UpdatedAt = s.stamp(u.UpdatedAt)
	row := userRow{
		ID:             u.ID,
		Email:          u.Email,
		EmailCanonical: u.EmailCanonical,
		Domain:         u.Domain,
		PasswordHash:   u.PasswordHash,
		PhoneNum:       u.PhoneNum,
		Discoverable:   u.Discoverable,
		IsActivated:    u.IsActivated,
		Disabled:       u.Disabled,
		CreatedAt:      u.CreatedAt,
		UpdatedAt:      u.UpdatedAt,
	}
	if u.LastLoginAt != nil {
		t := s.stamp(*u.LastLoginAt)
		row.LastLoginAt = &t
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("sqlstore: create user: %w", classify(err))
	}
	return nil
}

// UserByID returns storage.ErrNotFound for an unknown id.
func (s *Store) UserByID(ctx context.Context, id string) (storage.User, error) {
	return s.userWhere(ctx, "id = ?", id)
}

// UserByEmail looks a user up by canonical email. Returns
// storage.ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, canonical string) (storage.User, error) {
	return s.userWhere(ctx, "email_canonical = ?", canonical)
}

func (s *Store) userWhere(ctx context.Context, cond, value string) (storage.User, error) {
	if value == "" {
		return storage.User{}, storage.ErrNotFound
	}
	var row userRow
	if err := s.db.WithContext(ctx).Where(cond, value).Take(&row).Error; err != nil {
		return storage.User{}, fmt.Errorf("sqlstore: get user: %w", classify(err))
	}
	return toUser(row), nil
}

// UpdateUser writes the columns c names, and updated_at (zero: now), in one
// UPDATE of the row with id; with c.IfPasswordHash the statement also
// requires that hash, so check and write are one atomic step in the
// database. Returns storage.ErrNotFound or storage.ErrConflict.
func (s *Store) UpdateUser(ctx context.Context, id string, c storage.UserChange) error {
	if id == "" {
		return storage.ErrNotFound
	}
	// A map (not a struct) so false and "" are written too.
	cols := map[string]any{}
	if !storage.OnlyLastLogin(c) {
		cols["updated_at"] = s.stamp(c.UpdatedAt)
	}
	if c.PasswordHash != nil {
		cols["password_hash"] = *c.PasswordHash
	}
	if c.PhoneNum != nil {
		cols["phone_num"] = *c.PhoneNum
	}
	if c.Discoverable != nil {
		cols["discoverable"] = *c.Discoverable
	}
	if c.IsActivated != nil {
		cols["is_activated"] = *c.IsActivated
	}
	if c.Disabled != nil {
		cols["disabled"] = *c.Disabled
	}
	if c.LastLoginAt != nil {
		cols["last_login_at"] = s.stamp(*c.LastLoginAt)
	}
	q := s.db.WithContext(ctx).Model(&userRow{}).Where("id = ?", id)
	if c.IfPasswordHash != nil {
		q = q.Where("password_hash = ?", *c.IfPasswordHash)
	}
	// RowsAffected counts matched rows, on MySQL too (ClientFoundRows in
	// the DSN), so a write of unchanged values is not mistaken for a miss.
	res := q.Updates(cols)
	if res.Error != nil {
		return fmt.Errorf("sqlstore: update user: %w", classify(res.Error))
	}
	if res.RowsAffected > 0 {
		return nil
	}
	if c.IfPasswordHash == nil {
		return storage.ErrNotFound
	}
	// Nothing matched: an unknown id, or a hash changed meanwhile. User
	// ids are never reused, so looking again tells the two apart.
	var n int64
	if err := s.db.WithContext(ctx).Model(&userRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return fmt.Errorf("sqlstore: update user: %w", classify(err))
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return storage.ErrConflict
}

// DeleteUser removes the user. Returns storage.ErrNotFound.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if err := s.deleteWhere(ctx, "user", &userRow{}, "id = ?", id); err != nil {
		return err
	}
	// The user's second factors go with them. Left behind (a failure
	// here), they name an id no new user ever gets (a fresh UUID).
	if err := s.DeleteRecoveryCodes(ctx, id); err != nil {
		return err
	}
	if err := s.DeletePasskeys(ctx, id); err != nil {
		return err
	}
	if err := s.DeleteTOTP(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}

// deleteWhere deletes the rows of model matching cond (one bound value) and
// names what in its errors. Returns storage.ErrNotFound for an empty value
// or when no row matched.
func (s *Store) deleteWhere(ctx context.Context, what string, model any, cond, value string) error {
	if value == "" {
		return storage.ErrNotFound
	}
	res := s.db.WithContext(ctx).Where(cond, value).Delete(model)
	if res.Error != nil {
		return fmt.Errorf("sqlstore: delete %s: %w", what, classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return storage.ErrNotFound
	}
	return nil
}

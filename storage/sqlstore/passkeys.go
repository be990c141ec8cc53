package sqlstore

import (
	"context"
	"fmt"
	"time"

	"user-registry/storage"
)

var _ storage.PasskeyStore = (*Store)(nil)

// passkeyRow is a WebAuthn credential (SPEC §10).
//
// CredentialID is VARBINARY(1023) on MySQL (BLOB on SQLite): WebAuthn
// allows credential ids up to 1023 bytes, and a shorter column would
// refuse, or worse truncate, a legitimate authenticator. A binary type
// compares every byte, with no padding, trimming or case folding, so the
// unique index means "the same id" exactly. 1023 bytes is below InnoDB's
// 3072-byte index key limit (DYNAMIC rows, the default since MySQL 5.7 and
// MariaDB 10.2), so the index needs no prefix, which would make it unique
// on a prefix only.
//
// The serialized Credential is a BLOB without a size: LONGBLOB on MySQL.
// SignCount is INT UNSIGNED on MySQL, so the whole uint32 range fits.
type passkeyRow struct {
	ID             string     `gorm:"primaryKey;size:128"`
	UserID         string     `gorm:"size:36;not null;index:ix_passkeys_user_created,priority:1"`
	CredentialID   []byte     `gorm:"size:1023;not null;uniqueIndex:ux_passkeys_credential_id"`
	Name           string     `gorm:"size:255;not null"`
	Credential     []byte     `gorm:"not null"`
	SignCount      uint32     `gorm:"not null"`
	BackupEligible bool       `gorm:"not null"`
	BackupState    bool       `gorm:"not null"`
	CreatedAt      time.Time  `gorm:"not null;precision:6;autoCreateTime:false;index:ix_passkeys_user_created,priority:2"`
	LastUsedAt     *time.Time `gorm:"precision:6"` // NULL until the first sign-in
}

func (passkeyRow) TableName() string { return "passkeys" }

func toPasskey(r passkeyRow) storage.Passkey {
	return storage.Passkey{
		ID:             r.ID,
		UserID:         r.UserID,
		CredentialID:   r.CredentialID,
		Name:           r.Name,
		Credential:     r.Credential,
		SignCount:      r.SignCount,
		BackupEligible: r.BackupEligible,
		BackupState:    r.BackupState,
		CreatedAt:      r.CreatedAt.UTC(),
		LastUsedAt:     utcPtr(r.LastUsedAt),
	}
}

// CreatePasskey inserts p; the unique index on the credential id decides
// between concurrent registrations of one authenticator.
func (s *Store) CreatePasskey(ctx context.Context, p storage.Passkey) error {
	if p.ID == "" || p.UserID == "" || len(p.CredentialID) == 0 {
		return fmt.Errorf("sqlstore: create passkey: empty id, user id or credential id")
	}
	row := passkeyRow{
		ID:             p.ID,
		UserID:         p.UserID,
		CredentialID:   p.CredentialID,
		Name:           p.Name,
		Credential:     p.Credential,
		SignCount:      p.SignCount,
		BackupEligible: p.BackupEligible,
		BackupState:    p.BackupState,
		CreatedAt:      s.stamp(p.CreatedAt),
	}
	if row.Credential == nil {
		row.Credential = []byte{} // NOT NULL; nil would bind as NULL
	}
	if p.LastUsedAt != nil {
		t := s.stamp(*p.LastUsedAt)
		row.LastUsedAt = &t
	}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("sqlstore: create passkey: %w", classify(err))
	}
	return nil
}

// Passkeys lists the user's passkeys, oldest first.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]storage.Passkey, error) {
	var rows []passkeyRow
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list passkeys: %w", classify(err))
	}
	out := make([]storage.Passkey, len(rows))
	for i, r := range rows {
		out[i] = toPasskey(r)
	}
	return out, nil
}

// PasskeyByCredentialID finds a passkey by the authenticator's id.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (storage.Passkey, error) {
	if len(credentialID) == 0 {
		return storage.Passkey{}, storage.ErrNotFound
	}
	var row passkeyRow
	if err := s.db.WithContext(ctx).Where("credential_id = ?", credentialID).Take(&row).Error; err != nil {
		return storage.Passkey{}, fmt.Errorf("sqlstore: get passkey: %w", classify(err))
	}
	return toPasskey(row), nil
}

// CountPasskeys counts the user's passkeys.
func (s *Store) CountPasskeys(ctx context.Context, userID string) (int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&passkeyRow{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("sqlstore: count passkeys: %w", classify(err))
	}
	return int(n), nil
}

// UsePasskey is one conditional UPDATE, so the database serialises
// concurrent sign-ins and one reported count wins once on every node. The
// DSN sets ClientFoundRows on MySQL: a matched row counts as affected even
// when no value changes (a repeated zero count at the same instant).
func (s *Store) UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error {
	db := s.db.WithContext(ctx)
	res := db.Model(&passkeyRow{}).
		Where("id = ? AND (sign_count < ? OR (? = 0 AND sign_count = 0))", id, signCount, signCount).
		Updates(map[string]any{"sign_count": signCount, "backup_state": backupState, "last_used_at": s.stamp(at)})
	if res.Error != nil {
		return fmt.Errorf("sqlstore: use passkey: %w", classify(res.Error))
	}
	if res.RowsAffected == 1 {
		return nil
	}
	// Nothing matched: an unknown id or a count not above the stored one.
	var n int64
	if err := db.Model(&passkeyRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return fmt.Errorf("sqlstore: use passkey: %w", classify(err))
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return storage.ErrConflict
}

// DeletePasskey removes the user's passkey id; the user id in the WHERE
// keeps one user from deleting another's.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	if userID == "" || id == "" {
		return storage.ErrNotFound
	}
	res := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&passkeyRow{})
	if res.Error != nil {
		return fmt.Errorf("sqlstore: delete passkey: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// DeletePasskeys removes every passkey of the user.
func (s *Store) DeletePasskeys(ctx context.Context, userID string) error {
	if userID == "" {
		return nil
	}
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&passkeyRow{}).Error; err != nil {
		return fmt.Errorf("sqlstore: delete passkeys: %w", classify(err))
	}
	return nil
}

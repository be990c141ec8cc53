package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"user-registry/storage"
)

var _ storage.MFAStore = (*Store)(nil)

// totpRow is a user's TOTP factor: one row per user (the primary key), so
// a second enrolment cannot race the first into two factors.
type totpRow struct {
	UserID    string    `gorm:"primaryKey;size:36"`
	Secret    []byte    `gorm:"not null"`
	Confirmed bool      `gorm:"not null"`
	LastStep  int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null;precision:6;autoCreateTime:false"`
}

func (totpRow) TableName() string { return "mfa_totp" }

// recoveryRow is one unused recovery code, by hash. Using it deletes the
// row, and the affected-row count decides who used it (SEC-56).
type recoveryRow struct {
	UserID string `gorm:"primaryKey;size:36"`
	Hash   string `gorm:"primaryKey;size:64"`
}

func (recoveryRow) TableName() string { return "mfa_recovery_codes" }

// CreateTOTP stores f as the pending factor: a pending one is deleted
// first, and a confirmed one makes the insert hit the primary key
// (storage.ErrExists).
func (s *Store) CreateTOTP(ctx context.Context, f storage.TOTPFactor) error {
	if f.UserID == "" {
		return errors.New("sqlstore: create totp: empty user id")
	}
	db := s.db.WithContext(ctx)
	if err := db.Where("user_id = ? AND confirmed = ?", f.UserID, false).Delete(&totpRow{}).Error; err != nil {
		return fmt.Errorf("sqlstore: create totp: %w", classify(err))
	}
	row := totpRow{UserID: f.UserID, Secret: f.Secret, LastStep: f.LastStep, CreatedAt: s.stamp(f.CreatedAt)}
	if err := db.Create(&row).Error; err != nil {
		return fmt.Errorf("sqlstore: create totp: %w", classify(err))
	}
	return nil
}

// TOTP returns the user's factor.
func (s *Store) TOTP(ctx context.Context, userID string) (storage.TOTPFactor, error) {
	var row totpRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Take(&row).Error; err != nil {
		return storage.TOTPFactor{}, classify(err)
	}
	return storage.TOTPFactor{
		UserID: row.UserID, Secret: row.Secret, Confirmed: row.Confirmed,
		LastStep: row.LastStep, CreatedAt: row.CreatedAt.UTC(),
	}, nil
}

// ConfirmTOTP confirms and takes the step in one conditional UPDATE.
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, step int64) error {
	res := s.db.WithContext(ctx).Model(&totpRow{}).
		Where("user_id = ? AND confirmed = ? AND last_step < ?", userID, false, step).
		Updates(map[string]any{"confirmed": true, "last_step": step})
	return s.stepResult(ctx, "confirm totp", res, userID, false)
}

// UseTOTPStep is the compare-and-set: UPDATE … SET last_step = ? WHERE
// user_id = ? AND last_step < ?. The database applies it atomically, so
// one step passes once on every node.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	res := s.db.WithContext(ctx).Model(&totpRow{}).
		Where("user_id = ? AND confirmed = ? AND last_step < ?", userID, true, step).
		Update("last_step", step)
	return s.stepResult(ctx, "use totp step", res, userID, true)
}

// stepResult tells a taken step (ErrConflict) from a missing factor
// (ErrNotFound) after a conditional update changed no row.
func (s *Store) stepResult(ctx context.Context, what string, res *gorm.DB, userID string, confirmed bool) error {
	if res.Error != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, classify(res.Error))
	}
	if res.RowsAffected == 1 {
		return nil
	}
	f, err := s.TOTP(ctx, userID)
	if err != nil {
		return err
	}
	if f.Confirmed != confirmed {
		return storage.ErrNotFound
	}
	return storage.ErrConflict
}

// DeleteTOTP removes the factor.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	return s.deleteWhere(ctx, "totp", &totpRow{}, "user_id = ?", userID)
}

// ReplaceRecoveryCodes swaps the set in one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error {
	rows := make([]recoveryRow, len(hashes))
	for i, h := range hashes {
		rows[i] = recoveryRow{UserID: userID, Hash: h}
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ?", userID).Delete(&recoveryRow{}).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.Create(&rows).Error
	})
	if err != nil {
		return fmt.Errorf("sqlstore: replace recovery codes: %w", classify(err))
	}
	return nil
}

// UseRecoveryCode deletes the code; the row count says whether this call
// was the one that used it.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	res := s.db.WithContext(ctx).Where("user_id = ? AND hash = ?", userID, hash).Delete(&recoveryRow{})
	if res.Error != nil {
		return fmt.Errorf("sqlstore: use recovery code: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// RecoveryCodesLeft counts the user's codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&recoveryRow{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("sqlstore: count recovery codes: %w", classify(err))
	}
	return int(n), nil
}

// DeleteRecoveryCodes removes the user's codes.
func (s *Store) DeleteRecoveryCodes(ctx context.Context, userID string) error {
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&recoveryRow{}).Error; err != nil {
		return fmt.Errorf("sqlstore: delete recovery codes: %w", classify(err))
	}
	return nil
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"user-registry/storage"
)

// LegacyUser is one row of a user export from the original Flask service:
// an email, its werkzeug password hash and an optional phone number.
type LegacyUser struct {
	Email, PasswordHash, Phone string
}

// ErrAlreadyPresent is returned by ImportLegacyUser when the address already
// has an account; the importer reports it and goes on.
var ErrAlreadyPresent = errors.New("email already present")

// ImportLegacyUser creates an account from an exported row without knowing
// its password: the werkzeug hash is stored as is, verified at the first
// login and then replaced by argon2id (SEC-31). Imported users are
// activated: the original service had verified (or never checked) them.
// Domain policy is not applied: importing is an administrator's decision.
//
// Returns an error wrapping ErrInvalidInput for a bad email, hash or phone,
// ErrAlreadyPresent, or a store error.
func ImportLegacyUser(ctx context.Context, users storage.UserStore, in LegacyUser, now time.Time) (storage.User, error) {
	email, err := ParseEmail(in.Email)
	if err != nil {
		return storage.User{}, err
	}
	hash := strings.TrimSpace(in.PasswordHash)
	if !IsSupportedHash(hash) || strings.HasPrefix(hash, "$argon2") {
		return storage.User{}, InvalidInput("unsupported password hash (want pbkdf2:sha256:N$salt$hex or scrypt:n:r:p$salt$hex)")
	}
	var phone string
	if p := strings.TrimSpace(in.Phone); p != "" {
		if phone, err = ParsePhone(p); err != nil {
			return storage.User{}, err
		}
	}
	u := storage.User{
		ID:             uuid.NewString(),
		Email:          email.Address,
		EmailCanonical: email.Canonical,
		Domain:         email.Domain,
		PasswordHash:   hash,
		PhoneNum:       phone,
		IsActivated:    true,
		CreatedAt:      now.UTC(),
		UpdatedAt:      now.UTC(),
	}
	if err := users.CreateUser(ctx, &u); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return storage.User{}, ErrAlreadyPresent
		}
		return storage.User{}, fmt.Errorf("provider: import: %w", err)
	}
	return u, nil
}

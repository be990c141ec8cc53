package storage

import (
	"context"
	"time"
)

// Passkey is a user's WebAuthn credential (SPEC §10). Credential is the
// WebAuthn library's credential record, serialized whole by the provider
// (public key, AAGUID, transports, attestation type) so that nothing the
// library needs at sign-in is lost. SignCount and the backup flags live in
// their own columns because every sign-in updates them; the provider
// overrides the serialized copies with these on load (go-webauthn#335).
type Passkey struct {
	ID             string // ours: random, URL-safe; DELETE /mfa/passkeys/{id}
	UserID         string
	CredentialID   []byte // the authenticator's; unique across every user
	Name           string
	Credential     []byte
	SignCount      uint32
	BackupEligible bool
	BackupState    bool
	CreatedAt      time.Time
	LastUsedAt     *time.Time // nil until the first sign-in with it
}

// PasskeyStore keeps passkeys in the database. DeleteUser removes the
// user's passkeys with the user.
type PasskeyStore interface {
	// CreatePasskey inserts p. Returns ErrExists when p.CredentialID is
	// already registered, to this user or any other.
	CreatePasskey(ctx context.Context, p Passkey) error
	// Passkeys lists the user's passkeys, oldest first (CreatedAt, then ID).
	Passkeys(ctx context.Context, userID string) ([]Passkey, error)
	// PasskeyByCredentialID returns ErrNotFound for an unknown id.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (Passkey, error)
	// CountPasskeys counts the user's passkeys.
	CountPasskeys(ctx context.Context, userID string) (int, error)
	// UsePasskey records a sign-in with passkey id: it stores signCount,
	// backupState and LastUsedAt = at in one conditional write, only while
	// signCount is above the stored count, or both are zero (authenticators
	// that do not count). Otherwise ErrConflict and nothing changes, so of
	// two sign-ins reporting one count at most one succeeds. ErrNotFound
	// for an unknown id.
	UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, at time.Time) error
	// DeletePasskey removes passkey id of userID. ErrNotFound when the user
	// has no such passkey (another user's id included).
	DeletePasskey(ctx context.Context, userID, id string) error
	// DeletePasskeys removes every passkey of the user. Idempotent.
	DeletePasskeys(ctx context.Context, userID string) error
}

// PasskeyChallenge is a WebAuthn ceremony in progress (SPEC §10): begun on
// one node, finished on any. Key is the provider's namespaced key (the
// user for a registration, the hash of login_id for a sign-in). Session is
// the library's session data, serialized whole: it must come back exactly
// as it was stored.
type PasskeyChallenge struct {
	Key       string
	UserID    string // "" for a passwordless sign-in
	MFAHash   string // the mfa_token hash a second-factor sign-in continues, or ""
	Session   []byte
	ExpiresAt time.Time
}

// PasskeyChallengeStore keeps ceremonies in the session store (memory,
// Redis): single use, short-lived.
type PasskeyChallengeStore interface {
	// SavePasskeyChallenge stores c until c.ExpiresAt, replacing one with
	// the same key.
	SavePasskeyChallenge(ctx context.Context, c PasskeyChallenge) error
	// TakePasskeyChallenge returns and deletes a live challenge atomically:
	// of concurrent calls exactly one succeeds, the others, and unknown or
	// expired keys, get ErrNotFound.
	TakePasskeyChallenge(ctx context.Context, key string) (PasskeyChallenge, error)
}

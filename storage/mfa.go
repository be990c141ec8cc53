package storage

import (
	"context"
	"time"
)

// TOTPFactor is a user's TOTP second factor (SPEC §10). Secret is sealed
// (AES-GCM under the key secret, AAD = user id), never plaintext. A pending
// factor (Confirmed false) is an enrolment awaiting its first code; it is
// no factor yet. LastStep is the last RFC 6238 time step accepted for the
// user: a step is accepted once, on every node (SEC-55).
type TOTPFactor struct {
	UserID    string
	Secret    []byte
	Confirmed bool
	LastStep  int64
	CreatedAt time.Time
}

// MFAStore keeps second factors that live in the database: TOTP factors
// and recovery codes (stored by hash).
type MFAStore interface {
	// CreateTOTP stores f as the user's pending factor, replacing a
	// pending one. Returns ErrExists when the user has a confirmed one.
	CreateTOTP(ctx context.Context, f TOTPFactor) error
	// TOTP returns the user's factor, pending or confirmed; ErrNotFound.
	TOTP(ctx context.Context, userID string) (TOTPFactor, error)
	// ConfirmTOTP confirms the pending factor with the step of its first
	// code, in one atomic write that also takes the step (as UseTOTPStep).
	// Returns ErrNotFound when nothing is pending, ErrConflict when the
	// step is not after the last accepted one.
	ConfirmTOTP(ctx context.Context, userID string, step int64) error
	// UseTOTPStep accepts step for the confirmed factor: an atomic
	// compare-and-set of LastStep (set only while the stored one is
	// smaller), so of concurrent callers with one step exactly one
	// succeeds. Returns ErrConflict when the step is not after the last
	// accepted one, ErrNotFound when there is no confirmed factor.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// DeleteTOTP removes the factor, pending or not. Returns ErrNotFound.
	DeleteTOTP(ctx context.Context, userID string) error

	// ReplaceRecoveryCodes makes hashes the user's recovery codes; the
	// old set is gone in the same write.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string) error
	// UseRecoveryCode deletes the user's code with this hash. Of
	// concurrent callers exactly one succeeds; the others, and unknown
	// codes, get ErrNotFound.
	UseRecoveryCode(ctx context.Context, userID, hash string) error
	// RecoveryCodesLeft counts the user's unused codes.
	RecoveryCodesLeft(ctx context.Context, userID string) (int, error)
	// DeleteRecoveryCodes removes every code of the user. Idempotent.
	DeleteRecoveryCodes(ctx context.Context, userID string) error
}

// MFAChallenge is the pending second step of a sign-in: the password was
// right, a second factor is due. Stored by the hash of its mfa_token, in the
// session store, so any node may finish it (SEC-59).
type MFAChallenge struct {
	Hash      string
	UserID    string
	Failures  int // wrong codes so far
	ExpiresAt time.Time
}

// MFAChallengeStore keeps sign-in challenges (the session store's
// backends: memory, Redis).
type MFAChallengeStore interface {
	// SaveMFAChallenge stores c until c.ExpiresAt.
	SaveMFAChallenge(ctx context.Context, c MFAChallenge) error
	// MFAChallenge returns a live challenge; ErrNotFound otherwise.
	MFAChallenge(ctx context.Context, hash string) (MFAChallenge, error)
	// FailMFAChallenge counts a wrong code atomically and deletes the
	// challenge when max failures are reached. It returns the failures
	// counted so far; ErrNotFound for an unknown or expired challenge.
	FailMFAChallenge(ctx context.Context, hash string, max int) (int, error)
	// ConsumeMFAChallenge returns and deletes a live challenge atomically:
	// of concurrent calls exactly one succeeds, the rest get ErrNotFound.
	ConsumeMFAChallenge(ctx context.Context, hash string) (MFAChallenge, error)
}

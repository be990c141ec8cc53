package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"user-registry/storage"
)

// loginKeyPrefix namespaces per-account failed-login counters in the
// shared rate store.
const loginKeyPrefix = "login-account:"

// Login checks the credentials (Authenticate) and issues /login tokens
// (IssueTokens). Returns the errors of both.
func (a *Accounts) Login(ctx context.Context, email, password string) (TokenPair, error) {
	u, err := a.Authenticate(ctx, email, password)
	if err != nil {
		return TokenPair{}, err
	}
	return a.IssueTokens(ctx, u)
}

// Authenticate checks an email and password (SPEC §3).
//
//   - Failed attempts per account are limited (LoginLimit, SEC-38): the
//     counter is peeked first, so a locked account costs no hashing, and
//     counted on every failure, known address or not.
//   - An unknown or unparsable address still hashes against a dummy, so it
//     takes as long as a wrong password (SEC-26).
//   - A match against a legacy or outdated hash stores a fresh argon2id hash
//     (SEC-24, SEC-31); failing to store it is logged, not fatal.
//   - With RequireVerified, an unverified user is refused after the password
//     check, so only the account owner learns the state.
//
// Returns *RateLimitError (ErrRateLimited), ErrUnknownUser, ErrWrongPassword,
// ErrNotVerified, or an error wrapping storage.ErrUnavailable.
func (a *Accounts) Authenticate(ctx context.Context, email, password string) (storage.User, error) {
	parsed, perr := ParseEmail(email)
	key := loginKeyPrefix + parsed.Canonical
	if perr != nil {
		// Count garbage under what was typed (bounded), so it is limited
		// like any address.
		key = loginKeyPrefix + strings.ToLower(strings.TrimSpace(truncate(email, maxEmailLen)))
	}
	if _, err := a.loginRL.Peek(ctx, key); err != nil {
		return storage.User{}, err
	}

	var u storage.User
	err := storage.ErrNotFound
	if perr == nil {
		u, err = a.users.UserByEmail(ctx, parsed.Canonical)
	}
	if errors.Is(err, storage.ErrNotFound) {
		if err := a.hasher.VerifyDummy(ctx, password); err != nil {
			return storage.User{}, fmt.Errorf("provider: login: %w", err)
		}
		return storage.User{}, a.loginFailed(ctx, key, ErrUnknownUser)
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: login: %w", err)
	}

	ok, rehash, err := a.hasher.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, ErrMalformedHash) {
		// A stored hash nothing can match (a device-only or corrupt row)
		// is a wrong password for the caller and a problem for the admin.
		a.log.ErrorContext(ctx, "unusable password hash", "user_id", u.ID)
		ok, err = false, nil
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: login: %w", err)
	}
	if !ok {
		return storage.User{}, a.loginFailed(ctx, key, ErrWrongPassword)
	}
	if rehash {
		a.rehash(ctx, &u, password)
	}
	if a.cfg.RequireVerified && !u.IsActivated {
		return storage.User{}, ErrNotVerified
	}
	return u, nil
}

// loginFailed counts a failure against key and returns cause, or the
// counting failure (503 rather than an uncounted attempt).
func (a *Accounts) loginFailed(ctx context.Context, key string, cause error) error {
	if err := a.loginRL.Fail(ctx, key); err != nil {
		return err
	}
	return cause
}

// rehash replaces u's password hash with a fresh argon2id one after a
// successful check. Errors are logged only: the login itself is valid, and
// the next one tries again.
func (a *Accounts) rehash(ctx context.Context, u *storage.User, password string) {
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		a.log.WarnContext(ctx, "password rehash failed", "user_id", u.ID, "err", err)
		return
	}
	upd := *u
	upd.PasswordHash = hash
	upd.UpdatedAt = a.now().UTC()
	if err := a.users.UpdateUser(ctx, &upd); err != nil {
		a.log.WarnContext(ctx, "password rehash not stored", "user_id", u.ID, "err", err)
		return
	}
	*u = upd
	a.log.InfoContext(ctx, "password rehashed with argon2id", "user_id", u.ID)
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

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
	return a.LoginBound(ctx, email, password, "")
}

// LoginBound is Login with the tokens bound to the DPoP key jkt ("" =
// unbound; IssueTokensBound). The tokens carry amr ["pwd"]. It knows no
// second factors: with them configured, MFA.Login is the sign-in.
func (a *Accounts) LoginBound(ctx context.Context, email, password, jkt string) (TokenPair, error) {
	u, err := a.Authenticate(ctx, email, password)
	if err != nil {
		return TokenPair{}, err
	}
	return a.IssueTokensAMR(ctx, u, jkt, amrPasswordOnly())
}

// Authenticate checks an email and password (SPEC §3).
//
//   - Failed attempts per account are limited (LoginLimit, SEC-38): every
//     attempt is counted before the password is checked (atomically, so
//     concurrent guesses cannot all pass the check before any is counted),
//     a locked account costs no hashing, and an attempt that does not end
//     in a wrong password or unknown user is refunded (see limitedCheck).
//   - An unknown or unparsable address still hashes against a dummy, and
//     every failure lasts at least FailureFloor, so the time tells neither
//     whether the account exists nor whether it holds an imported legacy
//     hash (SEC-26, SEC-75; see limitedCheck).
//   - A match against a legacy or outdated hash stores a fresh argon2id hash
//     (SEC-24, SEC-31); failing to store it is logged, not fatal.
//   - With RequireVerified, an unverified user is refused after the password
//     check, so only the account owner learns the state.
//   - A disabled user (SPEC §13) is refused after the password check, like
//     an unverified one.
//   - Success records the sign-in time (noteLogin, at most once a minute).
//
// Returns *RateLimitError (ErrRateLimited), ErrUnknownUser, ErrWrongPassword,
// ErrUserDisabled, ErrNotVerified, or an error wrapping
// storage.ErrUnavailable.
func (a *Accounts) Authenticate(ctx context.Context, email, password string) (storage.User, error) {
	parsed, key, perr := parseLimitKey(email)
	var found storage.User // the account checked, also when the check fails
	u, err := limitedCheck(ctx, a, loginKeyPrefix+key, func() (storage.User, error) {
		return a.authenticate(ctx, parsed.Canonical, perr, password, &found)
	})
	a.auditLogin(ctx, parsed, found, err)
	return u, err
}

// authenticate is Authenticate after the rate limit has counted the attempt.
// The account found is put in *found, for the audit event of a failure.
func (a *Accounts) authenticate(ctx context.Context, canonical string, perr error, password string, found *storage.User) (storage.User, error) {
	var u storage.User
	err := storage.ErrNotFound
	if perr == nil {
		u, err = a.users.UserByEmail(ctx, canonical)
	}
	if err == nil {
		*found = u
	}
	if errors.Is(err, storage.ErrNotFound) {
		if err := a.hasher.VerifyDummy(ctx, password); err != nil {
			return storage.User{}, fmt.Errorf("provider: login: %w", err)
		}
		return storage.User{}, ErrUnknownUser
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
		return storage.User{}, ErrWrongPassword
	}
	if rehash {
		a.rehash(ctx, &u, password)
	}
	if u.Disabled {
		return storage.User{}, ErrUserDisabled
	}
	if a.cfg.RequireVerified && !u.IsActivated {
		return storage.User{}, ErrNotVerified
	}
	a.noteLogin(ctx, &u)
	return u, nil
}

// limitedCheck runs a password check under the per-account failure limit
// of key: the attempt is counted first (a full window refuses it with a
// *RateLimitError before check runs), and given back unless check fails
// with ErrWrongPassword or ErrUnknownUser. Those failures are held until
// the failure floor has passed since check began (holdFailure). A refund
// the store cannot take is logged: the check itself stands.
func limitedCheck(ctx context.Context, a *Accounts, key string, check func() (storage.User, error)) (storage.User, error) {
	if _, err := a.loginRL.Allow(ctx, key); err != nil {
		return storage.User{}, err
	}
	start := a.now()
	u, err := check()
	if errors.Is(err, ErrWrongPassword) || errors.Is(err, ErrUnknownUser) {
		a.holdFailure(ctx, start)
		return storage.User{}, err
	}
	if rerr := a.loginRL.Refund(ctx, key); rerr != nil {
		a.log.WarnContext(ctx, "login limit: refund not stored", "err", rerr)
	}
	return u, err
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
	// Only if the checked hash is still stored: a password changed since
	// the check stays, and the login stands (SEC-73).
	change := storage.UserChange{PasswordHash: &hash, UpdatedAt: a.now().UTC(), IfPasswordHash: ptrTo(u.PasswordHash)}
	err = a.users.UpdateUser(ctx, u.ID, change)
	if errors.Is(err, storage.ErrConflict) {
		a.log.InfoContext(ctx, "password rehash skipped: password changed meanwhile", "user_id", u.ID)
		return
	}
	if err != nil {
		a.log.WarnContext(ctx, "password rehash not stored", "user_id", u.ID, "err", err)
		return
	}
	u.PasswordHash, u.UpdatedAt = hash, change.UpdatedAt
	a.log.InfoContext(ctx, "password rehashed with argon2id", "user_id", u.ID)
}

// parseLimitKey parses email (ParseEmail) and returns the key under which
// requests for it are rate-limited: its canonical form, or for an address
// that does not parse what was typed (bounded, trimmed, lower-cased), so
// garbage is limited like any address.
func parseLimitKey(email string) (parsed Email, key string, err error) {
	parsed, err = ParseEmail(email)
	if err != nil {
		return parsed, strings.ToLower(strings.TrimSpace(truncate(email, maxEmailLen))), err
	}
	return parsed, parsed.Canonical, nil
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

package provider

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"user-registry/storage"
)

// Recovery codes (SPEC §10, SEC-56): a set of 10, each 12 characters of
// Crockford-style base32 (60 bits), shown once as xxxx-xxxx-xxxx.
const (
	recoveryCodeCount = 10
	recoveryCodeChars = 12
	recoveryAlphabet  = "0123456789abcdefghjkmnpqrstvwxyz" // no i, l, o, u
)

// newRecoveryCode returns a fresh code in its display form.
func newRecoveryCode() string {
	b := make([]byte, recoveryCodeChars)
	_, _ = rand.Read(b) // see secrets.go for the error policy
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(recoveryAlphabet[c&31]) // 256 is a multiple of 32: no bias
	}
	return sb.String()
}

// normalizeRecoveryCode folds what a user may type (case, dashes, spaces,
// the look-alike letters) into the stored form; ok false when it cannot be
// a code.
func normalizeRecoveryCode(code string) (string, bool) {
	var sb strings.Builder
	for _, c := range strings.ToLower(code) {
		switch {
		case c == '-' || c == ' ':
			continue
		case c == 'o':
			c = '0'
		case c == 'i' || c == 'l':
			c = '1'
		}
		if !strings.ContainsRune(recoveryAlphabet, c) {
			return "", false
		}
		sb.WriteRune(c)
	}
	if sb.Len() != recoveryCodeChars {
		return "", false
	}
	return sb.String(), true
}

// hashRecoveryCode is the stored form of a normalized code: a fast hash
// (60 random bits leave nothing to guess online) salted with the user id,
// so one table of precomputed hashes cannot serve every user.
func hashRecoveryCode(userID, normalized string) string {
	return HashSecret(userID + ":" + normalized)
}

// newRecoveryCodes stores a fresh set for u, voiding the old one, and
// returns the codes to show once.
func (m *MFA) newRecoveryCodes(ctx context.Context, u storage.User) ([]string, error) {
	codes := make([]string, recoveryCodeCount)
	hashes := make([]string, recoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		n, _ := normalizeRecoveryCode(codes[i])
		hashes[i] = hashRecoveryCode(u.ID, n)
	}
	if err := m.store.ReplaceRecoveryCodes(ctx, u.ID, hashes); err != nil {
		return nil, fmt.Errorf("provider: mfa: store recovery codes: %w", err)
	}
	return codes, nil
}

// issueCodesIfNone gives u a set when none is left (the first factor).
func (m *MFA) issueCodesIfNone(ctx context.Context, u storage.User) ([]string, error) {
	left, err := m.store.RecoveryCodesLeft(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("provider: mfa: %w", err)
	}
	if left > 0 {
		return nil, nil
	}
	return m.newRecoveryCodes(ctx, u)
}

// useRecoveryCode spends one of u's codes; false when it is not one.
// Recovery codes are no factor on their own: without a factor they sign
// nobody in (they are voided when the last one goes anyway).
func (m *MFA) useRecoveryCode(ctx context.Context, u storage.User, code string) (bool, error) {
	n, ok := normalizeRecoveryCode(code)
	if !ok {
		return false, nil
	}
	err := m.store.UseRecoveryCode(ctx, u.ID, hashRecoveryCode(u.ID, n))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("provider: mfa: %w", err)
	}
	left, _ := m.store.RecoveryCodesLeft(ctx, u.ID)
	m.audit.Record(ctx, userEvent(EventRecoveryCodeUsed, u))
	m.sendMail(u, "A recovery code was used",
		fmt.Sprintf("A recovery code was used to sign in to your account. %d codes are left.\n"+
			"If this was not you, change your password and create new recovery codes on the account page.\n", left))
	return true, nil
}

// RegenerateRecoveryCodes makes a new set after checking the password
// (POST /mfa/recovery-codes); the old set is void. Returns
// ErrWrongPassword, *RateLimitError, ErrNoFactor, or an error wrapping
// storage.ErrUnavailable.
func (m *MFA) RegenerateRecoveryCodes(ctx context.Context, userID, password string) ([]string, error) {
	u, err := m.a.checkOwnPassword(ctx, userID, password)
	if err != nil {
		return nil, err
	}
	methods, err := m.Methods(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(methods) == 0 {
		return nil, ErrNoFactor
	}
	return m.newRecoveryCodes(ctx, u)
}

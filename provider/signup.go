package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"user-registry/storage"
)

// SignupInput is a signup request. Optional fields are nil when absent.
type SignupInput struct {
	Email        string
	Password     string
	ConfirmPass  *string // must equal Password when given
	Phone        *string // "" or nil: no phone number
	Discoverable *bool   // default false
}

// Signup creates an account (SPEC §3). In order: the email, password
// (policy, confirmation) and phone are validated; the email's domain is
// checked against the domain policy before anything reveals whether the
// address is taken; the password is hashed; the user is inserted with a
// fresh UUID, and the database's unique index on the canonical email decides
// between concurrent signups of one address (SEC-28, SEC-46). Hashing
// happens before the insert in every case, so "created" and "exists" take
// the same time.
//
// A new user who is not activated at signup (a mailer is configured) gets
// the verification mail (Verification; SPEC §3a). The account exists by
// then, so a failure to queue it is logged, not returned: the user can ask
// for another link.
//
// Returns an error wrapping ErrInvalidInput (with a user message) for bad
// input, ErrDomainBlocked, ErrUserExists, or an error wrapping
// storage.ErrUnavailable.
func (a *Accounts) Signup(ctx context.Context, in SignupInput) (storage.User, error) {
	email, err := ParseEmail(in.Email)
	if err != nil {
		return storage.User{}, err
	}
	pw, err := CheckPassword(in.Password)
	if err != nil {
		return storage.User{}, err
	}
	if in.ConfirmPass != nil && NormalizePassword(*in.ConfirmPass) != pw {
		return storage.User{}, InvalidInput(msgPasswordMismatch)
	}
	var phone string
	if in.Phone != nil && *in.Phone != "" {
		if phone, err = ParsePhone(*in.Phone); err != nil {
			return storage.User{}, err
		}
	}
	blocked, err := a.policy.Blocked(ctx, email.Domain)
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: signup: domain policy: %w", err)
	}
	if blocked {
		return storage.User{}, ErrDomainBlocked
	}
	hash, err := a.hasher.Hash(ctx, pw)
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: signup: hash: %w", err)
	}
	now := a.now().UTC()
	u := storage.User{
		ID:             uuid.NewString(),
		Email:          email.Address,
		EmailCanonical: email.Canonical,
		Domain:         email.Domain,
		PasswordHash:   hash,
		PhoneNum:       phone,
		Discoverable:   in.Discoverable != nil && *in.Discoverable,
		IsActivated:    a.cfg.ActivateAtSignup,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if err := a.users.CreateUser(ctx, &u); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return storage.User{}, ErrUserExists
		}
		return storage.User{}, fmt.Errorf("provider: signup: %w", err)
	}
	a.log.InfoContext(ctx, "user signed up", "user_id", u.ID, "domain", u.Domain)
	a.audit.Record(ctx, userEvent(EventSignup, u))
	if a.verification != nil {
		if err := a.verification.SendVerification(ctx, u); err != nil {
			a.log.WarnContext(ctx, "verification mail not queued", "user_id", u.ID, "err", err)
		}
	}
	return u, nil
}

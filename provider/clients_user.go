package provider

import (
	"context"
	"errors"
	"fmt"

	"user-registry/storage"
)

// userReader is what Clients needs of the user store: the stored user, not
// a token's claims, decides what the user may do with clients. A token
// minted before the address was verified still says is_activated=false,
// and one minted before a change of the record would say what no longer
// holds.
type userReader interface {
	UserByID(ctx context.Context, id string) (storage.User, error)
}

// The rules of /clients (SPEC §5, SECURITY 74): a user registers
// client_credentials clients for their own domain once their address is
// verified, and sees and deletes only the clients they registered. Clients
// made by the CLI or an admin (CreatedBy "") belong to the operators: no
// user lists or deletes them, whatever their domain.

// RegisterForUser registers a client_credentials client named name for
// the user userID in the user's own email domain, recorded as theirs
// (CreatedBy), and returns it with its secret (shown this once).
//
// Returns ErrUnauthenticated when the user no longer exists, ErrNotVerified
// for an unverified address, ErrClientDomainBlocked (a variant of
// ErrForbidden) when the domain may not register now, an error wrapping
// ErrInvalidInput for a bad name, or an error wrapping
// storage.ErrUnavailable.
func (s *Clients) RegisterForUser(ctx context.Context, userID, name string) (storage.Client, string, error) {
	return s.RegisterForUserWithKeys(ctx, userID, name, nil)
}

// RegisterForUserWithKeys is RegisterForUser for a private_key_jwt client
// when jwks (a JWK Set of public keys) is not empty: it gets no secret
// (""). A user gives keys inline only, never a URL for this server to
// fetch (SEC-61). Returns RegisterForUser's errors; a bad set wraps
// ErrInvalidInput.
func (s *Clients) RegisterForUserWithKeys(ctx context.Context, userID, name string, jwks []byte) (storage.Client, string, error) {
	u, err := s.owner(ctx, userID)
	if err != nil {
		return storage.Client{}, "", err
	}
	if !u.IsActivated {
		return storage.Client{}, "", ErrNotVerified
	}
	if s.policy == nil {
		return storage.Client{}, "", errors.New("provider: clients: no domain policy to register for users")
	}
	blocked, err := s.policy.Blocked(ctx, u.Domain)
	if err != nil {
		return storage.Client{}, "", err
	}
	if blocked {
		return storage.Client{}, "", ErrClientDomainBlocked
	}
	return s.create(ctx, ClientSpec{Domain: u.Domain, Name: name, JWKS: jwks}, u.ID)
}

// ListForUser returns the clients the user userID registered through
// RegisterForUser, oldest first. Returns an error wrapping
// storage.ErrUnavailable.
func (s *Clients) ListForUser(ctx context.Context, userID string) ([]storage.Client, error) {
	list, err := s.store.ListClientsByCreator(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list clients of user: %w", err)
	}
	return list, nil
}

// RemoveForUser deletes client id if the user userID registered it.
// Another user's client, one made by the CLI or an admin, and a missing
// one all return ErrClientNotFound, so ids the user does not own cannot be
// probed. Other errors wrap storage.ErrUnavailable.
func (s *Clients) RemoveForUser(ctx context.Context, userID, id string) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if userID == "" || c.CreatedBy != userID {
		return ErrClientNotFound
	}
	return s.remove(ctx, c)
}

// owner loads the user userID. Returns ErrUnauthenticated when the user
// is gone (the token outlived the account).
func (s *Clients) owner(ctx context.Context, userID string) (storage.User, error) {
	if s.users == nil {
		return storage.User{}, errors.New("provider: clients: no user store to register for users")
	}
	u, err := s.users.UserByID(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, fmt.Errorf("%w: user no longer exists", ErrUnauthenticated)
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: load user: %w", err)
	}
	return u, nil
}

// mayIntrospect reports whether caller, an authenticated client, may learn
// about a token issued to the client tokenClientID (SPEC §7). A
// confidential client of the operators (made by the CLI or an admin) is a
// resource server and may introspect any token; a client a user registered
// through /clients only its own tokens, so one signup cannot read every
// user's tokens; a public client none (it has no credentials).
func mayIntrospect(caller storage.Client, tokenClientID string) bool {
	switch {
	case caller.ID == "" || caller.Public:
		return false
	case caller.CreatedBy == "":
		return true
	default:
		return tokenClientID == caller.ID
	}
}

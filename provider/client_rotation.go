package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"user-registry/storage"
)

// DefaultSecretGrace is how long a rotated-out secret keeps working when
// the caller names no grace period: a day to roll the new secret out.
const DefaultSecretGrace = 24 * time.Hour

// MaxSecretGrace bounds the grace period: a secret someone rotates out
// should not linger for months.
const MaxSecretGrace = 30 * 24 * time.Hour

// SecretRotationDeps are what SecretRotation is built from.
type SecretRotationDeps struct {
	// Clients holds the client records and the secret hasher. Required.
	Clients *Clients
	// Audit records client_secret_rotated events; nil records nothing.
	Audit Auditor
}

// SecretRotation replaces client secrets with a grace period (SPEC §11):
// until the previous secret's expiry both secrets authenticate the client,
// from that instant only the new one (SEC-64). Safe for concurrent use.
type SecretRotation struct {
	clients *Clients
	audit   Auditor
}

// NewSecretRotation returns the rotation service. Fails without Clients.
func NewSecretRotation(d SecretRotationDeps) (*SecretRotation, error) {
	if d.Clients == nil {
		return nil, errors.New("provider: secret rotation needs Clients")
	}
	if d.Audit == nil {
		d.Audit = NopAuditor{}
	}
	return &SecretRotation{clients: d.Clients, audit: d.Audit}, nil
}

// RotatedSecret is the answer to a rotation: the new secret, shown this
// once (only its keyed hash is stored), and when the previous one stops
// working.
type RotatedSecret struct {
	ClientID                string
	Secret                  string
	PreviousSecretExpiresAt time.Time
}

// Rotate gives client id a new secret; the current one keeps working for
// grace (0 ends it at once). The operators' path: any client.
//
// Returns ErrClientNotFound, a variant of ErrInvalidInput for a grace
// outside [0, MaxSecretGrace] or a client without a secret (public), or
// an error wrapping storage.ErrUnavailable.
func (r *SecretRotation) Rotate(ctx context.Context, id string, grace time.Duration) (RotatedSecret, error) {
	return r.rotate(ctx, "", id, grace)
}

// RotateForUser is Rotate for a client the user userID registered through
// /clients; any other client (another user's, the operators') is
// ErrClientNotFound, as for DELETE /clients/{id}.
func (r *SecretRotation) RotateForUser(ctx context.Context, userID, id string, grace time.Duration) (RotatedSecret, error) {
	if userID == "" {
		return RotatedSecret{}, ErrClientNotFound
	}
	return r.rotate(ctx, userID, id, grace)
}

// rotate rotates id's secret; owner "" is the operators, else the user
// the client must belong to.
func (r *SecretRotation) rotate(ctx context.Context, owner, id string, grace time.Duration) (RotatedSecret, error) {
	if grace < 0 || grace > MaxSecretGrace {
		return RotatedSecret{}, InvalidInput(fmt.Sprintf("grace must be between 0 and %s", MaxSecretGrace))
	}
	c, err := r.clients.Get(ctx, id)
	if err != nil {
		return RotatedSecret{}, err
	}
	if owner != "" && c.CreatedBy != owner {
		return RotatedSecret{}, ErrClientNotFound
	}
	if c.Public || len(c.SecretHash) == 0 {
		return RotatedSecret{}, InvalidInput("The client has no secret to rotate")
	}
	s := r.clients
	secret := newSecret()
	// Whole seconds, so the RFC 3339 time shown is the exact instant the
	// old secret stops working.
	until := s.now().UTC().Add(grace).Truncate(time.Second)
	if err := s.store.RotateClientSecret(ctx, id, s.hasher.sum(secret), until); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return RotatedSecret{}, ErrClientNotFound
		}
		return RotatedSecret{}, fmt.Errorf("rotate client secret: %w", err)
	}
	s.forget(id)
	ri := RequestInfoFrom(ctx)
	actor := ri.Actor
	if actor == "" {
		actor = ActorCLI
		if owner != "" {
			actor = ActorUser
		}
	}
	r.audit.Record(ctx, AuditEvent{
		Time: s.now().UTC(), Event: EventClientSecretRotated, UserID: owner, ClientID: id, Domain: c.Domain,
		Actor: actor, IP: ri.IP, UserAgent: ri.UserAgent, Detail: "grace " + grace.String(),
	})
	return RotatedSecret{ClientID: id, Secret: secret, PreviousSecretExpiresAt: until}, nil
}

package provider

import (
	"context"
	"errors"

	"user-registry/storage"
)

// Reasons of login_failed (AuditEvent.Detail): why, never what was typed.
const (
	reasonBadPassword  = "bad password"
	reasonUnknownUser  = "unknown user"
	reasonRateLimited  = "rate limited"
	reasonNotVerified  = "email not verified"
	limitLoginAccount  = "login account limit"
	limitClient        = "client limit"
	detailReuseRevoked = "refresh token reused; session revoked"
)

// auditorOr returns a, or NopAuditor when a is nil, so every owner can
// record without checking.
func auditorOr(a Auditor) Auditor {
	if a == nil {
		return NopAuditor{}
	}
	return a
}

// userEvent is an event a user caused about their own account.
func userEvent(event string, u storage.User) AuditEvent {
	return AuditEvent{Event: event, UserID: u.ID, Domain: u.Domain, Actor: ActorUser}
}

// auditLogin records the outcome of a password check at sign-in: the
// user's id where one was found, the domain of the address typed where
// none was (never the address or the password, SEC-71). Store errors are
// outages, not security events, and are not recorded.
func (a *Accounts) auditLogin(ctx context.Context, typed Email, u storage.User, err error) {
	e := AuditEvent{Event: EventLoginSucceeded, UserID: u.ID, Domain: u.Domain, Actor: ActorUser}
	if e.Domain == "" {
		e.Domain = typed.Domain
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrRateLimited):
		e.Event, e.Detail = EventLoginFailed, reasonRateLimited
		a.audit.Record(ctx, AuditEvent{Event: EventRateLimited, Domain: e.Domain, Actor: ActorUser, Detail: limitLoginAccount})
	case errors.Is(err, ErrUnknownUser):
		e.Event, e.Detail = EventLoginFailed, reasonUnknownUser
	case errors.Is(err, ErrWrongPassword):
		e.Event, e.Detail = EventLoginFailed, reasonBadPassword
	case errors.Is(err, ErrNotVerified):
		e.Event, e.Detail = EventLoginFailed, reasonNotVerified
	default:
		return
	}
	a.audit.Record(ctx, e)
}

// actorOr is the actor the request context names (an admin client, the
// CLI), else def: for use cases that an operator may run on a user's
// behalf as well as the user.
func actorOr(ctx context.Context, def string) string {
	if a := RequestInfoFrom(ctx).Actor; a != "" {
		return a
	}
	return def
}

package provider

import (
	"context"
	"time"
)

// Audit event names (SPEC §13). One constant per event, so a typo is a
// compile error rather than an event nobody can filter for.
const (
	EventSignup              = "signup"
	EventLoginSucceeded      = "login_succeeded"
	EventLoginFailed         = "login_failed"
	EventMFAEnabled          = "mfa_enabled"
	EventMFADisabled         = "mfa_disabled"
	EventRecoveryCodeUsed    = "recovery_code_used"
	EventPasskeyAdded        = "passkey_added"
	EventPasskeyRemoved      = "passkey_removed"
	EventLogout              = "logout"
	EventLogoutAll           = "logout_all"
	EventPasswordChanged     = "password_changed"
	EventPasswordReset       = "password_reset"
	EventEmailVerified       = "email_verified"
	EventAccountDeleted      = "account_deleted"
	EventUserDisabled        = "user_disabled"
	EventUserEnabled         = "user_enabled"
	EventClientCreated       = "client_created"
	EventClientDeleted       = "client_deleted"
	EventClientSecretRotated = "client_secret_rotated"
	EventDomainChanged       = "domain_changed"
	EventKeyRotated          = "key_rotated"
	EventRefreshReuse        = "refresh_reuse_detected"
	EventRateLimited         = "rate_limited"
)

// Actors (SPEC §13): who caused an event.
const (
	ActorUser = "user"
	ActorCLI  = "cli"
)

// ActorClient names a client as the actor of an event.
func ActorClient(clientID string) string { return "client:" + clientID }

// AuditEvent is one security event. Detail is a short reason ("bad
// password", "disabled"), never a secret, password, token or code (SEC-71).
type AuditEvent struct {
	Time      time.Time
	Event     string
	UserID    string
	ClientID  string
	Domain    string
	Actor     string
	IP        string
	UserAgent string
	Detail    string
}

// Auditor records security events. Record must not block or fail the
// caller's request: an implementation queues the event and drops (and
// counts) it when it cannot keep up (SEC-71).
type Auditor interface {
	Record(ctx context.Context, e AuditEvent)
}

// NopAuditor records nothing; for tests and tools that do not audit.
type NopAuditor struct{}

// Record discards e.
func (NopAuditor) Record(context.Context, AuditEvent) {}

// RequestInfo is who is asking, as the HTTP layer saw it: the client IP
// after the trusted-proxy rule, the User-Agent, and the actor. Use cases
// copy it into the events they record.
type RequestInfo struct {
	IP        string
	UserAgent string
	Actor     string
}

type requestInfoKey struct{}

// WithRequestInfo returns ctx carrying ri for the events recorded under it.
func WithRequestInfo(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// RequestInfoFrom returns the RequestInfo in ctx (the zero value when none:
// the CLI, background work).
func RequestInfoFrom(ctx context.Context) RequestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	return ri
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"user-registry/storage"
)

// Scopes of admin clients (SPEC §13): ScopeAdmin (registry:admin) reaches
// everything; ScopeDomainAdmin the users and audit events of the client's
// own domain only.
const ScopeDomainAdmin = "domain:admin"

// ErrNoSuchUser: the admin API or CLI named a user that does not exist or
// that the caller may not reach (another domain's user for a domain
// admin): both are 404, so a domain admin cannot probe other domains.
var ErrNoSuchUser = errors.New("User not found")

// AdminScope is what an administrator may reach: every user (All), or the
// users whose domain is exactly Domain (a domain admin; not its
// subdomains). The zero value reaches nobody, so a forgotten field fails
// closed. The web layer derives it from the caller's token; the CLI uses
// AllUsers.
type AdminScope struct {
	All    bool
	Domain string
}

// AllUsers is the scope of registry:admin and of the CLI.
var AllUsers = AdminScope{All: true}

// Reaches reports whether the scope covers a user or event of domain.
func (s AdminScope) Reaches(domain string) bool {
	return s.All || (s.Domain != "" && s.Domain == domain)
}

// UserAdminDeps are what UserAdmin is built from. Users, Revocations and
// Consents are required. The CLI builds one too, so it needs no token
// service: ending sessions and deleting accounts take the same paths as
// the users' own requests (setNotBefore, accountRemover).
type UserAdminDeps struct {
	Users storage.UserStore
	// Revocations keeps each user's not-before, shared by every node
	// (Redis); disabling and logging out set it.
	Revocations storage.RevocationStore
	// Consents are the code flow's approvals; deletion removes them.
	Consents consentEraser
	// RefreshAbsolute is how long a not-before entry is kept: the longest
	// a refresh family lives. 0 means DefaultRefreshAbsolute.
	RefreshAbsolute time.Duration
	Audit           Auditor          // nil records nothing
	Now             func() time.Time // nil means time.Now
	Log             *slog.Logger     // nil discards
	// MFA shows and resets second factors (*MFA, or *MFAAdmin in the
	// CLI); nil: users show none and a reset removes nothing.
	MFA UserMFAAdmin
}

// UserMFAAdmin is what user administration does with second factors.
type UserMFAAdmin interface {
	Reset(ctx context.Context, u storage.User) error
	Summary(ctx context.Context, userID string) (UserMFA, error)
}

// UserAdmin is the one owner of the operators' user administration (SPEC
// §13), for the admin API and the CLI alike: list, show, disable, enable,
// log out everywhere, delete, reset second factors. Every method takes
// the caller's AdminScope; a user outside it is ErrNoSuchUser. Every
// change is audited with the actor of the context's RequestInfo. Safe for
// concurrent use.
type UserAdmin struct {
	users   storage.UserStore
	rev     storage.RevocationStore
	remover accountRemover
	keep    time.Duration
	audit   Auditor
	now     func() time.Time
	log     *slog.Logger
	mfa     UserMFAAdmin
}

// NewUserAdmin builds the service; it fails when a required dependency is
// missing.
func NewUserAdmin(d UserAdminDeps) (*UserAdmin, error) {
	if d.Users == nil || d.Revocations == nil || d.Consents == nil {
		return nil, errors.New("provider: user admin: missing dependency")
	}
	a := &UserAdmin{users: d.Users, rev: d.Revocations, keep: d.RefreshAbsolute, audit: d.Audit, now: d.Now, log: d.Log, mfa: d.MFA}
	if a.keep <= 0 {
		a.keep = DefaultRefreshAbsolute
	}
	if a.audit == nil {
		a.audit = NopAuditor{}
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.remover = accountRemover{users: a.users, rev: a.rev, consents: d.Consents, keep: a.keep, now: a.now, log: a.log}
	return a, nil
}

// entry is u as the admin API shows it, with its second factors.
func (a *UserAdmin) entry(ctx context.Context, u storage.User) (UserEntry, error) {
	e := NewUserEntry(u)
	if a.mfa != nil {
		m, err := a.mfa.Summary(ctx, u.ID)
		if err != nil {
			return UserEntry{}, err
		}
		e.MFA = m
	}
	return e, nil
}

// endSessions ends every session and token of userID issued until now.
func (a *UserAdmin) endSessions(ctx context.Context, userID string) error {
	return setNotBefore(ctx, a.rev, userID, a.now(), a.keep, "")
}

// Show returns the user that ref names (an email address, or a user id).
// Returns ErrNoSuchUser, or an error wrapping storage.ErrUnavailable.
func (a *UserAdmin) Show(ctx context.Context, scope AdminScope, ref string) (UserEntry, error) {
	u, err := a.find(ctx, scope, ref)
	if err != nil {
		return UserEntry{}, err
	}
	return a.entry(ctx, u)
}

// SetDisabled disables or enables the user ref names and returns the user
// as stored afterwards. Disabling (SEC-70) first stores the flag, so no
// sign-in, refresh, code redemption or browser session of the user
// succeeds from then on, then sets the user's not-before to now, so every
// access token, refresh token and session issued before is refused by
// every node on its next check (the not-before lives in the shared
// revocation store). Enabling clears the flag only: what the disabling
// ended stays ended. Returns ErrNoSuchUser, or an error wrapping
// storage.ErrUnavailable.
func (a *UserAdmin) SetDisabled(ctx context.Context, scope AdminScope, ref string, disabled bool) (UserEntry, error) {
	u, err := a.find(ctx, scope, ref)
	if err != nil {
		return UserEntry{}, err
	}
	change := storage.UserChange{Disabled: &disabled, UpdatedAt: a.now().UTC()}
	if err := a.users.UpdateUser(ctx, u.ID, change); err != nil {
		if isNotFound(err) {
			return UserEntry{}, ErrNoSuchUser
		}
		return UserEntry{}, fmt.Errorf("provider: set disabled: %w", err)
	}
	u.Disabled, u.UpdatedAt = disabled, change.UpdatedAt
	event := EventUserEnabled
	if disabled {
		event = EventUserDisabled
		if err := a.endSessions(ctx, u.ID); err != nil {
			return UserEntry{}, err
		}
	}
	a.record(ctx, event, u, "")
	a.log.InfoContext(ctx, event, "user_id", u.ID, "actor", RequestInfoFrom(ctx).Actor)
	return a.entry(ctx, u)
}

// Logout ends every session and token of the user ref names (the user's
// own "log out everywhere"). Returns ErrNoSuchUser, or an error wrapping
// storage.ErrUnavailable.
func (a *UserAdmin) Logout(ctx context.Context, scope AdminScope, ref string) error {
	u, err := a.find(ctx, scope, ref)
	if err != nil {
		return err
	}
	if err := a.endSessions(ctx, u.ID); err != nil {
		return err
	}
	a.record(ctx, EventLogoutAll, u, "by an administrator")
	return nil
}

// Delete deletes the account ref names the way its owner would (every
// token revoked first, then the record, then its consents). Returns
// ErrNoSuchUser, or an error wrapping storage.ErrUnavailable.
func (a *UserAdmin) Delete(ctx context.Context, scope AdminScope, ref string) error {
	u, err := a.find(ctx, scope, ref)
	if err != nil {
		return err
	}
	if err := a.remover.remove(ctx, u); err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			return ErrNoSuchUser // deleted meanwhile
		}
		return err
	}
	a.record(ctx, EventAccountDeleted, u, "by an administrator")
	return nil
}

// MFAReset removes the second factors of the user ref names (TOTP,
// recovery codes, passkeys), so a user who lost them can sign in with the
// password alone and enrol again. Returns ErrNoSuchUser, or an error
// wrapping storage.ErrUnavailable.
func (a *UserAdmin) MFAReset(ctx context.Context, scope AdminScope, ref string) error {
	u, err := a.find(ctx, scope, ref)
	if err != nil {
		return err
	}
	if a.mfa != nil {
		if err := a.mfa.Reset(ctx, u); err != nil {
			return err
		}
	}
	a.record(ctx, EventMFADisabled, u, "reset by an administrator")
	return nil
}

// maxUserRef bounds what find looks up: an email is at most 320 bytes.
const maxUserRef = 320

// find loads the user ref names — an email address (it has an @) or a
// user id — if scope reaches it. Returns ErrNoSuchUser otherwise.
func (a *UserAdmin) find(ctx context.Context, scope AdminScope, ref string) (storage.User, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" || len(ref) > maxUserRef {
		return storage.User{}, ErrNoSuchUser
	}
	var u storage.User
	var err error
	if strings.Contains(ref, "@") {
		parsed, perr := ParseEmail(ref)
		if perr != nil {
			return storage.User{}, ErrNoSuchUser
		}
		u, err = a.users.UserByEmail(ctx, parsed.Canonical)
	} else {
		u, err = a.users.UserByID(ctx, ref)
	}
	if isNotFound(err) {
		return storage.User{}, ErrNoSuchUser
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: find user: %w", err)
	}
	if !scope.Reaches(u.Domain) {
		return storage.User{}, ErrNoSuchUser
	}
	return u, nil
}

// record audits an administrator's action on u, with the actor, IP and
// user agent of the context (the CLI sets actor "cli", the admin API
// "client:<id>", whose id also fills ClientID).
func (a *UserAdmin) record(ctx context.Context, event string, u storage.User, detail string) {
	ri := RequestInfoFrom(ctx)
	clientID, ok := strings.CutPrefix(ri.Actor, ActorClient(""))
	if !ok {
		clientID = ""
	}
	a.audit.Record(ctx, AuditEvent{
		Time: a.now().UTC(), Event: event, UserID: u.ID, ClientID: clientID, Domain: u.Domain,
		Actor: ri.Actor, IP: ri.IP, UserAgent: ri.UserAgent, Detail: detail,
	})
}

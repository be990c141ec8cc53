package storage

import (
	"context"
	"time"

	"github.com/ulule/limiter/v3"
)

// UserStore keeps user accounts.
type UserStore interface {
	// CreateUser inserts u. Returns ErrExists when u.EmailCanonical is taken;
	// the database's unique index decides, so concurrent creates of one email
	// yield exactly one success.
	CreateUser(ctx context.Context, u *User) error
	// UserByID returns ErrNotFound for an unknown id.
	UserByID(ctx context.Context, id string) (User, error)
	// UserByEmail looks up by canonical email; returns ErrNotFound.
	UserByEmail(ctx context.Context, canonical string) (User, error)
	// UpdateUser writes the columns c names, and UpdatedAt, to user id in
	// one statement; every other column keeps what is stored, so concurrent
	// changes of different fields all survive (SEC-73). With
	// c.IfPasswordHash set it writes only while the stored hash equals it
	// and returns ErrConflict otherwise. Returns ErrNotFound for an unknown
	// id.
	UpdateUser(ctx context.Context, id string, c UserChange) error
	// DeleteUser removes the user. Returns ErrNotFound.
	DeleteUser(ctx context.Context, id string) error
	// ListUsers returns at most f.Limit users matching f, newest first
	// (CreatedAt descending, then ID descending), starting after
	// f.Cursor. Query is a literal substring of EmailCanonical (its LIKE
	// wildcards match only themselves).
	ListUsers(ctx context.Context, f UserFilter) ([]User, error)
}

// DomainStore keeps DomainCheck records, keyed by normalized domain.
type DomainStore interface {
	// PutDomain creates or replaces the record for r.Domain.
	PutDomain(ctx context.Context, r DomainRecord) error
	// DeleteDomain returns ErrNotFound when there is no record.
	DeleteDomain(ctx context.Context, domain string) error
	// ListDomains returns every record, ordered by domain. It reads the
	// whole table: for the CLI and tests, never the request path.
	ListDomains(ctx context.Context) ([]DomainRecord, error)
	// LookupDomains returns the records of those names that have one, in
	// no particular order, in one indexed query. No names, no query.
	LookupDomains(ctx context.Context, names []string) ([]DomainRecord, error)
	// ListDomainsPage returns at most limit records whose domain sorts
	// after after ("" = from the start) and contains q ("" = any), ordered
	// by domain: keyset paging, so a page costs the same anywhere in a
	// long list.
	ListDomainsPage(ctx context.Context, q, after string, limit int) ([]DomainRecord, error)
	// ImportDomains creates or replaces every record of recs, all or
	// nothing: on error no record of recs is written. A zero UpdatedAt
	// becomes now. A domain given twice counts twice (the last wins);
	// callers deduplicate. Returns an error for an empty domain.
	ImportDomains(ctx context.Context, recs []DomainRecord) (DomainImport, error)
}

// ClientStore keeps OAuth2 clients.
type ClientStore interface {
	// CreateClient returns ErrExists when c.ID is taken.
	CreateClient(ctx context.Context, c *Client) error
	// Client returns ErrNotFound.
	Client(ctx context.Context, id string) (Client, error)
	// ListClients returns the clients of domain ("" = all), ordered by
	// creation time then id.
	ListClients(ctx context.Context, domain string) ([]Client, error)
	// ListClientsByCreator returns the clients whose CreatedBy is userID,
	// ordered like ListClients. An empty userID matches nothing: clients
	// made by the CLI or an admin have no creator to list them.
	ListClientsByCreator(ctx context.Context, userID string) ([]Client, error)
	// DeleteClient returns ErrNotFound.
	DeleteClient(ctx context.Context, id string) error
	// RotateClientSecret makes hash the client's secret hash and keeps the
	// one it replaces as PrevSecretHash until prevExpiresAt, in one write,
	// so two rotations never lose the secret in between. Returns
	// ErrNotFound.
	RotateClientSecret(ctx context.Context, id string, hash []byte, prevExpiresAt time.Time) error
}

// KeyStore keeps signing keys.
type KeyStore interface {
	// CreateKey inserts k. Returns ErrExists when k.Generation or k.KID is
	// taken: of two nodes rotating at once, exactly one wins.
	CreateKey(ctx context.Context, k *SigningKey) error
	// ListKeys returns all keys ordered by Generation ascending.
	ListKeys(ctx context.Context) ([]SigningKey, error)
	// DeleteKey removes a key no longer published. Returns ErrNotFound.
	DeleteKey(ctx context.Context, kid string) error
}

// SessionStore keeps browser sessions, authorization codes, consent, mail
// tokens and pushed authorization requests: short-lived items that expire
// on their own.
type SessionStore interface {
	// CreateSession stores s until s.ExpiresAt.
	CreateSession(ctx context.Context, s Session) error
	// Session returns ErrNotFound for an unknown or expired id.
	Session(ctx context.Context, id string) (Session, error)
	// DeleteSession is idempotent.
	DeleteSession(ctx context.Context, id string) error

	// SaveCode stores c until c.ExpiresAt.
	SaveCode(ctx context.Context, c AuthCode) error
	// ConsumeCode returns the code and marks it used, atomically: of
	// concurrent calls exactly one succeeds. A later call for a used (not yet
	// expired) code returns the code with ErrReused; unknown or expired codes
	// give ErrNotFound.
	ConsumeCode(ctx context.Context, hash string) (AuthCode, error)

	// SaveConsent stores c until c.ExpiresAt, replacing an earlier one.
	SaveConsent(ctx context.Context, c Consent) error
	// Consent returns ErrNotFound when the user has not consented.
	Consent(ctx context.Context, userID, clientID string) (Consent, error)
	// DeleteUserConsents forgets every consent of the user (account deletion).
	DeleteUserConsents(ctx context.Context, userID string) error

	// SaveOneTimeToken stores t until t.ExpiresAt.
	SaveOneTimeToken(ctx context.Context, t OneTimeToken) error
	// ConsumeOneTimeToken returns and deletes the token atomically, only if
	// its purpose matches; otherwise ErrNotFound.
	ConsumeOneTimeToken(ctx context.Context, hash, purpose string) (OneTimeToken, error)

	// Pushed authorization requests (RFC 9126), pushed.go.
	PushedRequestStore
}

// RefreshStore keeps refresh-token families with rotation and reuse detection.
type RefreshStore interface {
	// CreateRefresh stores the first token of a new family, or the token of
	// an existing family that has no current token.
	CreateRefresh(ctx context.Context, t RefreshToken) error
	// RotateRefresh atomically checks that oldHash is the current token of
	// familyID, marks it used and stores next as the current token; it
	// returns the old token's record. If oldHash was already rotated, the
	// whole family is revoked and ErrReused is returned; of concurrent
	// rotations of one token at most one succeeds. Unknown, expired or
	// revoked tokens give ErrNotFound.
	RotateRefresh(ctx context.Context, familyID, oldHash string, next RefreshToken) (RefreshToken, error)
	// RefreshToken returns the record of a current token without rotating
	// it (for revocation and introspection). ErrNotFound otherwise.
	RefreshToken(ctx context.Context, familyID, hash string) (RefreshToken, error)
	// RevokeFamily deletes every token of the family. Idempotent.
	RevokeFamily(ctx context.Context, familyID string) error
}

// RevocationStore keeps revoked token ids and per-user "not before" times.
type RevocationStore interface {
	// Revoke marks id (a jti, or a sid for a whole session) revoked until
	// the given time, after which the entry may disappear.
	Revoke(ctx context.Context, id string, until time.Time) error
	// IsRevoked reports whether any of ids is revoked.
	IsRevoked(ctx context.Context, ids ...string) (bool, error)
	// SetNotBefore makes tokens and sessions of the user issued before t
	// invalid, except those of session spare ("" for none): a password
	// change ends every session but the caller's. The entry is kept until
	// `until`. A live entry is never moved backwards: a call with an
	// earlier t changes nothing; one with a later (or equal) t replaces
	// the spared session too.
	SetNotBefore(ctx context.Context, userID string, t, until time.Time, spare string) error
	// NotBefore returns the user's not-before time (zero when none) and
	// the session it spares ("" for none).
	NotBefore(ctx context.Context, userID string) (nb time.Time, spare string, err error)
}

// RateStore counts hits in fixed windows for rate limiting. It is a
// github.com/ulule/limiter/v3 store (memory or Redis), so the counting
// algorithm is the library's, shared by every node on Redis.
type RateStore = limiter.Store

// Pinger reports whether a backend answers; used by /readyz.
type Pinger interface {
	Ping(ctx context.Context) error
}

// AuditStore keeps the audit trail (SPEC §13): append-only rows, listed
// newest first and pruned by age.
type AuditStore interface {
	// AppendAuditEvents stores events in one multi-row insert; each gets a
	// fresh increasing ID. Times are kept at microsecond precision. An
	// empty slice does nothing.
	AppendAuditEvents(ctx context.Context, events []AuditEvent) error
	// ListAuditEvents returns up to f.Limit events matching f, ordered by
	// Time then ID, both descending, strictly after f.Cursor in that order
	// (a keyset page: no OFFSET, so a page costs the same however deep).
	ListAuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
	// PruneAuditEvents deletes the events older than before and returns
	// how many went.
	PruneAuditEvents(ctx context.Context, before time.Time) (int64, error)
}

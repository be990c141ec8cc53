package storage

import "time"

// User is a registered account. Email is kept as typed (trimmed, domain part
// normalized); EmailCanonical is the lower-cased whole address and carries the
// unique index, so uniqueness and lookup are case-insensitive.
type User struct {
	ID             string // UUID
	Email          string
	EmailCanonical string
	Domain         string // normalized domain part of Email
	PasswordHash   string // PHC argon2id string, or a legacy werkzeug hash until first login
	PhoneNum       string // E.164 with "+", "" when none
	Discoverable   bool
	IsActivated    bool
	// Disabled is set by an operator (SPEC §13): the user cannot sign in
	// and none of their tokens or sessions count.
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// LastLoginAt is the last successful sign-in, written at most once a
	// minute per user; nil when the user never signed in.
	LastLoginAt *time.Time
}

// UserFilter selects a page of users for ListUsers: newest first
// (CreatedAt, then ID, both descending), after Cursor.
type UserFilter struct {
	Domain string // exact normalized domain; "" = every domain
	Query  string // part of the canonical email, matched literally; "" = any
	Cursor UserCursor
	Limit  int // at most this many users; ≤ 0 means none
}

// UserCursor is where a page of ListUsers starts: the (CreatedAt, ID) of
// the last user of the previous page. The zero value starts at the newest.
// Keyset paging stays as cheap on the last page as on the first and does
// not skip or repeat users created meanwhile.
type UserCursor struct {
	CreatedAt time.Time
	ID        string
}

// IsZero reports whether c is the start of the list.
func (c UserCursor) IsZero() bool { return c.ID == "" && c.CreatedAt.IsZero() }

// UserChange is a write to some columns of a user (UserStore.UpdateUser).
// A nil field is not written. There is no whole-record write: a record read
// earlier and written back would undo whatever another request changed in
// between, such as a password reset (SEC-73).
type UserChange struct {
	PasswordHash *string
	PhoneNum     *string // "" clears it
	Discoverable *bool
	IsActivated  *bool
	Disabled     *bool
	// LastLoginAt records a sign-in. A change naming only it, with a
	// zero UpdatedAt, leaves updated_at alone: signing in does not
	// change the account.
	LastLoginAt *time.Time
	UpdatedAt   time.Time // written (zero means the store's now) except as above

	// IfPasswordHash, when set, makes the write conditional: it applies
	// only while the stored hash equals *IfPasswordHash, else nothing is
	// written and UpdateUser returns ErrConflict. A writer whose decision
	// rests on the hash it checked (a password change, a rehash) sets it,
	// so a password written meanwhile is never overwritten.
	IfPasswordHash *string
}

// Domain policy values of DomainRecord.BelongsTo, as in the original service.
const (
	DomainAllowed = 0
	DomainBlocked = 1
)

// DomainRecord is a DomainCheck row: a normalized domain and whether it is
// allowed (0) or blocked (1). A record covers the domain's subdomains.
type DomainRecord struct {
	Domain    string
	BelongsTo int
	// RequireMFA: users of the domain must complete a second factor at
	// every sign-in (SPEC §10). Only meaningful on an allowed record.
	RequireMFA bool
	UpdatedAt  time.Time
}

// Client is an OAuth2 client. SecretHash is a keyed hash of the secret (never
// the secret); it is empty for public clients. CreatedBy is the id of the
// user who registered it through /clients, "" for one made by the CLI or
// an admin: it decides who may list and delete the client and which tokens
// it may introspect (SPEC §5, §7). A private_key_jwt client (SPEC §11) has
// no secret but public keys: JWKS (a JWK Set, JSON) or JWKSURI to fetch
// them from, never both.
type Client struct {
	ID           string
	SecretHash   []byte
	Domain       string
	Name         string
	GrantTypes   []string
	Scopes       []string
	RedirectURIs []string
	Audiences    []string
	Public       bool
	Admin        bool
	Trusted      bool
	CreatedBy    string
	CreatedAt    time.Time
	JWKS         []byte
	JWKSURI      string
	// DPoP: every token request must carry a DPoP proof (SPEC §11).
	DPoP bool
	// RequirePAR: the client's authorization requests must be pushed
	// first (RFC 9126 §5, SPEC §12); plain ones are refused.
	RequirePAR bool
	// PrevSecretHash is the keyed hash of the secret a rotation replaced;
	// it authenticates the client while the clock is before
	// PrevSecretExpiresAt, and never after (SEC-64). Empty when none.
	PrevSecretHash      []byte
	PrevSecretExpiresAt time.Time
	// PostLogoutRedirectURIs are where RP-initiated logout may send the
	// browser back (exact match, SPEC §12); BackchannelLogoutURI receives
	// logout tokens ("" = none).
	PostLogoutRedirectURIs []string
	BackchannelLogoutURI   string
}

// SigningKey is one JWS signing key. Rows are immutable once written: the
// lifecycle (next → active → retired → gone) is derived from the timestamps of
// a key and of the key with the next Generation, so nodes agree without
// talking to each other.
type SigningKey struct {
	KID        string
	Generation int64 // unique, strictly increasing; guards concurrent rotation
	Alg        string
	Private    []byte // encrypted private key (AES-256-GCM), never plaintext
	Public     []byte // public JWK JSON
	CreatedAt  time.Time
	ActivateAt time.Time // may sign from this instant
	Emergency  bool      // on activation, every older key is withdrawn at once
}

// Session is a browser sign-in, referenced by the session cookie.
type Session struct {
	ID     string
	UserID string
	// SID names the session in ID tokens and logout tokens (SPEC §12):
	// random, unrelated to ID (the cookie's hash). "" for a session
	// created before sids existed.
	SID       string `json:",omitempty"`
	CSRFKey   []byte // per-session secret for form tokens, if the web layer wants one
	CreatedAt time.Time
	ExpiresAt time.Time
	// AMR says how the user signed in (RFC 8176, SPEC §10) and AuthTime
	// when; the code flow's step-up (acr_values, max_age) reads them. A
	// zero AuthTime means CreatedAt.
	AMR      []string  `json:",omitempty"`
	AuthTime time.Time `json:",omitempty"`
}

// RefreshToken is one link of a refresh-token family. Hash is a hash of the
// opaque token (never the token). All tokens of one family share FamilyID,
// which also names the family's keys in Redis (hash tag), and is the `sid`
// of access tokens minted from the family.
type RefreshToken struct {
	Hash            string
	FamilyID        string
	UserID          string
	ClientID        string
	Scope           string
	IssuedAt        time.Time
	ExpiresAt       time.Time // idle expiry of this token
	FamilyExpiresAt time.Time // absolute expiry of the family
	// JKT is the RFC 7638 thumbprint of the DPoP key the token is bound to
	// (SPEC §11); "" when unbound. Using a bound token needs a proof from
	// that key.
	JKT string `json:",omitempty"`
	// AMR and ACR are how the session's user signed in (SPEC §10):
	// every token of the family carries them, refreshed ones too.
	AMR []string `json:",omitempty"`
	ACR string   `json:",omitempty"`
}

// AuthCode is an OAuth2 authorization code (stored by hash, single use).
type AuthCode struct {
	Hash          string
	ClientID      string
	UserID        string
	RedirectURI   string
	Scope         string
	Nonce         string
	CodeChallenge string // S256 challenge; "" when the client used none
	FamilyID      string // family (and access-token sid) of the tokens minted from this code
	SID           string `json:",omitempty"` // browser session that approved it (ID-token sid)
	AuthTime      time.Time
	AMR           []string `json:",omitempty"` // the browser session's (SPEC §10)
	ExpiresAt     time.Time
}

// Consent records that a user approved scopes for a client.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	ExpiresAt time.Time
}

// OneTimeToken is a mail token (email verification, password reset), stored
// by hash and bound to its purpose.
type OneTimeToken struct {
	Hash      string
	Purpose   string // "verify-email" or "reset-password"
	UserID    string
	ExpiresAt time.Time
}

// OnlyLastLogin reports whether c writes nothing but LastLoginAt, and so
// leaves updated_at as stored (see UserChange.LastLoginAt).
func OnlyLastLogin(c UserChange) bool {
	return c.LastLoginAt != nil && c.UpdatedAt.IsZero() && c.PasswordHash == nil && c.PhoneNum == nil &&
		c.Discoverable == nil && c.IsActivated == nil && c.Disabled == nil && c.IfPasswordHash == nil
}

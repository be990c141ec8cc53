package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"user-registry/storage"
)

// The row types are private: the rest of the program sees storage records.
// Timestamps are written by this package (autoCreateTime/autoUpdateTime
// off), in UTC, so what a caller stores is what it reads back.

// The users list (ListUsers) pages newest first by keyset (created_at,
// id): ix_users_created serves the whole list, ix_users_domain_created one
// domain's. Disabled has a default and LastLoginAt is nullable so that
// AutoMigrate can add them to a table with rows (false, never).
type userRow struct {
	ID             string     `gorm:"primaryKey;size:36;index:ix_users_created,priority:2;index:ix_users_domain_created,priority:3"`
	Email          string     `gorm:"size:320;not null"`
	EmailCanonical string     `gorm:"size:320;not null;uniqueIndex:ux_users_email_canonical"`
	Domain         string     `gorm:"size:253;not null;index:ix_users_domain;index:ix_users_domain_created,priority:1"`
	PasswordHash   string     `gorm:"size:512;not null"`
	PhoneNum       string     `gorm:"size:32;not null"`
	Discoverable   bool       `gorm:"not null"`
	IsActivated    bool       `gorm:"not null"`
	Disabled       bool       `gorm:"not null;default:false"`
	CreatedAt      time.Time  `gorm:"not null;precision:6;autoCreateTime:false;index:ix_users_created,priority:1;index:ix_users_domain_created,priority:2"`
	UpdatedAt      time.Time  `gorm:"not null;precision:6;autoUpdateTime:false"`
	LastLoginAt    *time.Time `gorm:"precision:6"`
}

func (userRow) TableName() string { return "users" }

type domainRow struct {
	Domain    string `gorm:"primaryKey;size:253"`
	BelongsTo int    `gorm:"not null"`
	// RequireMFA has a default so that AutoMigrate can add it to a
	// table with rows: those domains required no second factor.
	RequireMFA bool      `gorm:"not null;default:false"`
	UpdatedAt  time.Time `gorm:"not null;precision:6;autoUpdateTime:false"`
}

func (domainRow) TableName() string { return "domain_checks" }

// clientRow keeps the list fields as JSON arrays in text columns: they are
// only ever read whole, never queried. Without a size they are TEXT on
// SQLite and LONGTEXT on MySQL, whose TEXT (64 KiB) is too small for a
// long redirect-URI list. CreatedBy has a default so that AutoMigrate can
// add it to a table that already has rows: those clients were made before
// /clients recorded creators, and "" (no creator) is the safe reading.
// JWKS (a private_key_jwt client's inline keys) is a nullable blob and
// JWKSURI defaults to "" for the same reason: older rows have neither.
type clientRow struct {
	ID           string    `gorm:"primaryKey;size:191"`
	SecretHash   []byte    `gorm:"size:255"`
	Domain       string    `gorm:"size:253;not null;index:ix_clients_domain"`
	Name         string    `gorm:"size:255;not null"`
	GrantTypes   string    `gorm:"not null"`
	Scopes       string    `gorm:"not null"`
	RedirectURIs string    `gorm:"not null"`
	Audiences    string    `gorm:"not null"`
	Public       bool      `gorm:"not null"`
	Admin        bool      `gorm:"not null"`
	Trusted      bool      `gorm:"not null"`
	CreatedBy    string    `gorm:"size:36;not null;default:'';index:ix_clients_created_by"`
	CreatedAt    time.Time `gorm:"not null;precision:6;index:ix_clients_created;autoCreateTime:false"`
	JWKS         []byte    `gorm:"column:jwks"`
	JWKSURI      string    `gorm:"column:jwks_uri;size:2048;not null;default:''"`
	// DPoP and the previous secret (SPEC §11) have defaults for the same
	// reason as CreatedBy: rows from before them read as "no DPoP
	// required" and "no previous secret".
	DPoP                bool       `gorm:"column:dpop;not null;default:false"`
	RequirePAR          bool       `gorm:"column:require_par;not null;default:false"` // SPEC §12; older rows: not required
	PrevSecretHash      []byte     `gorm:"size:255"`
	PrevSecretExpiresAt *time.Time `gorm:"precision:6"` // NULL when none (MySQL rejects zero dates)
	// Logout (SPEC §12): defaults so older rows read as "none registered".
	PostLogoutRedirectURIs string `gorm:"column:post_logout_redirect_uris;size:4096;not null;default:''"`
	BackchannelLogoutURI   string `gorm:"column:backchannel_logout_uri;size:2048;not null;default:''"`
}

func (clientRow) TableName() string { return "clients" }

type keyRow struct {
	KID        string `gorm:"column:kid;primaryKey;size:191"`
	Generation int64  `gorm:"not null;uniqueIndex:ux_signing_keys_generation"`
	Alg        string `gorm:"size:16;not null"`
	Private    []byte
	Public     string     `gorm:"type:text;not null"`
	CreatedAt  time.Time  `gorm:"not null;precision:6;autoCreateTime:false"`
	ActivateAt *time.Time `gorm:"precision:6"` // NULL for a zero time (MySQL rejects zero dates)
	Emergency  bool       `gorm:"not null"`
}

func (keyRow) TableName() string { return "signing_keys" }

func toUser(r userRow) storage.User {
	return storage.User{
		ID:             r.ID,
		Email:          r.Email,
		EmailCanonical: r.EmailCanonical,
		Domain:         r.Domain,
		PasswordHash:   r.PasswordHash,
		PhoneNum:       r.PhoneNum,
		Discoverable:   r.Discoverable,
		IsActivated:    r.IsActivated,
		Disabled:       r.Disabled,
		CreatedAt:      r.CreatedAt.UTC(),
		UpdatedAt:      r.UpdatedAt.UTC(),
		LastLoginAt:    utcPtr(r.LastLoginAt),
	}
}

// utcPtr returns a copy of *t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toDomain(r domainRow) storage.DomainRecord {
	return storage.DomainRecord{Domain: r.Domain, BelongsTo: r.BelongsTo, RequireMFA: r.RequireMFA, UpdatedAt: r.UpdatedAt.UTC()}
}

func toClient(r clientRow) (storage.Client, error) {
	c := storage.Client{
		ID:         r.ID,
		SecretHash: r.SecretHash,
		Domain:     r.Domain,
		Name:       r.Name,
		Public:     r.Public,
		Admin:      r.Admin,
		Trusted:    r.Trusted,
		CreatedBy:  r.CreatedBy,
		CreatedAt:  r.CreatedAt.UTC(),
		JWKS:       r.JWKS,
		JWKSURI:    r.JWKSURI,
		DPoP:       r.DPoP,
		RequirePAR: r.RequirePAR,

		BackchannelLogoutURI: r.BackchannelLogoutURI,

		PrevSecretHash:      r.PrevSecretHash,
		PrevSecretExpiresAt: fromNullTime(r.PrevSecretExpiresAt),
	}
	for _, f := range []struct {
		dst *[]string
		src string
	}{
		{&c.GrantTypes, r.GrantTypes},
		{&c.Scopes, r.Scopes},
		{&c.RedirectURIs, r.RedirectURIs},
		{&c.Audiences, r.Audiences},
		{&c.PostLogoutRedirectURIs, r.PostLogoutRedirectURIs},
	} {
		v, err := decodeList(f.src)
		if err != nil {
			return storage.Client{}, fmt.Errorf("sqlstore: client %q: %w", r.ID, err)
		}
		*f.dst = v
	}
	return c, nil
}

func toKey(r keyRow) storage.SigningKey {
	return storage.SigningKey{
		KID:        r.KID,
		Generation: r.Generation,
		Alg:        r.Alg,
		Private:    r.Private,
		Public:     []byte(r.Public),
		CreatedAt:  r.CreatedAt.UTC(),
		ActivateAt: fromNullTime(r.ActivateAt),
		Emergency:  r.Emergency,
	}
}

// encodeList stores a list as a JSON array; nil and empty both become "[]".
func encodeList(v []string) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode list column: %w", err)
	}
	return string(b), nil
}

// decodeList reads encodeList's output; an empty list decodes as nil.
func decodeList(s string) ([]string, error) {
	if s == "" || s == "[]" || s == "null" {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode list column: %w", err)
	}
	return v, nil
}

func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// toNullTime stores a zero time as NULL, others in UTC to the microsecond
// (the columns' precision), so what is written is what reads back.
func toNullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

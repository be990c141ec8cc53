package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"user-registry/storage"
)

// Page sizes of the users list (SPEC §13).
const (
	DefaultUserPage = 100
	MaxUserPage     = 500
)

// ErrBadCursor: a users-list cursor that this server did not hand out
// (400).
var ErrBadCursor = InvalidInput("Invalid cursor")

// UserMFA is the second factors of a user as the admin API shows them.
type UserMFA struct {
	TOTP     bool `json:"totp"`
	Passkeys int  `json:"passkeys"`
}

// UserEntry is a user as the admin API and `users show --json` show it
// (SPEC §13). PhoneNum and LastLoginAt are null when there are none;
// times are RFC 3339 in UTC.
type UserEntry struct {
	UserID      string  `json:"user_id"`
	Email       string  `json:"email"`
	Domain      string  `json:"domain"`
	PhoneNum    *string `json:"phone_num"`
	IsActivated bool    `json:"is_activated"`
	Disabled    bool    `json:"disabled"`
	MFA         UserMFA `json:"mfa"`
	CreatedAt   string  `json:"created_at"`
	LastLoginAt *string `json:"last_login_at"`
}

// NewUserEntry is u as UserEntry.
func NewUserEntry(u storage.User) UserEntry {
	e := UserEntry{
		UserID: u.ID, Email: u.Email, Domain: u.Domain, IsActivated: u.IsActivated, Disabled: u.Disabled,
		CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339),
	}
	if u.PhoneNum != "" {
		e.PhoneNum = &u.PhoneNum
	}
	if u.LastLoginAt != nil {
		at := u.LastLoginAt.UTC().Format(time.RFC3339)
		e.LastLoginAt = &at
	}
	return e
}

// UserList is a page of the users list: {"users":[...],"next_cursor"},
// next_cursor absent on the last page.
type UserList struct {
	Users      []UserEntry `json:"users"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

// UserQuery selects a page of users (GET /admin/users, `users list`).
type UserQuery struct {
	Domain string // exact domain (normalized here); "" = all the scope reaches
	Query  string // part of the email, case-insensitive
	Cursor string // next_cursor of the previous page; "" = first page
	Limit  int    // 0 = DefaultUserPage; at most MaxUserPage
}

// maxUserQuery bounds the email filter: no address is longer.
const maxUserQuery = 320

// List returns a page of the users scope reaches, newest first. A domain
// admin's list is confined to its domain: asking for another domain gives
// an empty list. Returns an error wrapping ErrInvalidInput (a limit above
// MaxUserPage or below 0, a malformed domain, a query too long, or
// ErrBadCursor), or an error wrapping storage.ErrUnavailable.
func (a *UserAdmin) List(ctx context.Context, scope AdminScope, q UserQuery) (UserList, error) {
	f, err := userFilter(q)
	if err != nil {
		return UserList{}, err
	}
	if !scope.All {
		if f.Domain != "" && f.Domain != scope.Domain || scope.Domain == "" {
			return UserList{Users: []UserEntry{}}, nil
		}
		f.Domain = scope.Domain
	}
	limit := f.Limit
	f.Limit++ // one more tells whether a next page exists
	users, err := a.users.ListUsers(ctx, f)
	if err != nil {
		return UserList{}, fmt.Errorf("provider: list users: %w", err)
	}
	out := UserList{Users: make([]UserEntry, 0, min(len(users), limit))}
	for i, u := range users {
		if i == limit {
			last := users[limit-1]
			out.NextCursor = encodeUserCursor(storage.UserCursor{CreatedAt: last.CreatedAt, ID: last.ID})
			break
		}
		e, err := a.entry(ctx, u)
		if err != nil {
			return UserList{}, err
		}
		out.Users = append(out.Users, e)
	}
	return out, nil
}

// userFilter checks q and turns it into the store's filter.
func userFilter(q UserQuery) (storage.UserFilter, error) {
	f := storage.UserFilter{Limit: q.Limit, Query: strings.ToLower(strings.TrimSpace(q.Query))}
	switch {
	case q.Limit == 0:
		f.Limit = DefaultUserPage
	case q.Limit < 0 || q.Limit > MaxUserPage:
		return f, InvalidInput(fmt.Sprintf("limit must be between 1 and %d", MaxUserPage))
	}
	if len(f.Query) > maxUserQuery {
		return f, InvalidInput("The query is too long")
	}
	if q.Domain != "" {
		d, err := NormalizeDomain(q.Domain)
		if err != nil {
			return f, err
		}
		f.Domain = d
	}
	if q.Cursor != "" {
		c, ok := decodeUserCursor(q.Cursor)
		if !ok {
			return f, ErrBadCursor
		}
		f.Cursor = c
	}
	return f, nil
}

// encodeUserCursor makes the opaque next_cursor: base64url of the last
// user's creation time (Unix nanoseconds) and id. It names a position in
// the list, not a user, so paging goes on if that user is deleted.
func encodeUserCursor(c storage.UserCursor) string {
	raw := strconv.FormatInt(c.CreatedAt.UnixNano(), 10) + " " + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// maxCursorLen bounds a cursor: 20 digits, a space, an id of 36.
const maxCursorLen = 128

// decodeUserCursor parses a cursor made by encodeUserCursor.
func decodeUserCursor(s string) (storage.UserCursor, bool) {
	if len(s) > maxCursorLen {
		return storage.UserCursor{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return storage.UserCursor{}, false
	}
	ns, id, ok := strings.Cut(string(raw), " ")
	if !ok || id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return storage.UserCursor{}, false
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil || n <= 0 {
		return storage.UserCursor{}, false
	}
	return storage.UserCursor{CreatedAt: time.Unix(0, n).UTC(), ID: id}, true
}

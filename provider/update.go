package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"user-registry/storage"
)

// UpdateInput is an /update request: the only fields a user may change
// (SEC-29). nil means "not given".
type UpdateInput struct {
	Phone        *string // "" clears the phone number
	Discoverable *bool
}

// Messages of Update, as the original service words them (SPEC §3).
const (
	MsgPhoneUpdated        = "Phone number updated"
	MsgDiscoverableUpdated = "Discoverable field updated"
	MsgNothingUpdated      = "Nothing to be updated"
)

// Update changes the phone number and/or the discoverable flag of userID.
// A field counts as changed only when its value differs; message lists the
// changes joined with ". " ("Phone number updated. Discoverable field
// updated"), or is "Nothing to be updated" with changed=false (the web
// layer answers 202 or 200 accordingly).
//
// Returns an error wrapping ErrInvalidInput for a bad phone number,
// ErrUnauthenticated when the user no longer exists, or an error wrapping
// storage.ErrUnavailable.
func (a *Accounts) Update(ctx context.Context, userID string, in UpdateInput) (message string, changed bool, err error) {
	var phone string
	if in.Phone != nil && *in.Phone != "" {
		if phone, err = ParsePhone(*in.Phone); err != nil {
			return "", false, err
		}
	}
	u, err := a.user(ctx, userID)
	if err != nil {
		return "", false, err
	}
	// Only the named columns are written: a password changed meanwhile
	// stays (SEC-73).
	var msgs []string
	change := storage.UserChange{UpdatedAt: a.now().UTC()}
	if in.Phone != nil && phone != u.PhoneNum {
		change.PhoneNum = &phone
		msgs = append(msgs, MsgPhoneUpdated)
	}
	if in.Discoverable != nil && *in.Discoverable != u.Discoverable {
		change.Discoverable = in.Discoverable
		msgs = append(msgs, MsgDiscoverableUpdated)
	}
	if len(msgs) == 0 {
		return MsgNothingUpdated, false, nil
	}
	if err := a.users.UpdateUser(ctx, u.ID, change); err != nil {
		if isNotFound(err) {
			return "", false, fmt.Errorf("%w: user no longer exists", ErrUnauthenticated)
		}
		return "", false, fmt.Errorf("provider: update user: %w", err)
	}
	return strings.Join(msgs, ". "), true, nil
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

package provider

import (
	"context"
	"time"

	"user-registry/storage"
)

// LastLoginEvery is the finest resolution of a user's last_login_at: a
// sign-in within this long of the stored one writes nothing, so a client
// that logs in on every request does not turn each into a database write.
const LastLoginEvery = time.Minute

// noteLogin records a successful sign-in of u as its LastLoginAt, unless
// the stored value (read by the login anyway) is less than LastLoginEvery
// old. Only that column is written (not updated_at: signing in does not
// change the account), so it never undoes a concurrent change (SEC-73).
// A failed write is logged: the sign-in itself stands.
func (a *Accounts) noteLogin(ctx context.Context, u *storage.User) {
	now := a.now().UTC()
	if u.LastLoginAt != nil {
		if age := now.Sub(*u.LastLoginAt); age >= 0 && age < LastLoginEvery {
			return
		}
	}
	if err := a.users.UpdateUser(ctx, u.ID, storage.UserChange{LastLoginAt: &now}); err != nil {
		a.log.WarnContext(ctx, "last login not stored", "user_id", u.ID, "err", err)
		return
	}
	u.LastLoginAt = &now
}

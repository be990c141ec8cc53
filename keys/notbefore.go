package keys

import "time"

// RevokedByNotBefore is the one rule for "ended by the user's not-before"
// (logout everywhere, a password change or reset; see
// storage.RevocationStore.SetNotBefore). Something issued strictly before
// a non-zero nb is revoked, unless it belongs to the session the
// not-before spares.
//
// sid names the session of what is checked: an access token's sid, a
// refresh family's id. Pass "" for something that is never the spared
// session: a browser session (the spare always names an API session, the
// caller of a password change), or a token not yet minted. spare is the
// session the not-before spares ("" for none).
//
// Access tokens carry iat in whole seconds, so one minted in the same
// second as the not-before reads as earlier and is revoked: the rule errs
// on the side of revocation.
func RevokedByNotBefore(issued time.Time, sid string, nb time.Time, spare string) bool {
	return !nb.IsZero() && issued.Before(nb) && (spare == "" || sid != spare)
}

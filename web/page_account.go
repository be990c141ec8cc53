package web

import (
	"net/http"
	"time"

	"user-registry/provider"
)

// pageAccount: GET /account, the signed-in user's details with the update
// form and the two logout buttons; signed-out browsers go to /login (303).
func (s *server) pageAccount(w http.ResponseWriter, r *http.Request) {
	u, sess, ok, err := s.currentUser(r)
	switch {
	case err != nil:
		s.renderFailure(w, r, err)
	case !ok:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	default:
		s.renderAccount(w, r, http.StatusOK, u, &sess, accountFlash(r.URL.Query()), "")
	}
}

func (s *server) renderAccount(w http.ResponseWriter, r *http.Request, status int, u provider.User, sess *provider.Session, flash, errMsg string) {
	s.renderAccountMFA(w, r, status, u, sess, flash, errMsg, nil)
}

// renderAccountMFA is renderAccount with the Security section's one-time
// content (an enrolment in progress, recovery codes to show once) set by
// edit.
func (s *server) renderAccountMFA(w http.ResponseWriter, r *http.Request, status int, u provider.User, sess *provider.Session,
	flash, errMsg string, edit func(*mfaView)) {
	view := s.accountMFA(r, u)
	if edit != nil {
		edit(view)
	}
	s.render(w, r, status, "account", pageData{
		Title: "Your account", SignedIn: true, CSRF: s.csrfToken(w, r, sess),
		Email: u.Email, Phone: u.PhoneNum, Discoverable: u.Discoverable, Flash: flash, Error: errMsg,
		Unverified: !u.IsActivated && s.cfg.Lifecycle != nil,
		Activity:   s.recentActivity(r, u.ID),
		MFA:        view,
	})
}

// recentActivityRows is how many events the account page lists.
const recentActivityRows = 20

// activityRow is one line of "Recent activity".
type activityRow struct {
	Time  string // RFC 3339, UTC
	Event string
	IP    string
}

// recentActivity returns the user's last events for the account page. The
// audit trail is an extra: when it cannot be read the page is shown
// without it, and the failure logged.
func (s *server) recentActivity(r *http.Request, userID string) []activityRow {
	if s.cfg.AuditLog == nil {
		return nil
	}
	list, err := s.cfg.AuditLog.Recent(r.Context(), userID, recentActivityRows)
	if err != nil {
		s.log.WarnContext(r.Context(), "recent activity not shown", "err", err)
		return nil
	}
	rows := make([]activityRow, len(list))
	for i, e := range list {
		rows[i] = activityRow{Time: e.Time.UTC().Format(time.RFC3339), Event: e.Event, IP: e.IP}
	}
	return rows
}

// signedInPost resolves the session of a form post that needs one and
// checks its CSRF token. It answers the request itself and returns ok
// false when the handler should stop: 503 when the store is down, 403 for
// a bad token, and 303 to /login for a signed-out browser whose post is
// otherwise valid (its token checked against the pre-session cookie, so
// every form post without a valid token is a 403 either way).
func (s *server) signedInPost(w http.ResponseWriter, r *http.Request) (provider.User, provider.Session, bool) {
	u, sess, ok, err := s.currentUser(r)
	switch {
	case err != nil:
		s.renderFailure(w, r, err)
		return u, sess, false
	case !ok:
		if !s.csrfValid(r, nil) {
			s.renderForbidden(w, r)
			return u, sess, false
		}
		s.endPageSession(w, r) // drop a dead cookie; the store may still hold the session
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return u, sess, false
	case !s.csrfValid(r, &sess):
		s.renderForbidden(w, r)
		return u, sess, false
	}
	return u, sess, true
}

// postUpdate: POST /update from the account page. The page is re-rendered
// (200) with the provider's message ("Phone number updated", "Nothing to
// be updated", ...), or with the error and its status (400 bad phone).
// phone_num is applied when the field is present ("" clears it);
// discoverable only when the form says it carries the checkbox
// (has_discoverable), since an unchecked box is simply absent.
func (s *server) postUpdate(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	var in provider.UpdateInput
	if r.PostForm.Has("phone_num") {
		phone := r.PostForm.Get("phone_num")
		in.Phone = &phone
	}
	if r.PostForm.Has("has_discoverable") {
		disc := formChecked(r.PostForm, "discoverable")
		in.Discoverable = &disc
	}
	msg, _, err := s.cfg.Accounts.Update(r.Context(), u.ID, in)
	if err != nil {
		status, emsg := s.pageError(w, r, err)
		s.renderAccount(w, r, status, u, &sess, "", emsg)
		return
	}
	if u, err = s.cfg.Accounts.Me(r.Context(), u.ID); err != nil {
		s.renderFailure(w, r, err)
		return
	}
	s.renderAccount(w, r, http.StatusOK, u, &sess, msg, "")
}

// postLogout: POST /logout ends this browser's session and clears its
// cookie, then 303 to /login.
func (s *server) postLogout(w http.ResponseWriter, r *http.Request) {
	u, _, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	if err := s.endPageSession(w, r); err != nil {
		s.renderFailure(w, r, err)
		return
	}
	s.auditor().Record(r.Context(), provider.AuditEvent{
		Event: provider.EventLogout, UserID: u.ID, Domain: u.Domain, Actor: provider.ActorUser, Detail: "browser session",
	})
	http.Redirect(w, r, "/login?logged_out=1", http.StatusSeeOther)
}

// postLogoutAll: POST /logout/all sets the user's not-before (every
// session, access and refresh token of the user issued before now is dead,
// on every node: SEC-13), deletes this session, and 303s to /login.
func (s *server) postLogoutAll(w http.ResponseWriter, r *http.Request) {
	u, _, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Accounts.LogoutAll(r.Context(), u.ID); err != nil {
		s.renderFailure(w, r, err)
		return
	}
	if err := s.endPageSession(w, r); err != nil {
		s.renderFailure(w, r, err)
		return
	}
	http.Redirect(w, r, "/login?logged_out=all", http.StatusSeeOther)
}

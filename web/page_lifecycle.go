package web

import (
	"errors"
	"net/http"
	"net/url"

	"user-registry/provider"
)

// Texts of the lifecycle pages.
const (
	msgVerificationSent = "We sent you a new verification link. Please check your mail."
	msgPasswordChanged  = "Your password has been changed. Your other sessions were signed out."
)

// accountFlash is the account page's message after a redirect: a fixed
// text picked by a flag, never text from the URL.
func accountFlash(q url.Values) string {
	if q.Get("password") == "changed" {
		return msgPasswordChanged
	}
	if q.Get("passkey") == "added" {
		return "Passkey added"
	}
	return ""
}

// routesLifecyclePages registers the §3a pages: change password and delete
// account (always), and, with a mailer, the forgot and reset forms and
// the account page's resend button. get and form are routesPages'
// registrars (GET pages; form posts with origin check and parsed body).
func (s *server) routesLifecyclePages(get, form func(path string, h http.HandlerFunc)) {
	form("/password", s.postChangePassword)
	form("/account/delete", s.postDeleteAccount)
	if s.cfg.Lifecycle == nil {
		return
	}
	get("/password/forgot", s.pageForgot)
	form("/password/forgot", s.postForgot)
	get("/password/reset", s.pageReset)
	form("/password/reset", s.postReset)
	form("/verify-email/resend", s.postResendVerification)
}

// pageForgot: GET /password/forgot, the "Find your account" form.
func (s *server) pageForgot(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "forgot", pageData{Title: "Find your account", CSRF: s.csrfToken(w, r, nil)})
}

// postForgot: POST /password/forgot from the form. The page says the same
// for every address (SEC-53); limits: per IP (shared with login and
// signup) and per address (provider).
func (s *server) postForgot(w http.ResponseWriter, r *http.Request) {
	if !s.csrfValid(r, nil) {
		s.renderForbidden(w, r)
		return
	}
	email := r.PostFormValue("email")
	show := func(status int, flash, errMsg string) {
		s.render(w, r, status, "forgot", pageData{Title: "Find your account", CSRF: s.csrfToken(w, r, nil),
			Email: email, Flash: flash, Error: errMsg})
	}
	err := s.pageIPLimit(r)
	if err == nil && email == "" {
		show(http.StatusBadRequest, "", "Please enter your email address.")
		return
	}
	if err == nil {
		err = s.cfg.Lifecycle.ForgotPassword(r.Context(), email)
	}
	if err != nil {
		status, msg := s.pageError(w, r, err)
		show(status, "", msg)
		return
	}
	show(http.StatusOK, msgForgotSent, "")
}

// pageReset: GET /password/reset?token=…, the new-password form. The token
// moves into a hidden field of the form (posted, never put in another
// URL). It is checked when the form is posted: looking it up now would
// need a read the store does not offer without consuming it.
func (s *server) pageReset(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	if tok == "" || len(tok) > 100 {
		s.renderBadResetLink(w, r)
		return
	}
	s.render(w, r, http.StatusOK, "reset", pageData{Title: "Choose a new password", CSRF: s.csrfToken(w, r, nil), Token: tok})
}

func (s *server) renderBadResetLink(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusBadRequest, "message", pageData{Title: "Link not valid", Heading: "Link not valid",
		Body: provider.Message(provider.ErrBadMailToken), LinkURL: "/password/forgot", LinkText: "Request a new link"})
}

// postReset: POST /password/reset from the form. A password the policy
// refuses re-renders the form (400, the link still works); a bad link is
// a 400 page; success ends this browser's session, if any (every session
// of the user is revoked, SEC-54) and 303s to the login page.
func (s *server) postReset(w http.ResponseWriter, r *http.Request) {
	if !s.csrfValid(r, nil) {
		s.renderForbidden(w, r)
		return
	}
	tok, pw := r.PostFormValue("token"), r.PostFormValue("password")
	fail := func(status int, msg string) {
		s.render(w, r, status, "reset", pageData{Title: "Choose a new password", CSRF: s.csrfToken(w, r, nil), Token: tok, Error: msg})
	}
	if err := s.pageIPLimit(r); err != nil {
		fail(s.pageError(w, r, err))
		return
	}
	if tok == "" {
		s.renderBadResetLink(w, r)
		return
	}
	if pw == "" || pw != r.PostFormValue("confirm_pass") {
		fail(http.StatusBadRequest, "Passwords don't match!")
		return
	}
	if _, err := s.cfg.Lifecycle.ResetPassword(r.Context(), tok, pw); err != nil {
		if errors.Is(err, provider.ErrBadMailToken) {
			s.pageError(w, r, err)
			s.renderBadResetLink(w, r)
			return
		}
		fail(s.pageError(w, r, err))
		return
	}
	if err := s.endPageSession(w, r); err != nil {
		s.log.WarnContext(r.Context(), "session not deleted after reset", "err", err)
	}
	http.Redirect(w, r, "/login?reset=1", http.StatusSeeOther)
}

// postChangePassword: POST /password from the account page (SPEC §3a).
// Every session of the user is revoked (SEC-54), this one included by the
// not-before, so the browser gets a fresh session and keeps working;
// 303 to /account with a confirmation. Failures re-render the account page
// with the JSON API's statuses (400 policy/mismatch, 401 wrong password,
// 429).
func (s *server) postChangePassword(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	current, next := f.Get("current_password"), f.Get("new_password")
	if current == "" || next == "" {
		s.renderAccount(w, r, http.StatusBadRequest, u, &sess, "", "Please enter your current and your new password.")
		return
	}
	if f.Has("confirm_pass") && f.Get("confirm_pass") != next {
		s.renderAccount(w, r, http.StatusBadRequest, u, &sess, "", "Passwords don't match!")
		return
	}
	nu, err := s.cfg.Accounts.SetPassword(r.Context(), u.ID, current, next)
	if err != nil {
		status, msg := s.pageError(w, r, err)
		s.renderAccount(w, r, status, u, &sess, "", msg)
		return
	}
	if err := s.startPageSession(w, r, nu); err != nil {
		s.renderFailure(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?password=changed", http.StatusSeeOther)
}

// postDeleteAccount: POST /account/delete with the password (SPEC §3a):
// deletes the account (Accounts.DeleteAccount: every token revoked first,
// its consents after), ends the session and 303s to the login page.
func (s *server) postDeleteAccount(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	pw := r.PostForm.Get("password")
	if pw == "" {
		s.renderAccount(w, r, http.StatusBadRequest, u, &sess, "", "Please enter your password to delete your account.")
		return
	}
	if err := s.cfg.Accounts.DeleteAccount(r.Context(), u.ID, pw); err != nil {
		status, msg := s.pageError(w, r, err)
		s.renderAccount(w, r, status, u, &sess, "", msg)
		return
	}
	if err := s.endPageSession(w, r); err != nil {
		s.log.WarnContext(r.Context(), "session of deleted user not removed", "user_id", u.ID, "err", err)
	}
	http.Redirect(w, r, "/login?deleted=1", http.StatusSeeOther)
}

// postResendVerification: POST /verify-email/resend from the account
// page's notice: a new link to the signed-in user's address.
func (s *server) postResendVerification(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Lifecycle.ResendVerification(r.Context(), u.Email); err != nil {
		status, msg := s.pageError(w, r, err)
		s.renderAccount(w, r, status, u, &sess, "", msg)
		return
	}
	flash := msgVerificationSent
	if u.IsActivated {
		flash = "Your email address is already verified."
	}
	s.renderAccount(w, r, http.StatusOK, u, &sess, flash, "")
}

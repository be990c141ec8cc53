package web

import (
	"net/http"
	"net/url"

	"user-registry/provider"
)

// Flash messages of the login page, chosen by a query flag set by the
// redirect that leads there (a flag, never a token or free text, so a
// crafted link can only show one of these fixed texts).
var loginFlashes = map[string]string{
	"signed_up=1":      "User created successfully. Please sign in.",
	"logged_out=1":     "You have been logged out.",
	"logged_out=all":   "You have been logged out everywhere.",
	"signed_up=verify": "User created successfully. We sent you a link to verify your email address. Please sign in.",
	"reset=1":          "Your password has been updated. Please sign in.",
	"deleted=1":        "Your account has been deleted.",
}

func loginFlash(q url.Values) string {
	for _, k := range []string{"signed_up", "logged_out", "reset", "deleted"} {
		if v := q.Get(k); v != "" {
			return loginFlashes[k+"="+v]
		}
	}
	return ""
}

// pageHome: GET / sends the browser to its account page when signed in,
// else to the login page (303).
func (s *server) pageHome(w http.ResponseWriter, r *http.Request) {
	_, _, ok, err := s.currentUser(r)
	switch {
	case err != nil:
		s.renderFailure(w, r, err)
	case ok:
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}
}

// pageLogin: GET /login, the Login dialog. A signed-in browser goes on at
// once to the pending authorization request or its account.
func (s *server) pageLogin(w http.ResponseWriter, r *http.Request) {
	next, _ := safeNext(r.URL.Query().Get("next"))
	_, _, ok, err := s.currentUser(r)
	if err != nil {
		s.renderFailure(w, r, err)
		return
	}
	if ok {
		http.Redirect(w, r, afterLogin(next), http.StatusSeeOther)
		return
	}
	s.allowFormRedirect(w, r, next) // the form may lead to a client's redirect URI (oauth_authorize.go)
	s.render(w, r, http.StatusOK, "login", pageData{
		Title: "Sign in", CSRF: s.csrfToken(w, r, nil), Next: next, Flash: loginFlash(r.URL.Query()),
	})
}

// afterLogin is where a successful sign-in goes: the pending
// /oauth2/authorize request (already checked by safeNext) or /account.
func afterLogin(next string) string {
	if next != "" {
		return next
	}
	return "/account"
}

// postLogin: POST /login (and POST /) from the login form. Failures
// re-render the form with the message and the status the JSON API uses
// (400 missing fields, 401 unknown user / wrong password — one generic
// text in generic mode, SEC-27 —, 403 unverified, 429 with Retry-After,
// 503). Success starts a session and redirects (303).
func (s *server) postLogin(w http.ResponseWriter, r *http.Request) {
	if !s.csrfValid(r, nil) {
		s.renderForbidden(w, r)
		return
	}
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	next, _ := safeNext(r.PostFormValue("next"))
	fail := func(status int, msg string) {
		s.allowFormRedirect(w, r, next)
		s.render(w, r, status, "login", pageData{
			Title: "Sign in", CSRF: s.csrfToken(w, r, nil), Next: next, Email: email, Error: msg,
		})
	}
	if err := s.pageIPLimit(r); err != nil {
		fail(s.pageError(w, r, err))
		return
	}
	if email == "" || password == "" {
		fail(http.StatusBadRequest, "Please enter your email and password.")
		return
	}
	u, err := s.cfg.Accounts.Authenticate(r.Context(), email, password)
	if err != nil {
		fail(s.pageError(w, r, s.loginError(err)))
		return
	}
	if s.cfg.MFA != nil {
		s.pageSecondStep(w, r, u, next, fail)
		return
	}
	if err := s.startPageSession(w, r, u); err != nil {
		s.renderFailure(w, r, err)
		return
	}
	http.Redirect(w, r, afterLogin(next), http.StatusSeeOther)
}

// pageSignup: GET /signup, the "Sign up now" form.
func (s *server) pageSignup(w http.ResponseWriter, r *http.Request) {
	next, _ := safeNext(r.URL.Query().Get("next"))
	s.render(w, r, http.StatusOK, "signup", pageData{Title: "Sign up", CSRF: s.csrfToken(w, r, nil), Next: next})
}

// postSignup: POST /signup from the form. Success redirects (303) to the
// login page with its success flash (and the pending next, so a user who
// signs up in the middle of an OAuth flow continues it). Failures
// re-render the form, keeping what was typed except the passwords, with
// the JSON API's statuses: 400 invalid input, 401 blocked domain, 202
// existing address ("User already exists. Please log in"), 429, 503.
func (s *server) postSignup(w http.ResponseWriter, r *http.Request) {
	if !s.csrfValid(r, nil) {
		s.renderForbidden(w, r)
		return
	}
	f := r.PostForm
	next, _ := safeNext(f.Get("next"))
	in := provider.SignupInput{Email: f.Get("email"), Password: f.Get("password")}
	confirm, phone, disc := f.Get("confirm_pass"), f.Get("phone_num"), formChecked(f, "discoverable")
	in.ConfirmPass, in.Phone, in.Discoverable = &confirm, &phone, &disc
	err := s.pageIPLimit(r)
	var u provider.User
	if err == nil {
		u, err = s.cfg.Accounts.Signup(r.Context(), in)
	}
	if err != nil {
		status, msg := s.pageError(w, r, err)
		s.render(w, r, status, "signup", pageData{
			Title: "Sign up", CSRF: s.csrfToken(w, r, nil), Next: next, Error: msg,
			Email: in.Email, Phone: phone, Discoverable: disc,
		})
		return
	}
	target := "/login?signed_up=1"
	if !u.IsActivated {
		// Activated at signup unless a mailer sends a verification link.
		target = "/login?signed_up=verify"
	}
	if next != "" {
		target += "&next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// formChecked reads an HTML checkbox: present with any value but "false",
// "0" or "off" means checked; absent means unchecked.
func formChecked(f url.Values, name string) bool {
	if !f.Has(name) {
		return false
	}
	switch f.Get(name) {
	case "false", "0", "off":
		return false
	}
	return true
}

package web

import (
	"net/http"

	"github.com/gorilla/mux"
)

// The pages' passkey routes (SPEC §10). static/passkeys.js calls them with
// fetch, posting forms (csrf_token like every other form of the pages,
// checked against the session or the pre-session cookie) and reading JSON
// answers; removal is a plain form. The rules are the provider's: these
// handlers only turn a cookie session into the user the JSON API would
// take from a Bearer token, and a finished sign-in into a browser session.

// errPageForm is a fetch post whose CSRF token or origin is refused (the
// JSON form of renderForbidden).
var errPageForm = clientMessage("This page has expired. Reload it and try again.")

// routesPasskeyPages registers the passkey form posts when passkeys are on.
func (s *server) routesPasskeyPages(form func(string, http.HandlerFunc)) {
	if s.cfg.Passkeys == nil || s.cfg.MFA == nil {
		return
	}
	form("/account/passkeys/begin", s.postPasskeyBegin)
	form("/account/passkeys/finish", s.postPasskeyFinish)
	form("/account/passkeys/{id}/delete", s.postPasskeyDelete)
	form("/login/passkey/session", s.postPasskeySession)
}

// passkeyPageUser is the signed-in user of a fetch post from the account
// page, with its CSRF token checked; it answers in JSON itself (401 signed
// out, 403 a bad token) and returns ok false when the handler should stop.
func (s *server) passkeyPageUser(w http.ResponseWriter, r *http.Request) (string, bool) {
	u, sess, ok, err := s.currentUser(r)
	switch {
	case err != nil:
		writeError(w, r, s.log, err)
		return "", false
	case !ok:
		writeError(w, r, s.log, errNoToken)
		return "", false
	case !s.csrfValid(r, &sess):
		writeError(w, r, s.log, errPageForm)
		return "", false
	}
	return u.ID, true
}

// postPasskeyBegin: POST /account/passkeys/begin (csrf_token, password) →
// the JSON of POST /mfa/passkeys/begin.
func (s *server) postPasskeyBegin(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.passkeyPageUser(w, r)
	if !ok {
		return
	}
	creation, err := s.cfg.Passkeys.BeginRegistration(r.Context(), userID, r.PostFormValue("password"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, passkeyCreationResponse{creation.Response})
}

// postPasskeyFinish: POST /account/passkeys/finish (csrf_token, name,
// credential: the RegistrationResponseJSON) → the JSON of POST
// /mfa/passkeys/finish.
func (s *server) postPasskeyFinish(w http.ResponseWriter, r *http.Request) {
	userID, ok := s.passkeyPageUser(w, r)
	if !ok {
		return
	}
	info, err := s.cfg.Passkeys.FinishRegistration(r.Context(), userID, r.PostFormValue("name"), []byte(r.PostFormValue("credential")))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, passkeyCreated{info.ID, info.Name, info.CreatedAt})
}

// postPasskeyDelete: POST /account/passkeys/{id}/delete (password), a
// plain form of the account page, which is shown again with the outcome.
func (s *server) postPasskeyDelete(w http.ResponseWriter, r *http.Request) {
	u, sess, ok := s.signedInPost(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Passkeys.Remove(r.Context(), u.ID, r.PostFormValue("password"), mux.Vars(r)["id"]); err != nil {
		status, msg := s.pageError(w, r, err)
		s.renderAccount(w, r, status, u, &sess, "", msg)
		return
	}
	s.renderAccount(w, r, http.StatusOK, u, &sess, "Passkey removed", "")
}

// passkeySignedIn is the answer of /login/passkey/session: where the
// script goes next.
type passkeySignedIn struct {
	Redirect string `json:"redirect"`
}

// postPasskeySession: POST /login/passkey/session (csrf_token, login_id,
// credential: the AuthenticationResponseJSON, next) finishes a sign-in
// begun at /login/passkey/begin, passwordless from the login page or the
// second factor from the two-factor page, and starts the browser session
// with its amr. The login and two-factor pages are signed out, so the
// token is the pre-session cookie's; the per-IP limit counts it like the
// login form.
func (s *server) postPasskeySession(w http.ResponseWriter, r *http.Request) {
	if !s.csrfValid(r, nil) {
		writeError(w, r, s.log, errPageForm)
		return
	}
	if err := s.pageIPLimit(r); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, amr, err := s.cfg.Passkeys.SignIn(r.Context(), r.PostFormValue("login_id"), []byte(r.PostFormValue("credential")))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.startPageSessionAMR(w, r, u, amr); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	next, _ := safeNext(r.PostFormValue("next"))
	writeJSON(w, http.StatusOK, passkeySignedIn{afterLogin(next)})
}

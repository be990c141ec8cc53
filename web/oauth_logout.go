package web

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"user-registry/provider"
	"user-registry/storage"
)

// RP-initiated logout (SPEC §12, SEC-65): GET or POST /oauth2/logout with
// id_token_hint, client_id, post_logout_redirect_uri and state. Apps post
// to it from their own origin, so it takes no CSRF token: with a valid
// hint it ends the session at once (the hint is the proof the app signed
// this user in); without one the user confirms on a page whose form
// (POST /oauth2/logout/confirm) carries the session's CSRF token. The
// browser goes back to the app only to a post-logout URI the app
// registered, exactly; otherwise it sees the signed-out page.

// routesLogout registers the end-session endpoint and its confirmation.
func (s *server) routesLogout(r *mux.Router) {
	if s.cfg.EndSession == nil || s.pages == nil {
		return
	}
	r.Handle("/oauth2/logout", noStore(http.HandlerFunc(s.endSession))).
		Methods(http.MethodGet, http.MethodHead, http.MethodPost)
	r.Handle("/oauth2/logout/confirm", noStore(s.formPost(s.confirmEndSession))).
		Methods(http.MethodPost).MatcherFunc(isFormPost)
	s.oauthWrongMethod(r, "GET, HEAD, POST", "/oauth2/logout")
	s.oauthWrongMethod(r, "POST", "/oauth2/logout/confirm")
}

// logoutView is the confirmation form's hidden fields.
type logoutView struct {
	ClientID, PostLogoutRedirectURI, State string
}

// logoutParams reads the request's parameters (the query, or a form body).
func logoutParams(r *http.Request) provider.EndSessionRequest {
	return provider.EndSessionRequest{
		IDTokenHint:           r.Form.Get("id_token_hint"),
		ClientID:              r.Form.Get("client_id"),
		PostLogoutRedirectURI: r.Form.Get("post_logout_redirect_uri"),
		State:                 r.Form.Get("state"),
	}
}

// endSession: GET|POST /oauth2/logout.
func (s *server) endSession(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderLogoutRefused(w, r, "The logout request could not be read.")
		return
	}
	req := logoutParams(r)
	plan, ok := s.checkLogout(w, r, req)
	if !ok {
		return
	}
	if !plan.Confirm() {
		s.finishLogout(w, r, plan)
		return
	}
	_, sess, signedIn, err := s.currentUser(r)
	if err != nil {
		s.renderFailure(w, r, err)
		return
	}
	if !signedIn {
		// Nobody to sign out: nothing to confirm.
		s.finishLogout(w, r, plan)
		return
	}
	s.render(w, r, http.StatusOK, "logout_confirm", pageData{
		Title: "Sign out", Heading: "Sign out?", SignedIn: true,
		Body: "An application asked to sign you out of this identity provider. Sign out now?",
		CSRF: s.csrfToken(w, r, &sess),
		Logout: &logoutView{ClientID: req.ClientID, PostLogoutRedirectURI: req.PostLogoutRedirectURI,
			State: req.State},
	})
}

// confirmEndSession: POST /oauth2/logout/confirm, the confirmation form.
func (s *server) confirmEndSession(w http.ResponseWriter, r *http.Request) {
	_, sess, signedIn, err := s.currentUser(r)
	if err != nil {
		s.renderFailure(w, r, err)
		return
	}
	var bound *provider.Session
	if signedIn {
		bound = &sess
	}
	if !s.csrfValid(r, bound) {
		s.renderForbidden(w, r)
		return
	}
	req := logoutParams(r)
	req.IDTokenHint = "" // the form never carries one
	plan, ok := s.checkLogout(w, r, req)
	if ok {
		s.finishLogout(w, r, plan)
	}
}

// checkLogout checks a request; on refusal it renders the page and
// reports false.
func (s *server) checkLogout(w http.ResponseWriter, r *http.Request, req provider.EndSessionRequest) (provider.EndSessionPlan, bool) {
	plan, err := s.cfg.EndSession.Check(r.Context(), req)
	if err == nil {
		return plan, true
	}
	if errors.Is(err, provider.ErrInvalidRequest) {
		s.renderLogoutRefused(w, r, provider.Message(err))
	} else {
		s.renderFailure(w, r, err)
	}
	return provider.EndSessionPlan{}, false
}

// finishLogout ends the sign-in of plan, clears the cookie and sends the
// browser back to the app, or shows the signed-out page.
func (s *server) finishLogout(w http.ResponseWriter, r *http.Request, plan provider.EndSessionPlan) {
	value, _ := s.sessionCookie(r)
	if err := s.cfg.EndSession.End(r.Context(), plan, value); err != nil {
		s.renderFailure(w, r, err)
		return
	}
	if value != "" {
		if _, _, still, err := s.cfg.Sessions.Validate(r.Context(), value); err == nil && !still {
			http.SetCookie(w, s.pageCookie(r, s.sessionCookieName(r), "", -1))
		} else if errors.Is(err, storage.ErrUnavailable) {
			s.renderFailure(w, r, err)
			return
		}
	}
	if plan.RedirectURL != "" {
		redirectTo(w, plan.RedirectURL)
		return
	}
	s.render(w, r, http.StatusOK, "message", pageData{
		Title: "Signed out", Heading: "You are signed out",
		Body:    "You have been signed out. You can close this window.",
		LinkURL: "/login", LinkText: "Sign in again",
	})
}

// renderLogoutRefused is the page of a refused logout request (400): a
// bad hint, an unknown client. Nothing was ended.
func (s *server) renderLogoutRefused(w http.ResponseWriter, r *http.Request, msg string) {
	s.render(w, r, http.StatusBadRequest, "oauth_error", pageData{
		Title: "Sign-out request refused", Heading: "This sign-out request cannot be completed",
		Body: msg, LinkURL: "/account", LinkText: "Go to your account",
	})
}

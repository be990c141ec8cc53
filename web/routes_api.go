package web

import (
	"net/http"

	"github.com/gorilla/mux"
)

// routesAPI registers the JSON user API of SPEC §3 and the JSON parts of
// §3a (signup, login, logout, update, me, refresh, password change, account
// deletion).
//
// The pages share some of these paths (/signup, /login, /, /update,
// /logout, /logout/all, /password) for their form posts, so those routes
// match only non-form requests (isJSONRequest); since these routes are
// registered first, a JSON request never reaches a page handler and a form
// post never reaches these. Paths no page posts to (/refresh, /me) take
// every request, so a form post there gets the JSON 415.
//
// Every answer is Cache-Control: no-store: most carry tokens or personal
// data, and the rest are errors that must not be cached either.
func (s *server) routesAPI(r *mux.Router) {
	if s.cfg.Accounts == nil {
		return
	}
	limited := s.ipLimit()
	open := func(h http.HandlerFunc) http.Handler { return noStore(s.audited(h)) }
	bearer := func(h http.HandlerFunc) http.Handler { return noStore(s.requireBearer(s.audited(h))) }
	shared := func(path string, h http.Handler, methods ...string) {
		r.Handle(path, h).Methods(methods...).MatcherFunc(isJSONRequest)
	}

	shared("/signup", limited(open(s.apiSignup)), http.MethodPost)
	shared("/login", limited(open(s.apiLogin)), http.MethodPost)
	shared("/", limited(open(s.apiLogin)), http.MethodPost) // the original's login URL
	r.Handle("/refresh", open(s.apiRefresh)).Methods(http.MethodPost)

	shared("/logout", bearer(s.apiLogout), http.MethodPost, http.MethodGet, http.MethodDelete)
	shared("/logout/all", bearer(s.apiLogoutAll), http.MethodPost)
	shared("/update", bearer(s.apiUpdate), http.MethodPost, http.MethodPatch)
	shared("/password", bearer(s.apiChangePassword), http.MethodPost)
	r.Handle("/me", bearer(s.apiMe)).Methods(http.MethodGet)
	r.Handle("/me", bearer(s.apiDeleteAccount)).Methods(http.MethodDelete)
	s.routesLifecycleAPI(r, limited) // verify, resend, forgot, reset (api_lifecycle.go)
	s.routesAdminUsers(r)            // /admin/users (admin_users.go)
	s.routesMFA(r, limited)          // /login/mfa, /mfa (api_mfa.go)
}

// isJSONRequest is the matcher that leaves form posts to the pages: every
// request is the JSON API's unless its Content-Type is a form encoding. A
// request with no or another Content-Type stays here, where decodeJSON
// answers 415 if it needed a JSON body.
func isJSONRequest(r *http.Request, m *mux.RouteMatch) bool {
	return !isFormPost(r, m)
}

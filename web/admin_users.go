package web

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// routesAdminUsers registers the user part of the admin API (SPEC §13):
// registry:admin and domain:admin tokens (requireAdminScope); a domain
// admin reaches its own domain's users only, others are 404 (SEC-69).
func (s *server) routesAdminUsers(r *mux.Router) {
	if s.cfg.UserAdmin == nil || s.tokens == nil {
		return
	}
	a := &adminUsersAPI{s: s, users: s.cfg.UserAdmin}
	admin := func(h http.HandlerFunc) http.Handler { return noStore(s.requireBearer(s.requireAdminScope(h))) }
	r.Handle("/admin/users", admin(a.list)).Methods(http.MethodGet)
	r.Handle("/admin/users/{id}", admin(a.show)).Methods(http.MethodGet)
	r.Handle("/admin/users/{id}", admin(a.patch)).Methods(http.MethodPatch)
	r.Handle("/admin/users/{id}", admin(a.remove)).Methods(http.MethodDelete)
	r.Handle("/admin/users/{id}/logout", admin(a.logout)).Methods(http.MethodPost)
	r.Handle("/admin/users/{id}/mfa", admin(a.resetMFA)).Methods(http.MethodDelete)
}

// adminUsersAPI decodes the admin users requests, calls provider.UserAdmin
// with the caller's scope, and encodes its answers.
type adminUsersAPI struct {
	s     *server
	users *provider.UserAdmin
}

// errBadLimit: a limit that is not a whole number (400).
var errBadLimit = provider.InvalidInput("limit must be a whole number")

// list: GET /admin/users?domain=&q=&limit=&cursor= → {"users","next_cursor"}.
func (a *adminUsersAPI) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := provider.UserQuery{Domain: q.Get("domain"), Query: q.Get("q"), Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			a.fail(w, r, errBadLimit)
			return
		}
		in.Limit = n
		if n == 0 { // 0 is not "the default" when asked for explicitly
			a.fail(w, r, provider.InvalidInput("limit must be between 1 and 500"))
			return
		}
	}
	out, err := a.users.List(r.Context(), adminScopeFrom(r.Context()), in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// show: GET /admin/users/{id} → the user.
func (a *adminUsersAPI) show(w http.ResponseWriter, r *http.Request) {
	u, err := a.users.Show(r.Context(), adminScopeFrom(r.Context()), mux.Vars(r)["id"])
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// patch: PATCH /admin/users/{id} {"disabled":bool} → the user as stored.
func (a *adminUsersAPI) patch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Disabled *bool `json:"disabled"`
	}
	if err := decodeJSON(r, &body); err != nil {
		a.fail(w, r, err)
		return
	}
	if body.Disabled == nil {
		a.fail(w, r, provider.InvalidInput("disabled (true or false) is required"))
		return
	}
	u, err := a.users.SetDisabled(r.Context(), adminScopeFrom(r.Context()), mux.Vars(r)["id"], *body.Disabled)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// remove: DELETE /admin/users/{id} → 204.
func (a *adminUsersAPI) remove(w http.ResponseWriter, r *http.Request) {
	a.noContent(w, r, a.users.Delete(r.Context(), adminScopeFrom(r.Context()), mux.Vars(r)["id"]))
}

// logout: POST /admin/users/{id}/logout → 204.
func (a *adminUsersAPI) logout(w http.ResponseWriter, r *http.Request) {
	a.noContent(w, r, a.users.Logout(r.Context(), adminScopeFrom(r.Context()), mux.Vars(r)["id"]))
}

// resetMFA: DELETE /admin/users/{id}/mfa → 204.
func (a *adminUsersAPI) resetMFA(w http.ResponseWriter, r *http.Request) {
	a.noContent(w, r, a.users.MFAReset(r.Context(), adminScopeFrom(r.Context()), mux.Vars(r)["id"]))
}

func (a *adminUsersAPI) noContent(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *adminUsersAPI) fail(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, a.s.log, err)
}

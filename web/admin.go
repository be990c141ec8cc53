package web

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// adminAPI serves the domain admin API (SPEC §4, SEC-35): authority tokens
// of admin clients only. Errors are {"message"} bodies: 401 without a valid
// token (requireBearer), 403 with a token lacking registry:admin.
type adminAPI struct{ s *server }

// requireAdmin admits registry:admin tokens only (adminScopeOf): the
// domain records are the whole registry's, so a domain admin gets 403.
func (a *adminAPI) requireAdmin(next http.HandlerFunc) http.HandlerFunc {
	return a.s.metrics.countAdminAction(func(w http.ResponseWriter, r *http.Request) {
		scope, err := a.s.adminScopeOf(r)
		if err == nil && !scope.All {
			err = provider.ErrForbidden
		}
		if err != nil {
			writeError(w, r, a.s.log, err)
			return
		}
		next(w, r)
	})
}

// listDomains: GET /admin/domains?limit=&cursor=&q= → one page (SPEC §13).
func (a *adminAPI) listDomains(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, r, a.s.log, provider.ErrBadDomainLimit)
			return
		}
		limit = n
	}
	out, err := a.s.cfg.DomainAdmin.Page(r.Context(), q.Get("q"), q.Get("cursor"), limit)
	if err != nil {
		writeError(w, r, a.s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// putDomain: PUT /admin/domains/{domain} {"belongs_to":0|1,"require_mfa"?} → 200 the
// record (its domain normalized).
func (a *adminAPI) putDomain(w http.ResponseWriter, r *http.Request) {
	var body struct {
		BelongsTo  *int `json:"belongs_to"`
		RequireMFA bool `json:"require_mfa"`
	}
	if err := decodeJSON(r, &body); err != nil {
		writeError(w, r, a.s.log, err)
		return
	}
	if body.BelongsTo == nil {
		writeError(w, r, a.s.log, provider.ErrBadBelongsTo)
		return
	}
	rec, err := a.s.cfg.DomainAdmin.Put(r.Context(), mux.Vars(r)["domain"], *body.BelongsTo, body.RequireMFA)
	if err != nil {
		writeError(w, r, a.s.log, err)
		return
	}
	claims, _ := claimsFrom(r.Context())
	a.s.log.InfoContext(r.Context(), "domain record set", "domain", rec.Domain, "belongs_to", rec.BelongsTo, "client_id", claims.ClientID)
	writeJSON(w, http.StatusOK, rec)
}

// deleteDomain: DELETE /admin/domains/{domain} → 204; 404 without a record.
func (a *adminAPI) deleteDomain(w http.ResponseWriter, r *http.Request) {
	d, err := a.s.cfg.DomainAdmin.Remove(r.Context(), mux.Vars(r)["domain"])
	if err != nil {
		writeError(w, r, a.s.log, err)
		return
	}
	claims, _ := claimsFrom(r.Context())
	a.s.log.InfoContext(r.Context(), "domain record removed", "domain", d, "client_id", claims.ClientID)
	w.WriteHeader(http.StatusNoContent)
}

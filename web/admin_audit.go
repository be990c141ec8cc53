package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// routesAudit registers GET /admin/audit (SPEC §13) when an audit log is
// configured.
func (s *server) routesAudit(r *mux.Router) {
	if s.cfg.AuditLog == nil || s.tokens == nil {
		return
	}
	a := &adminAPI{s: s}
	r.Handle("/admin/audit", noStore(s.requireBearer(s.requireAdminScope(a.listAudit)))).Methods(http.MethodGet)
}

// auditScope is the domain whose events the caller may see, "" for every
// domain: registry:admin sees all, a domain:admin client exactly its own
// domain's (SPEC §13, SEC-69). requireAdminScope has refused every other
// caller, so the zero scope never reaches here.
func auditScope(sc provider.AdminScope) string {
	if sc.All {
		return ""
	}
	return sc.Domain
}

// listAudit: GET /admin/audit?user=&domain=&event=&since=&limit=&cursor=
// → {"events":[…],"next_cursor"}, newest first. limit defaults to 100 and
// may be at most 500; a bad limit, cursor, event, domain, time or an
// unknown email is a 400.
func (a *adminAPI) listAudit(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := provider.AuditQuery{User: v.Get("user"), Domain: v.Get("domain"), Event: v.Get("event"), Cursor: v.Get("cursor")}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			writeError(w, r, a.s.log, provider.InvalidInput("limit must be between 1 and 500"))
			return
		}
		q.Limit = n
	}
	since, err := provider.ParseSince(v.Get("since"), time.Now())
	if err != nil {
		writeError(w, r, a.s.log, err)
		return
	}
	q.Since = since
	page, err := a.s.cfg.AuditLog.ListFor(r.Context(), q, auditScope(adminScopeFrom(r.Context())))
	if err != nil {
		writeError(w, r, a.s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

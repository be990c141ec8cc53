package web

import (
	"net/http"

	"github.com/gorilla/mux"
)

// routesOAuth registers the OAuth2 endpoints, client registration and the
// admin API (SPEC §4, §5, §7).
func (s *server) routesOAuth(r *mux.Router) {
	s.routesTokenInfo(r) // /userinfo, /oauth2/revoke, /oauth2/introspect (oauth_revoke.go)
	if s.cfg.DomainAdmin != nil && s.tokens != nil {
		a := &adminAPI{s: s}
		admin := func(h http.HandlerFunc) http.Handler {
			return noStore(s.requireBearer(a.requireAdmin(s.auditedAdmin(h))))
		}
		r.Handle("/admin/domains", admin(a.listDomains)).Methods(http.MethodGet)
		r.Handle("/admin/domains/{domain}", admin(a.putDomain)).Methods(http.MethodPut)
		r.Handle("/admin/domains/{domain}", admin(a.deleteDomain)).Methods(http.MethodDelete)
	}
	if s.cfg.Clients != nil {
		c := &clientsAPI{s: s}
		user := func(h http.HandlerFunc) http.Handler { return noStore(s.requireBearer(s.audited(c.requireUser(h)))) }
		r.Handle("/clients", user(c.create)).Methods(http.MethodPost)
		r.Handle("/clients", user(c.list)).Methods(http.MethodGet)
		r.Handle("/clients/{id}", user(c.delete)).Methods(http.MethodDelete)
		if s.cfg.SecretRotation != nil {
			r.Handle("/clients/{id}/secret", user(c.rotateSecret)).Methods(http.MethodPost) // clients_secret.go
		}
	}
	if s.cfg.ClientAuth == nil {
		return
	}
	r.Handle("/oauth2/token", &tokenEndpoint{log: s.log, auth: s.cfg.ClientAuth, grants: s.newCodeGrants(),
		exchange: s.cfg.Federation, device: s.cfg.Device}).Methods(http.MethodPost)
	r.Handle("/authority-token", &tokenEndpoint{log: s.log, auth: s.cfg.ClientAuth, jsonBody: true}).Methods(http.MethodPost)
	s.oauthWrongMethod(r, "POST", "/oauth2/token", "/authority-token")
}

// oauthWrongMethod answers every other method on paths with 405 in the RFC
// 6749 error shape that SPEC §2 prescribes for /oauth2/* and
// /authority-token (the router's own fallback answers {"message"}). Call it
// after the paths' own routes: the router tries routes in order.
func (s *server) oauthWrongMethod(r *mux.Router, allow string, paths ...string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeOAuthError(w, r, s.log, errMethod)
	})
	for _, p := range paths {
		r.Handle(p, h)
	}
}

package web

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"user-registry/keys"
	"user-registry/provider"
)

// routesOAuth registers the OAuth2 endpoints, client registration and the
// admin API (SPEC §4, §5, §7).
func (s *server) routesOAuth(r *mux.Router) {
	s.routesTokenInfo(r) // /userinfo, /oauth2/revoke, /oauth2/introspect (oauth_revoke.go)
	if s.cfg.DomainAdmin != nil && s.tokens != nil {
		a := &adminAPI{s: s}
		admin := func(h http.HandlerFunc) http.Handler { return noStore(s.requireBearer(a.requireAdmin(h))) }
		r.Handle("/admin/domains", admin(a.listDomains)).Methods(http.MethodGet)
		r.Handle("/admin/domains/{domain}", admin(a.putDomain)).Methods(http.MethodPut)
		r.Handle("/admin/domains/{domain}", admin(a.deleteDomain)).Methods(http.MethodDelete)
	}
	if s.cfg.Clients == nil {
		return
	}
	c := &clientsAPI{s: s}
	user := func(h http.HandlerFunc) http.Handler { return noStore(s.requireBearer(c.requireUser(h))) }
	r.Handle("/clients", user(c.create)).Methods(http.MethodPost)
	r.Handle("/clients", user(c.list)).Methods(http.MethodGet)
	r.Handle("/clients/{id}", user(c.delete)).Methods(http.MethodDelete)

	limit, err := provider.NewRateLimiter(s.cfg.Rate, s.cfg.LimitClient)
	if err != nil {
		// cmd validates --limit-client; a bad value here is a wiring bug.
		// Refuse tokens (503) rather than issue them unlimited.
		s.log.Error("per-client rate limit unusable; token endpoints disabled", "err", err)
		down := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeOAuthError(w, r, s.log, errLimiterConfig)
		})
		r.Handle("/oauth2/token", down).Methods(http.MethodPost)
		r.Handle("/authority-token", down).Methods(http.MethodPost)
		s.oauthWrongMethod(r, "POST", "/oauth2/token", "/authority-token")
		return
	}
	// go-oauth2's token model wants a lifetime; the JWT's own exp (from
	// keys.Tokens) is what counts and what expires_in reports.
	ttl := keys.DefaultTokenTTL
	if t, ok := s.tokens.(interface{ AccessTTL() time.Duration }); ok {
		ttl = t.AccessTTL()
	}
	srv := newGoOAuth2(s.cfg.Clients, &authorityGenerator{clients: s.cfg.Clients, limit: limit}, ttl)
	r.Handle("/oauth2/token", &tokenEndpoint{log: s.log, srv: srv, grants: s.newCodeGrants(limit)}).Methods(http.MethodPost)
	r.Handle("/authority-token", &tokenEndpoint{log: s.log, srv: srv, jsonBody: true}).Methods(http.MethodPost)
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

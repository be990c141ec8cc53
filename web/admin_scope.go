package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"user-registry/provider"
)

// adminScopeOf authorizes the bearer token of r (verified by
// requireBearer) for the admin API and returns what it reaches (SPEC §13,
// SEC-69):
//
//   - registry:admin → every user, audit event and domain record;
//   - domain:admin → the users and audit events of the client's own
//     domain, exactly (not its subdomains).
//
// The token must have been issued to a client (a user token never is: it
// carries an email and its sub is a user), be meant for this server (aud
// has the issuer, so a token an admin client got for another audience
// cannot be replayed here by that audience), and its client must still
// hold the scope, so deleting the client stops its tokens within the
// client cache TTL instead of at their expiry. The domain comes from the
// client record, not the token. Returns provider.ErrForbidden (403)
// otherwise, or a store error (503).
func (s *server) adminScopeOf(r *http.Request) (provider.AdminScope, error) {
	claims, _ := claimsFrom(r.Context())
	if claims.Email != "" || claims.ClientID == "" || claims.Subject != claims.ClientID ||
		!slices.Contains(claims.Audience, s.cfg.Issuer) {
		return provider.AdminScope{}, provider.ErrForbidden
	}
	scopes := strings.Fields(claims.Scope)
	all := slices.Contains(scopes, provider.ScopeAdmin)
	if !all && !slices.Contains(scopes, provider.ScopeDomainAdmin) {
		return provider.AdminScope{}, provider.ErrForbidden
	}
	domain := claims.Domain
	if s.cfg.Clients != nil {
		c, err := s.cfg.Clients.Lookup(r.Context(), claims.ClientID)
		if err != nil && !errors.Is(err, provider.ErrBadClient) {
			return provider.AdminScope{}, err
		}
		if err != nil {
			return provider.AdminScope{}, provider.ErrForbidden
		}
		switch {
		case all && !c.Admin:
			return provider.AdminScope{}, provider.ErrForbidden
		case !all && !slices.Contains(c.Scopes, provider.ScopeDomainAdmin):
			return provider.AdminScope{}, provider.ErrForbidden
		}
		domain = c.Domain
	}
	if all {
		return provider.AllUsers, nil
	}
	if domain == "" {
		return provider.AdminScope{}, provider.ErrForbidden
	}
	return provider.AdminScope{Domain: domain}, nil
}

type adminScopeKey struct{}

// adminScopeFrom returns the scope requireAdminScope stored; the zero
// value, which reaches nobody, when there is none.
func adminScopeFrom(ctx context.Context) provider.AdminScope {
	sc, _ := ctx.Value(adminScopeKey{}).(provider.AdminScope)
	return sc
}

// requireAdminScope admits registry:admin and domain:admin tokens
// (adminScopeOf) and passes on a context that carries the scope
// (adminScopeFrom) and, for the audit trail, the request's IP, user agent
// and actor "client:<id>" (provider.RequestInfo). For the user part of the
// admin API and /admin/audit; /admin/domains uses requireAdmin.
func (s *server) requireAdminScope(next http.HandlerFunc) http.HandlerFunc {
	return s.metrics.countAdminAction(func(w http.ResponseWriter, r *http.Request) {
		scope, err := s.adminScopeOf(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		ctx := context.WithValue(r.Context(), adminScopeKey{}, scope)
		ctx = provider.WithRequestInfo(ctx, s.adminRequestInfo(r))
		next(w, r.WithContext(ctx))
	})
}

// adminRequestInfo is the RequestInfo of an admin request: what the
// context has already, with the calling client as actor.
func (s *server) adminRequestInfo(r *http.Request) provider.RequestInfo {
	ri := provider.RequestInfoFrom(r.Context())
	claims, _ := claimsFrom(r.Context())
	ri.Actor = provider.ActorClient(claims.ClientID)
	if ri.IP == "" {
		if ip := clientIP(r, s.cfg.TrustedProxies); ip.IsValid() {
			ri.IP = ip.String()
		}
	}
	if ri.UserAgent == "" {
		ri.UserAgent = r.UserAgent()
	}
	return ri
}

package web

import (
	"net/http"
	"unicode/utf8"

	"user-registry/provider"
)

// maxUserAgent bounds the User-Agent kept with an audit event: enough for
// any real browser's, and a client cannot store kilobytes per request.
const maxUserAgent = 255

// Details of the rate_limited events recorded here (the provider records
// the per-account and per-client limits).
const detailIPLimit = "ip limit"

// auditor is the Auditor of Config (NopAuditor when none).
func (s *server) auditor() provider.Auditor {
	if s.cfg.Audit == nil {
		return provider.NopAuditor{}
	}
	return s.cfg.Audit
}

// requestInfo is who sent r, as audit events record it: the client IP
// after the trusted-proxy rule (SEC-38) and the User-Agent, cut to
// maxUserAgent bytes.
func (s *server) requestInfo(r *http.Request, actor string) provider.RequestInfo {
	ri := provider.RequestInfo{UserAgent: r.UserAgent(), Actor: actor}
	if a := clientIP(r, s.cfg.TrustedProxies); a.IsValid() {
		ri.IP = a.String()
	}
	if len(ri.UserAgent) > maxUserAgent {
		n := maxUserAgent
		for n > 0 && !utf8.RuneStart(ri.UserAgent[n]) {
			n--
		}
		ri.UserAgent = ri.UserAgent[:n]
	}
	return ri
}

// audited puts the request's RequestInfo (actor: the user) on the
// context of the routes whose use cases record audit events: the account
// API and pages and /clients. It is deliberately not on the routes that
// never record (discovery, JWKS, the client_credentials grant), which
// would pay a context allocation per request for nothing.
func (s *server) audited(next http.Handler) http.Handler {
	if s.cfg.Audit == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := provider.WithRequestInfo(r.Context(), s.requestInfo(r, provider.ActorUser))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// auditedAdmin is audited for the admin API, after requireAdmin: the
// actor is the calling client.
func (s *server) auditedAdmin(next http.HandlerFunc) http.HandlerFunc {
	if s.cfg.Audit == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		claims, _ := claimsFrom(r.Context())
		ctx := provider.WithRequestInfo(r.Context(), s.requestInfo(r, provider.ActorClient(claims.ClientID)))
		next(w, r.WithContext(ctx))
	}
}

// auditIPLimited records a refusal by the per-IP limit. Called on the
// refusal path only; the writer keeps one event per address a minute.
func (s *server) auditIPLimited(r *http.Request) {
	if s.cfg.Audit == nil {
		return
	}
	e := provider.AuditEvent{Event: provider.EventRateLimited, Detail: detailIPLimit}
	ri := s.requestInfo(r, provider.ActorUser)
	e.IP, e.UserAgent, e.Actor = ri.IP, ri.UserAgent, ri.Actor
	s.cfg.Audit.Record(r.Context(), e)
}

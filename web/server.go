package web

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/mux"

	"user-registry/provider"
	"user-registry/web/openapi"
)

// Config is what New needs. Fields are filled by cmd; nil optional parts
// leave their routes out.
type Config struct {
	Log *slog.Logger
	// Ready maps backend names ("database", "sessions") to their pingers.
	Ready map[string]Pinger

	Issuer     string        // iss of tokens, base of discovery URLs
	Keys       jwksSource    // *keys.Manager
	Tokens     tokenVerifier // *keys.Tokens
	JWKSMaxAge time.Duration // Cache-Control max-age of the JWKS

	// The user API and pages (SPEC §3, §8).
	Accounts *provider.Accounts
	Policy   *provider.DomainPolicy
	// DomainAdmin changes the domain records for the admin API (SPEC §4);
	// nil leaves /admin/domains out.
	DomainAdmin *provider.DomainAdmin
	// UserAdmin administers users for the admin API (SPEC §13); nil
	// leaves /admin/users out.
	UserAdmin *provider.UserAdmin
	// MFA owns second factors (SPEC §10): /login asks it for the second
	// step, and /login/mfa and /mfa exist, when it is set.
	MFA *provider.MFA
	// Passkeys owns WebAuthn credentials (SPEC §10); nil (passkeys off)
	// leaves /mfa/passkeys/*, /login/passkey/* and the pages' passkey
	// buttons out. It needs MFA.
	Passkeys *provider.Passkeys
	// Clients registers OAuth clients (SPEC §5); nil leaves /clients out.
	Clients *provider.Clients
	// ClientAuth authenticates the calling client of the token endpoints,
	// /oauth2/revoke, /oauth2/introspect and /oauth2/par, applies the per-client rate
	// limit and issues authority tokens (SPEC §5, §7); nil leaves those
	// endpoints out.
	ClientAuth *provider.ClientAuth
	// CodeFlow serves /oauth2/authorize, the consent page and the
	// authorization_code and refresh_token grants (SPEC §7); nil leaves
	// them out. It needs the pages (Accounts, Sessions), and its grants
	// at the token endpoint need ClientAuth.
	CodeFlow *provider.CodeFlow
	// Sessions owns browser sign-ins (create, validate, end); nil leaves
	// the pages out.
	Sessions *provider.Sessions
	// EndSession serves RP-initiated logout at /oauth2/logout (SPEC §12);
	// nil leaves it out. It needs the pages.
	EndSession *provider.EndSession
	// IPLimit is the per-client-IP limit (--limit-ip) on /login, /signup
	// and /, JSON and form posts alike; nil: no limit.
	IPLimit *provider.RateLimiter
	// GenericLoginErrors selects --login-errors generic (SEC-27).
	GenericLoginErrors bool
	// TrustedProxies are the networks whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (SEC-38).
	TrustedProxies []netip.Prefix
	// TLS is true when the server terminates TLS itself (--tls-cert).
	TLS bool
	// Federation runs the token-exchange grant of /oauth2/token (SPEC §11);
	// nil: that grant is unsupported.
	Federation *provider.Federation
	// Lifecycle sends verification and reset mails (SPEC §3a); nil (no
	// mailer) leaves /verify-email, /password/forgot and /password/reset
	// out.
	Lifecycle *provider.Lifecycle
	// Audit records the events of the web layer itself (the per-IP limit,
	// browser logout); the routes that audit carry a RequestInfo only
	// when it is set. Its Stats, when it has them (*provider.AuditWriter),
	// are exported on /metrics. nil: nothing recorded.
	Audit provider.Auditor
	// AuditLog serves GET /admin/audit and the account page's recent
	// activity; nil leaves both out.
	AuditLog *provider.AuditLog
	// DPoP verifies DPoP proofs at /login, /refresh and the resource
	// endpoints (SPEC §11; the token endpoints use ClientAuth's); nil
	// refuses every proof and every bound token.
	DPoP *provider.DPoP
	// SecretRotation rotates client secrets for POST /clients/{id}/secret;
	// nil leaves the route out.
	SecretRotation *provider.SecretRotation
	// Device runs the device authorization grant (SPEC §12): its endpoint
	// and token grant (with ClientAuth) and the /device page (with the
	// pages); nil leaves them out.
	Device *provider.DeviceFlow
}

// server holds the dependencies of the handlers.
type server struct {
	cfg     Config
	log     *slog.Logger
	ready   map[string]Pinger
	metrics *metrics
	tokens  tokenVerifier
	pages   *pages // HTML pages, sessions and CSRF (routes_pages.go)
}

// New returns the HTTP handler of the whole product.
func New(cfg Config) http.Handler {
	s := &server{cfg: cfg, log: cfg.Log, ready: cfg.Ready, metrics: newMetrics(), tokens: cfg.Tokens}
	s.metrics.registerAudit(cfg.Audit)
	if s.log == nil {
		s.log = discardLogger()
	}
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, errNotFound)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, errMethod)
	})
	r.Use(routeLabel)
	r.HandleFunc("/healthz", healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet, http.MethodHead)
	if cfg.Policy != nil {
		s.metrics.watchDomainPolicy(cfg.Policy)
	}
	r.Handle("/metrics", s.metrics.handler()).Methods(http.MethodGet)
	r.HandleFunc("/openapi.json", serveOpenAPI).Methods(http.MethodGet, http.MethodHead)
	if cfg.Keys != nil {
		wk := newWellKnown(cfg.Keys, cfg.Issuer, int(cfg.JWKSMaxAge.Seconds()), s.log)
		r.HandleFunc("/.well-known/jwks.json", wk.jwks).Methods(http.MethodGet, http.MethodHead)
		r.HandleFunc("/.well-known/openid-configuration", wk.discoveryDoc).Methods(http.MethodGet, http.MethodHead)
		r.HandleFunc("/.well-known/oauth-authorization-server", wk.discoveryDoc).Methods(http.MethodGet, http.MethodHead)
	}
	s.routesAPI(r)
	s.routesPages(r)
	s.routesOAuth(r)
	s.routesCodeFlow(r) // /oauth2/authorize and the consent page (oauth_authorize.go)
	s.routesLogout(r)   // /oauth2/logout (oauth_logout.go)
	s.routesAudit(r)    // GET /admin/audit (admin_audit.go)
	s.routesDevice(r)   // the device grant and the /device page (oauth_device.go)
	methodFallbacks(r, func(w http.ResponseWriter, r *http.Request) { writeError(w, r, s.log, errMethod) })

	// Logging, metrics, recovery and security headers around the router,
	// with a shortcut past it for the hot paths (hotpath.go).
	return newFront(s.log, s.metrics, s.pageSecure, r)
}

func routeLabel(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slot, ok := r.Context().Value(routeKey{}).(*string); ok {
			if route := mux.CurrentRoute(r); route != nil {
				*slot, _ = route.GetPathTemplate()
			}
		}
		next.ServeHTTP(w, r)
	})
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(openapi.Document)
}

// methodFallbacks answers 405 for a known path asked with a method no route
// takes. gorilla/mux reports 405 on its own only when every route of a path
// fails on the method alone; the API and page routes of one path also
// differ by content type, so without this a wrong method looked like 404.
// Registered last, each fallback catches only what no real route matched.
func methodFallbacks(r *mux.Router, h http.HandlerFunc) {
	seen := map[string]bool{}
	_ = r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if tpl, err := route.GetPathTemplate(); err == nil && !seen[tpl] {
			seen[tpl] = true
		}
		return nil
	})
	for tpl := range seen {
		r.Handle(tpl, h)
	}
}

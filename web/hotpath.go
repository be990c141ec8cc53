package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
)

// hotPaths are the exact paths that carry the load of a deployment: every
// resource server fetches the well-known documents, every service asks for
// tokens. For them the router's work per request (trying route after
// route, regular expressions, three request copies to carry the route and
// its label in the context) cost more than the documents themselves. Each
// is a fixed path without variables whose routes differ only by method.
var hotPaths = []string{
	"/oauth2/token",
	"/authority-token",
	"/.well-known/jwks.json",
	"/.well-known/openid-configuration",
	"/.well-known/oauth-authorization-server",
}

// hotMethods are the methods the shortcut is taken for; any other goes
// through the router. A method a path does not serve is in the table too,
// with the path's wrong-method handler, as the router would dispatch it.
var hotMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost}

// hotRoute is what the router would dispatch one hot path to, by method.
type hotRoute struct {
	label   string // the route template, the metrics label the router gives
	methods map[string]http.Handler
}

// front is the outermost handler: the request log, metrics, panic recovery
// and security headers around either a hot route's handler, taken straight
// from the table, or the router. The table is built by asking the router
// itself (Match) what it would run for each hot path and method, so the
// shortcut serves exactly what the router would: the same handler (with
// whatever another part of the server registered there), the same label;
// only the router's bookkeeping is skipped.
type front struct {
	log       *slog.Logger
	metrics   *metrics
	overHTTPS func(*http.Request) bool
	router    *mux.Router
	hot       map[string]*hotRoute
}

func newFront(log *slog.Logger, m *metrics, overHTTPS func(*http.Request) bool, router *mux.Router) *front {
	f := &front{log: log, metrics: m, overHTTPS: overHTTPS, router: router, hot: map[string]*hotRoute{}}
	for _, p := range hotPaths {
		for _, method := range hotMethods {
			req, err := http.NewRequest(method, p, nil)
			if err != nil {
				continue
			}
			var match mux.RouteMatch
			if !router.Match(req, &match) || match.MatchErr != nil || match.Route == nil || len(match.Vars) > 0 {
				continue // left to the router
			}
			label, err := match.Route.GetPathTemplate()
			if err != nil || label != p {
				continue
			}
			hr := f.hot[p]
			if hr == nil {
				hr = &hotRoute{label: label, methods: map[string]http.Handler{}}
				f.hot[p] = hr
			}
			hr.methods[method] = match.Route.GetHandler()
		}
	}
	return f
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hr := f.hot[r.URL.Path]; hr != nil {
		if h := hr.methods[r.Method]; h != nil {
			serveLogged(f.log, f.metrics, f.overHTTPS, w, r, &hr.label, h)
			return
		}
	}
	// Everything else: the router records the matched route's template in
	// the slot (routeLabel) for the metrics label.
	slot := new(string)
	r = r.WithContext(context.WithValue(r.Context(), routeKey{}, slot))
	serveLogged(f.log, f.metrics, f.overHTTPS, w, r, slot, f.router)
}

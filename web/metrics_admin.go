package web

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
)

// newAdminActions is user_registry_admin_actions_total (SPEC §13): the
// admin API's changes (every method but GET and HEAD) by route and
// outcome, so an operator can alert on a burst of disables or deletions
// without parsing the audit trail. Labels are the route template and a
// three-valued outcome: bounded.
func newAdminActions() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "user_registry_admin_actions_total",
		Help: "Admin API changes by action (method and route) and outcome (ok, refused, error).",
	}, []string{"action", "outcome"})
}

// countAdminAction counts the request in user_registry_admin_actions_total
// once next has answered it. Reads are not actions and are not counted.
func (m *metrics) countAdminAction(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		next(sw, r)
		action := r.Method
		if route := mux.CurrentRoute(r); route != nil {
			if tpl, err := route.GetPathTemplate(); err == nil {
				action += " " + tpl
			}
		}
		m.adminActions.WithLabelValues(action, outcome(sw.status)).Inc()
	}
}

// outcome names a status code's class for the admin actions metric.
func outcome(status int) string {
	switch {
	case status == 0 || status < 400:
		return "ok"
	case status < 500:
		return "refused"
	default:
		return "error"
	}
}

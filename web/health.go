package web

import (
	"context"
	"net/http"
	"time"
)

// Pinger is a backend that /readyz checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when every backend answers within a second; the
// body names the failing ones but never the error text (it may hold DSNs).
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	checks := map[string]string{}
	ready := true
	for name, p := range s.ready {
		if err := p.Ping(ctx); err != nil {
			s.log.WarnContext(ctx, "readiness check failed", "backend", name, "err", err)
			checks[name] = "unavailable"
			ready = false
			continue
		}
		checks[name] = "ok"
	}
	status, code := "ok", http.StatusOK
	if !ready {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}

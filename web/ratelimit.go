package web

import (
	"errors"
	"net/http"

	"user-registry/provider"
)

// ipLimit returns middleware counting every request against the client IP's
// budget (Config.IPLimit, SPEC §3, SEC-38). The counters live in the
// limiter's shared store, so every node counts together; every route wrapped
// by ipLimit, and the form posts of the pages (pageIPLimit), share one budget
// per address, since the counter is keyed by address only. Over the limit
// the answer is 429 with Retry-After; when the counter store is down, 503
// (fail closed).
func (s *server) ipLimit() func(http.Handler) http.Handler {
	rl := s.cfg.IPLimit
	if !rl.Enabled() {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := ipRateKey(clientIP(r, s.cfg.TrustedProxies))
			if _, err := rl.Allow(r.Context(), key); err != nil {
				if errors.Is(err, provider.ErrRateLimited) {
					s.auditIPLimited(r)
				}
				writeError(w, r, s.log, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

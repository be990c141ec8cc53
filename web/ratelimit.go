package web

import (
	"fmt"
	"net/http"

	"user-registry/provider"
	"user-registry/storage"
)

// defaultLimitIP is --limit-ip's default (SPEC §1), used when Config.LimitIP
// is empty.
const defaultLimitIP = "120/1m"

// errLimiterConfig is answered (503) by a rate-limited route whose limiter
// could not be built: refusing is safer than serving without the limit.
var errLimiterConfig = fmt.Errorf("rate limiter not configured: %w", storage.ErrUnavailable)

// ipLimit returns middleware counting every request against the client IP's
// budget (Config.LimitIP, SPEC §3, SEC-38). The counters live in Config.Rate,
// so every node shares them; every route wrapped by one ipLimit shares one
// budget per address, and so do separately built ipLimits, since the counter
// is keyed by address only. Over the limit the answer is 429 with
// Retry-After; when the counter store is down, 503 (fail closed).
func (s *server) ipLimit() func(http.Handler) http.Handler {
	spec := s.cfg.LimitIP
	if spec == "" {
		spec = defaultLimitIP
	}
	rl, err := provider.NewRateLimiter(s.cfg.Rate, spec)
	if err != nil {
		// cmd validates the flag, so this is a wiring bug: say so once and
		// refuse the limited routes rather than run them unlimited.
		s.log.Error("per-IP rate limit unusable; limited routes answer 503", "limit", spec, "err", err)
		return func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeError(w, r, s.log, errLimiterConfig)
			})
		}
	}
	if !rl.Enabled() {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := ipRateKey(clientIP(r, s.cfg.TrustedProxies))
			if _, err := rl.Allow(r.Context(), key); err != nil {
				writeError(w, r, s.log, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

package web

import (
	"log/slog"
	"net/http"
	"time"
)

// hsts is the Strict-Transport-Security value sent over HTTPS. One year is
// the usual floor of guidance (and of browsers' preload lists) and long
// enough to cover users who come back rarely. includeSubDomains covers
// only names under the issuer's own host, which the operator controls; it
// stops a plain-http subdomain from being used to set cookies on the
// issuer's host on the wire. preload is left out: it is a commitment for a
// whole registrable domain that only the operator can make.
const hsts = "max-age=31536000; includeSubDomains"

// securityHeaders sets the headers every response carries (SEC-41).
// Referrer-Policy is same-origin: under no-referrer browsers send
// "Origin: null" on form posts, which would defeat the CSRF origin check.
// Strict-Transport-Security goes only on responses that reach the browser
// over HTTPS, as overHTTPS decides (the session cookie's rule): on plain
// http browsers ignore it, and a peer that is not a trusted proxy cannot
// earn it with X-Forwarded-Proto.
func securityHeaders(overHTTPS func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
			if overHTTPS(r) {
				h.Set("Strict-Transport-Security", hsts)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// noStore marks responses that carry tokens or personal data as uncacheable.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// recoverAndLog turns a panic into a generic 500 (never a stack trace to
// the client), and logs one line per request. Only the path is logged:
// query strings may carry codes or tokens (SEC-43).
func recoverAndLog(log *slog.Logger, m *metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				if v := recover(); v != nil {
					log.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", v)
					if sw.status == 0 {
						writeJSON(sw, http.StatusInternalServerError, message{"Internal server error"})
					}
				}
				m.observe(r, sw.status, time.Since(start))
				if log.Enabled(r.Context(), slog.LevelDebug) || sw.status >= 500 {
					log.LogAttrs(r.Context(), slog.LevelInfo, "request",
						slog.String("method", r.Method), slog.String("path", r.URL.Path),
						slog.Int("status", sw.status), slog.Duration("took", time.Since(start)))
				}
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

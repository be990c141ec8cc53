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

// The security headers' values, built once. Header.Set would allocate a
// fresh one-element slice per header and response; every response shares
// these instead. That is safe because nothing edits a header value in
// place: Set replaces the slice and Add appends, which copies a full slice.
var (
	hdrNosniff    = []string{"nosniff"}
	hdrSameOrigin = []string{"same-origin"}
	hdrDeny       = []string{"DENY"}
	hdrCSP        = []string{"default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}
	hdrHSTS       = []string{hsts}

	hdrJSON    = []string{"application/json"}
	hdrNoStore = []string{"no-store"}
	hdrNoCache = []string{"no-cache"}
)

// setSecurityHeaders sets the headers every response carries (SEC-41);
// front and serveLogged call it for every request. Referrer-Policy is
// same-origin: under no-referrer browsers send "Origin: null" on form
// posts, which would defeat the CSRF origin check.
// Strict-Transport-Security goes only on responses that reach the browser
// over HTTPS (https, from the session cookie's rule, pageSecure): on plain
// http browsers ignore it, and a peer that is not a trusted proxy cannot
// earn it with X-Forwarded-Proto. The keys are in canonical form already.
func setSecurityHeaders(h http.Header, https bool) {
	h["X-Content-Type-Options"] = hdrNosniff
	h["Referrer-Policy"] = hdrSameOrigin
	h["X-Frame-Options"] = hdrDeny
	h["Content-Security-Policy"] = hdrCSP
	if https {
		h["Strict-Transport-Security"] = hdrHSTS
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
// query strings may carry codes or tokens (SEC-43). The route label for
// the metrics is the slot in the request context (withRouteSlot).
func recoverAndLog(log *slog.Logger, m *metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			route, _ := r.Context().Value(routeKey{}).(*string)
			serveLogged(log, m, nil, w, r, route, next)
		})
	}
}

// serveLogged is recoverAndLog for one request whose route label is (or,
// once next has run, will be) *route; nil or empty means "other". With
// overHTTPS it also sets the security headers (setSecurityHeaders) before
// next runs. Nothing of the log line is built unless it is written: only
// debug logging or a 5xx writes it.
func serveLogged(log *slog.Logger, m *metrics, overHTTPS func(*http.Request) bool,
	w http.ResponseWriter, r *http.Request, route *string, next http.Handler) {
	if overHTTPS != nil {
		setSecurityHeaders(w.Header(), overHTTPS(r))
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			log.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", v)
			if sw.status == 0 {
				writeJSON(sw, http.StatusInternalServerError, message{"Internal server error"})
			}
		}
		took := time.Since(start)
		label := "other"
		if route != nil && *route != "" {
			label = *route
		}
		m.observe(label, sw.status, took)
		if sw.status >= 500 || log.Enabled(r.Context(), slog.LevelDebug) {
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Duration("took", took))
		}
	}()
	next.ServeHTTP(sw, r)
}

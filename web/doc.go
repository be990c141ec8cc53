// Package web is the HTTP face of user-registry: routing (gorilla/mux),
// strict JSON decoding, middleware (security headers, logging, metrics, rate
// limits), the HTML pages, and errors.go — the one table that turns errors
// from the provider into HTTP responses. New returns an http.Handler; the
// binary in cmd/ only wires it to a listener.
package web

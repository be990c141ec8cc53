package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"user-registry/keys"
)

// jwksSource is what the JWKS and discovery endpoints need of the keys.
type jwksSource interface {
	JWKS() (body []byte, etag string)
	Algs() []string
}

// wellKnown serves the JWKS and discovery documents from pre-encoded bytes:
// they are fetched by every verifier, so the hot path does no JSON work.
type wellKnown struct {
	keys   jwksSource
	issuer string
	maxAge string // Cache-Control value of the JWKS
	log    *slog.Logger

	mu        sync.Mutex
	discAlgs  string
	discovery []byte
}

func newWellKnown(src jwksSource, issuer string, maxAgeSeconds int, log *slog.Logger) *wellKnown {
	return &wellKnown{keys: src, issuer: issuer, maxAge: fmt.Sprintf("public, max-age=%d", maxAgeSeconds), log: log}
}

func (k *wellKnown) jwks(w http.ResponseWriter, r *http.Request) {
	body, etag := k.keys.JWKS()
	h := w.Header()
	h.Set("Cache-Control", k.maxAge)
	h.Set("ETag", etag)
	h.Set("Content-Type", "application/json")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == etag || part == "*" || strings.TrimPrefix(part, "W/") == etag {
			return true
		}
	}
	return false
}

// discoveryDoc serves the OIDC / RFC 8414 metadata; it is rebuilt only
// when the set of published algorithms changes.
func (k *wellKnown) discoveryDoc(w http.ResponseWriter, r *http.Request) {
	algs := k.keys.Algs()
	sig := strings.Join(algs, ",")
	k.mu.Lock()
	if k.discovery == nil || sig != k.discAlgs {
		doc, err := keys.Discovery(k.issuer, algs)
		if err != nil {
			k.mu.Unlock()
			writeError(w, r, k.log, err)
			return
		}
		k.discovery, k.discAlgs = doc, sig
	}
	body := k.discovery
	k.mu.Unlock()
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

package web

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"user-registry/keys"
)

// jwksSource is what the JWKS and discovery endpoints need of the keys.
type jwksSource interface {
	JWKS() (body []byte, etag string)
	Algs() []string
}

// wellKnown serves the JWKS and discovery documents from pre-encoded bytes
// and pre-built header values: they are fetched by every verifier, so a
// request costs little more than writing the bytes (no JSON work, no
// header allocation, no lock).
type wellKnown struct {
	keys   jwksSource
	issuer string
	maxAge []string // Cache-Control value of the JWKS
	log    *slog.Logger

	jwksHdr   atomic.Pointer[etagHeader] // the ETag value of the current JWKS
	discovery atomic.Pointer[discoveryEntry]
	mu        sync.Mutex // serializes rebuilding the discovery document
}

// etagHeader is an ETag and its header value, built once per key set.
type etagHeader struct {
	etag string
	hdr  []string
}

// discoveryEntry is the discovery document built for one key set (the
// JWKS ETag): the published algorithms are those of the set, so a new set
// is the only reason to rebuild it.
type discoveryEntry struct {
	jwksETag string
	body     []byte
	etag     etagHeader
}

var hdrDiscoveryMaxAge = []string{"public, max-age=300"}

func newWellKnown(src jwksSource, issuer string, maxAgeSeconds int, log *slog.Logger) *wellKnown {
	return &wellKnown{keys: src, issuer: issuer, maxAge: []string{fmt.Sprintf("public, max-age=%d", maxAgeSeconds)}, log: log}
}

func (k *wellKnown) jwks(w http.ResponseWriter, r *http.Request) {
	body, etag := k.keys.JWKS()
	e := k.jwksHdr.Load()
	if e == nil || e.etag != etag {
		e = &etagHeader{etag: etag, hdr: []string{etag}}
		k.jwksHdr.Store(e)
	}
	serveDocument(w, r, body, e, k.maxAge)
}

// serveDocument writes a cacheable JSON document, or 304 when the request's
// If-None-Match names its ETag. Header values are shared, never edited
// (see setSecurityHeaders).
func serveDocument(w http.ResponseWriter, r *http.Request, body []byte, e *etagHeader, cacheControl []string) {
	h := w.Header()
	h["Cache-Control"] = cacheControl
	h["Etag"] = e.hdr
	h["Content-Type"] = hdrJSON
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, e.etag) {
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
// when the key set (and so possibly the published algorithms) changes.
func (k *wellKnown) discoveryDoc(w http.ResponseWriter, r *http.Request) {
	_, jwksETag := k.keys.JWKS()
	d := k.discovery.Load()
	if d == nil || d.jwksETag != jwksETag {
		var err error
		if d, err = k.buildDiscovery(jwksETag); err != nil {
			writeError(w, r, k.log, err)
			return
		}
	}
	serveDocument(w, r, d.body, &d.etag, hdrDiscoveryMaxAge)
}

func (k *wellKnown) buildDiscovery(jwksETag string) (*discoveryEntry, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if d := k.discovery.Load(); d != nil && d.jwksETag == jwksETag {
		return d, nil
	}
	doc, err := keys.Discovery(k.issuer, k.keys.Algs())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(doc)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	d := &discoveryEntry{jwksETag: jwksETag, body: doc, etag: etagHeader{etag: etag, hdr: []string{etag}}}
	k.discovery.Store(d)
	return d, nil
}

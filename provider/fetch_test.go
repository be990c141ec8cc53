package provider_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"user-registry/provider"
)

// TestCheckFetchURL: https, or http to a loopback address only (SEC-61).
func TestCheckFetchURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://ci.example/.well-known/jwks.json", true},
		{"https://ci.example:8443/jwks", true},
		{"http://127.0.0.1:8080/jwks", true},
		{"http://127.9.9.9/jwks", true},
		{"http://[::1]:8080/jwks", true},
		{"http://localhost:8080/jwks", true},
		{"http://ci.example/jwks", false},
		{"http://10.0.0.1/jwks", false},
		{"http://169.254.169.254/latest/meta-data", false},
		{"http://127.0.0.1.example/jwks", false},
		{"ftp://ci.example/jwks", false},
		{"file:///etc/passwd", false},
		{"https://user:pw@ci.example/jwks", false},
		{"https://ci.example/jwks#frag", false},
		{"/relative/jwks", false},
		{"https:///no-host", false},
		{"", false},
	} {
		err := provider.CheckFetchURL(tc.url)
		if tc.ok != (err == nil) {
			t.Errorf("%q: err = %v, want ok %v", tc.url, err, tc.ok)
		}
	}
}

// jwksServer serves body at /jwks and counts the requests.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int32
	body atomic.Value // []byte
}

func newJWKSServer(t *testing.T, body []byte, tls bool) *jwksServer {
	s := &jwksServer{}
	s.body.Store(body)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		w.Write(s.body.Load().([]byte))
	})
	if tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s
}

// TestFetchRules: each fetch rule of SPEC §11 against a live server
// (SEC-61): size, status, timeout, redirects, https.
func TestFetchRules(t *testing.T) {
	set := jwksOf(t, newTestKey(t, jwa.ES256, "k1"))
	padded := func(n int) []byte { // a valid set of exactly n bytes
		return append(append([]byte{}, set[:len(set)-1]...), append(bytes.Repeat([]byte(" "), n-len(set)), '}')...)
	}
	release := make(chan struct{})
	defer close(release)
	other := newJWKSServer(t, set, false)
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { w.Write(set) })
	mux.HandleFunc("/at-limit", func(w http.ResponseWriter, _ *http.Request) { w.Write(padded(provider.FetchMaxBytes)) })
	mux.HandleFunc("/over-limit", func(w http.ResponseWriter, _ *http.Request) { w.Write(padded(provider.FetchMaxBytes + 1)) })
	mux.HandleFunc("/over-limit-chunked", func(w http.ResponseWriter, _ *http.Request) {
		b := padded(provider.FetchMaxBytes + 1)
		w.Write(b[:1000])
		w.(http.Flusher).Flush() // no Content-Length: the reader must stop
		w.Write(b[1000:])
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusNotFound) })
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/same-host", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/other-host", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/jwks", http.StatusFound)
	})
	mux.HandleFunc("/to-http", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://ci.example/jwks", http.StatusFound)
	})
	mux.HandleFunc("/not-a-set", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"keys":"x"}`)) })
	mux.HandleFunc("/private", func(w http.ResponseWriter, _ *http.Request) {
		b, _ := jwkFromPrivate(t, newTestKey(t, jwa.ES256, "p"))
		w.Write(b)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(mux)
	defer tlsSrv.Close()

	f := provider.NewFetcher(provider.FetcherDeps{Transport: tlsSrv.Client().Transport, Timeout: 200 * time.Millisecond})
	for _, tc := range []struct {
		name, url string
		ok        bool
	}{
		{"loopback http", srv.URL + "/ok", true},
		{"https", tlsSrv.URL + "/ok", true},
		{"exactly 64 KiB", srv.URL + "/at-limit", true},
		{"over 64 KiB", srv.URL + "/over-limit", false},
		{"over 64 KiB, no length", srv.URL + "/over-limit-chunked", false},
		{"status 404", srv.URL + "/status", false},
		{"timeout", srv.URL + "/hang", false},
		{"redirect on the same host", srv.URL + "/same-host", true},
		{"redirect to another host", srv.URL + "/other-host", false},
		{"redirect to a plain-http host", tlsSrv.URL + "/to-http", false},
		{"not a key set", srv.URL + "/not-a-set", false},
		{"a private key", srv.URL + "/private", false},
		{"plain http, not loopback", "http://ci.example/jwks", false},
	} {
		keys, err := f.KeySet(t.Context(), tc.url, false)
		if tc.ok != (err == nil) || tc.ok && len(keys) != 1 {
			t.Errorf("%s: %d keys, err = %v; want ok %v", tc.name, len(keys), err, tc.ok)
		}
		if !tc.ok && !errors.Is(err, provider.ErrFetch) {
			t.Errorf("%s: err = %v, want ErrFetch", tc.name, err)
		}
	}
	if n := other.hits.Load(); n != 0 {
		t.Errorf("the other host was fetched %d times", n)
	}
}

// TestFetchCache: a key set is cached up to 5 minutes; an unknown kid
// refetches at most once a minute (SEC-61).
func TestFetchCache(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, newTestKey(t, jwa.ES256, "k1")), false)
	clk := newClock()
	f := provider.NewFetcher(provider.FetcherDeps{Now: clk.Now})
	url := srv.URL + "/jwks"
	steps := []struct {
		name     string
		advance  time.Duration
		refresh  bool
		wantHits int32
	}{
		{"first", 0, false, 1},
		{"cached", 0, false, 1},
		{"unknown kid refetches", 0, true, 2},
		{"second unknown kid within the minute", 30 * time.Second, true, 2},
		{"still cached", 0, false, 2},
		{"unknown kid a minute later", 31 * time.Second, true, 3},
		{"cached before 5 min", 4*time.Minute + 59*time.Second, false, 3},
		{"refetched at 5 min", time.Second, false, 4},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		if _, err := f.KeySet(t.Context(), url, st.refresh); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := srv.hits.Load(); got != st.wantHits {
			t.Fatalf("%s: %d fetches, want %d", st.name, got, st.wantHits)
		}
	}
}

// TestIssuerDiscovery: the discovery document must name the issuer
// exactly, and its jwks_uri obeys the URL rule (SEC-61).
func TestIssuerDiscovery(t *testing.T) {
	set := jwksOf(t, newTestKey(t, jwa.ES256, "k1"))
	var base string
	doc := map[string]string{}
	mux := http.NewServeMux()
	mux.HandleFunc("/{name}/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(doc[r.PathValue("name")]))
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(set) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base = srv.URL
	doc["good"] = `{"issuer":"` + base + `/good","jwks_uri":"` + base + `/jwks"}`
	doc["wrong-issuer"] = `{"issuer":"` + base + `/other","jwks_uri":"` + base + `/jwks"}`
	doc["http-jwks"] = `{"issuer":"` + base + `/http-jwks","jwks_uri":"http://ci.example/jwks"}`
	doc["no-jwks"] = `{"issuer":"` + base + `/no-jwks"}`
	doc["not-json"] = `<html>`
	f := provider.NewFetcher(provider.FetcherDeps{})
	for name, ok := range map[string]bool{"good": true, "wrong-issuer": false, "http-jwks": false, "no-jwks": false, "not-json": false} {
		keys, err := f.IssuerKeys(t.Context(), base+"/"+name, false)
		if ok != (err == nil) || ok && len(keys) != 1 {
			t.Errorf("%s: %d keys, err = %v; want ok %v", name, len(keys), err, ok)
		}
	}
	if _, err := f.IssuerKeys(t.Context(), strings.Replace(base, "http://", "http://user@", 1)+"/good", false); err == nil {
		t.Error("an issuer URL with credentials was fetched")
	}
}

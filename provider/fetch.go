package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// The rules for fetching other parties' documents: a client's --jwks-uri,
// an outside issuer's discovery document and JWKS (SPEC §11, SEC-61).
const (
	FetchTimeout  = 5 * time.Second
	FetchMaxBytes = 64 << 10
	// FetchCacheTTL bounds how long a fetched key set is used.
	FetchCacheTTL = 5 * time.Minute
	// FetchRefreshEvery bounds the refetches an unknown kid may cause, per
	// URL: a stream of made-up kids costs the remote at most one fetch a
	// minute.
	FetchRefreshEvery = time.Minute
	maxFetchRedirects = 3
)

// ErrFetch is wrapped by every failure to fetch or read a remote document.
var ErrFetch = errors.New("fetch")

// FetcherDeps are the dependencies of a Fetcher.
type FetcherDeps struct {
	// Transport makes the requests; nil is a clone of
	// http.DefaultTransport. Tests pass one that trusts their TLS server.
	Transport http.RoundTripper
	Now       func() time.Time // nil → time.Now
	// Timeout bounds one fetch, redirects included; 0 is FetchTimeout.
	// Tests shorten it.
	Timeout time.Duration
}

// Fetcher fetches key sets and discovery documents under the fetch rules
// and caches them. Safe for concurrent use.
type Fetcher struct {
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
	group   singleflight.Group // one fetch per URL at a time

	mu   sync.Mutex
	sets map[string]*fetchedSet
	docs map[string]*fetchedDoc
}

type fetchedSet struct {
	keys      []publicKey
	fetched   time.Time
	refreshed time.Time // last refetch asked for by an unknown kid
}

type fetchedDoc struct {
	jwksURI string
	fetched time.Time
}

// NewFetcher returns a Fetcher.
func NewFetcher(d FetcherDeps) *Fetcher {
	tr := d.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = FetchTimeout
	}
	f := &Fetcher{now: now, timeout: timeout, sets: map[string]*fetchedSet{}, docs: map[string]*fetchedDoc{}}
	f.client = &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: checkRedirect}
	return f
}

// CheckFetchURL enforces the URL rule: https, or http to a loopback host
// (127.0.0.0/8, ::1, localhost), with no credentials or fragment. Returns
// an error wrapping ErrInvalidInput.
func CheckFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") || len(raw) > 2048 {
		return InvalidInput(fmt.Sprintf("%q: an absolute https URL without credentials or fragment", raw))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return InvalidInput(fmt.Sprintf("%q: https only (plain http to a loopback address only)", raw))
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkRedirect follows a redirect only to the same host (and port), under
// the same URL rule, a few times at most.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxFetchRedirects {
		return errors.New("too many redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("redirect to another host (%s)", req.URL.Host)
	}
	return CheckFetchURL(req.URL.String())
}

// get fetches raw once under the rules: 200 with a body of at most
// FetchMaxBytes, within FetchTimeout. Returns an error wrapping ErrFetch.
func (f *Fetcher) get(ctx context.Context, raw string) ([]byte, error) {
	if err := CheckFetchURL(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: status %d", ErrFetch, raw, resp.StatusCode)
	}
	if resp.ContentLength > FetchMaxBytes {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrFetch, raw, FetchMaxBytes)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, FetchMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFetch, raw, err)
	}
	if len(b) > FetchMaxBytes {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrFetch, raw, FetchMaxBytes)
	}
	return b, nil
}

// KeySet returns the keys published at jwksURI, from the cache while
// younger than FetchCacheTTL. With refresh (the caller met an unknown kid)
// it fetches again unless it already did so for that reason within
// FetchRefreshEvery. Returns an error wrapping ErrFetch, or ErrInvalidInput
// for a document that is no acceptable key set.
func (f *Fetcher) KeySet(ctx context.Context, jwksURI string, refresh bool) ([]publicKey, error) {
	now := f.now()
	f.mu.Lock()
	e := f.sets[jwksURI]
	if e != nil {
		fresh := age(now, e.fetched) < FetchCacheTTL
		if fresh && (!refresh || age(now, e.refreshed) < FetchRefreshEvery) {
			f.mu.Unlock()
			return e.keys, nil
		}
	}
	f.mu.Unlock()
	v, err, _ := f.group.Do("jwks "+jwksURI, func() (any, error) {
		b, err := f.get(ctx, jwksURI)
		if err != nil {
			return nil, err
		}
		keys, err := parseKeySet(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrFetch, jwksURI, err)
		}
		f.mu.Lock()
		ne := &fetchedSet{keys: keys, fetched: now}
		if refresh {
			ne.refreshed = now
		} else if e != nil {
			ne.refreshed = e.refreshed
		}
		f.sets[jwksURI] = ne
		f.mu.Unlock()
		return keys, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]publicKey), nil
}

// IssuerKeys returns the keys of the OIDC issuer iss: its discovery
// document (iss + /.well-known/openid-configuration, whose "issuer" must be
// iss exactly) names the JWKS, and both are fetched and cached under the
// same rules. refresh is KeySet's.
func (f *Fetcher) IssuerKeys(ctx context.Context, iss string, refresh bool) ([]publicKey, error) {
	jwksURI, err := f.discover(ctx, iss)
	if err != nil {
		return nil, err
	}
	return f.KeySet(ctx, jwksURI, refresh)
}

// discover returns the jwks_uri of issuer iss, cached like a key set.
func (f *Fetcher) discover(ctx context.Context, iss string) (string, error) {
	now := f.now()
	f.mu.Lock()
	if d := f.docs[iss]; d != nil && age(now, d.fetched) < FetchCacheTTL {
		f.mu.Unlock()
		return d.jwksURI, nil
	}
	f.mu.Unlock()
	v, err, _ := f.group.Do("discovery "+iss, func() (any, error) {
		b, err := f.get(ctx, strings.TrimSuffix(iss, "/")+"/.well-known/openid-configuration")
		if err != nil {
			return "", err
		}
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return "", fmt.Errorf("%w: %s: discovery document: %w", ErrFetch, iss, err)
		}
		if doc.Issuer != iss {
			return "", fmt.Errorf("%w: %s: discovery document names issuer %q", ErrFetch, iss, doc.Issuer)
		}
		if err := CheckFetchURL(doc.JWKSURI); err != nil {
			return "", fmt.Errorf("%w: %s: jwks_uri: %w", ErrFetch, iss, err)
		}
		f.mu.Lock()
		f.docs[iss] = &fetchedDoc{jwksURI: doc.JWKSURI, fetched: now}
		f.mu.Unlock()
		return doc.JWKSURI, nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// age is now − t, and "too old" for a clock that went backwards.
func age(now, t time.Time) time.Duration {
	if d := now.Sub(t); d >= 0 {
		return d
	}
	return FetchCacheTTL + FetchRefreshEvery
}

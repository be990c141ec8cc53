package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ulule/limiter/v3"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
	"user-registry/storage/redisstore"
	"user-registry/storage/storagetest"
)

// TestBackendDownAnswers: with the session/revocation/rate store down,
// every body shape — {"message"}, RFC 6749 {"error"} and the HTML page —
// answers 503 with Retry-After: 1 and logs exactly one "backend
// unavailable" line (SEC-18). It runs over an in-process store that fails
// on demand and, when Redis is configured, over Redis behind a TCP proxy
// that is cut.
func TestBackendDownAnswers(t *testing.T) {
	type outage struct {
		name string
		eph  ephemeralStore
		down func()
	}
	outages := []func(t *testing.T) outage{
		func(t *testing.T) outage {
			s := &outageStore{flakyStore: &flakyStore{Store: memstore.New()}}
			return outage{"in-process", s, func() { s.down.Store(true) }}
		},
	}
	if raw := os.Getenv("USER_REGISTRY_TEST_REDIS"); raw != "" {
		outages = append(outages, func(t *testing.T) outage {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			p := storagetest.StartProxy(t, u.Host)
			u.Host = p.Addr()
			prefix := make([]byte, 6)
			rand.Read(prefix)
			rs, err := redisstore.Open(context.Background(), redisstore.Options{URL: u.String(), Prefix: "urwebdown:" + hex.EncodeToString(prefix) + ":"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rs.Close() })
			return outage{"redis", rs, p.Down}
		})
	}
	for _, mk := range outages {
		o := mk(t)
		t.Run(o.name, func(t *testing.T) {
			logs := &lockedBuffer{}
			var clients *provider.Clients
			h := newLocalAPI(t, o.eph, nil, withClients("100/1m"), func(c *Config, _ *provider.AccountsConfig) {
				c.Log = slog.New(slog.NewTextHandler(logs, nil))
				clients = c.Clients
			})
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			env := oauthEnv{testEnv: &testEnv{Server: srv, Handler: h}, clients: clients}
			id, secret := env.client(t, provider.ClientSpec{Domain: "example.com"})
			signup(t, h, "down@example.com")
			access, refresh := login(t, h, "down@example.com", testPassword)
			browser := newPageClient(t, env.testEnv)
			browser.signIn("down@example.com", testPassword)
			o.down()

			basic := func(r *http.Request) { r.SetBasicAuth(id, secret) }
			cc := url.Values{"grant_type": {"client_credentials"}}.Encode()
			tests := []struct {
				name, method, path, body, ct string
				edit                         func(*http.Request)
				shape                        string // "message", "oauth" or "page"
			}{
				{"me", "GET", "/me", "", "", bearer(access), "message"},
				{"userinfo", "GET", "/userinfo", "", "", bearer(access), "oauth"},
				{"introspect", "POST", "/oauth2/introspect", url.Values{"token": {access}}.Encode(), formCT, basic, "oauth"},
				{"revoke", "POST", "/oauth2/revoke", url.Values{"token": {refresh}}.Encode(), formCT, basic, "oauth"},
				{"authority-token", "POST", "/authority-token", cc, formCT, basic, "oauth"},
				{"token", "POST", "/oauth2/token", cc, formCT, basic, "oauth"},
				{"account page", "GET", "/account", "", "", nil, "page"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					logs.Reset()
					var status int
					var header http.Header
					switch tc.shape {
					case "page":
						p := browser.get(tc.path)
						status, header = p.status, p.header
						if !strings.HasPrefix(header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "temporarily unavailable") {
							t.Errorf("page: %q\n%s", header.Get("Content-Type"), p.body)
						}
					default:
						a := env.do(t, tc.method, tc.path, tc.body, tc.ct, tc.edit)
						status, header = a.status, a.header
						if tc.shape == "message" && (len(a.json) != 1 || a.json["message"] != "Service temporarily unavailable") {
							t.Errorf("body %s, want {\"message\"}", a.body)
						}
						if tc.shape == "oauth" && (a.json["error"] != "temporarily_unavailable" || a.json["message"] != nil) {
							t.Errorf("body %s, want {\"error\":\"temporarily_unavailable\"}", a.body)
						}
					}
					if status != http.StatusServiceUnavailable {
						t.Errorf("status %d, want 503", status)
					}
					if ra := header.Get("Retry-After"); ra != "1" {
						t.Errorf("Retry-After %q, want 1", ra)
					}
					lines := 0
					for line := range strings.Lines(logs.String()) {
						if strings.Contains(line, `msg="backend unavailable"`) && strings.Contains(line, "path="+tc.path+" ") {
							lines++
						}
					}
					if lines != 1 {
						t.Errorf("%d \"backend unavailable\" lines for %s, want 1:\n%s", lines, tc.path, logs.String())
					}
				})
			}
		})
	}
}

// outageStore is a flakyStore whose rate counters fail too, as they do
// when the one Redis behind all three is gone.
type outageStore struct{ *flakyStore }

func (s *outageStore) Rate() storage.RateStore {
	return flakyRate{s.flakyStore.Rate(), &s.down}
}

// flakyRate is a rate store that fails with storage.ErrUnavailable while
// *down is set.
type flakyRate struct {
	storage.RateStore
	down *atomic.Bool
}

func (f flakyRate) fail() error {
	if f.down.Load() {
		return storage.ErrUnavailable
	}
	return nil
}

func (f flakyRate) Get(ctx context.Context, key string, r limiter.Rate) (limiter.Context, error) {
	if err := f.fail(); err != nil {
		return limiter.Context{}, err
	}
	return f.RateStore.Get(ctx, key, r)
}

func (f flakyRate) Peek(ctx context.Context, key string, r limiter.Rate) (limiter.Context, error) {
	if err := f.fail(); err != nil {
		return limiter.Context{}, err
	}
	return f.RateStore.Peek(ctx, key, r)
}

func (f flakyRate) Reset(ctx context.Context, key string, r limiter.Rate) (limiter.Context, error) {
	if err := f.fail(); err != nil {
		return limiter.Context{}, err
	}
	return f.RateStore.Reset(ctx, key, r)
}

func (f flakyRate) Increment(ctx context.Context, key string, n int64, r limiter.Rate) (limiter.Context, error) {
	if err := f.fail(); err != nil {
		return limiter.Context{}, err
	}
	return f.RateStore.Increment(ctx, key, n, r)
}

// lockedBuffer collects log output written by server goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/memstore"
)

// TestAdminDomainsPaging: GET /admin/domains pages like /admin/users (SPEC
// §13): limit default 100 and at most 500, an opaque next_cursor absent on
// the last page, q a part of the domain; bad parameters are 400 JSON.
func TestAdminDomainsPaging(t *testing.T) {
	for _, b := range backendsUnderTest(t) {
		t.Run(b, func(t *testing.T) {
			e := newOAuthEnv(t, b, "0")
			id, secret := e.client(t, provider.ClientSpec{Domain: "example.com", Admin: true})
			admin := e.authorityToken(t, id, secret)
			auth := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+admin) }
			recs := make([]storage.DomainRecord, 0, 1201)
			for i := range 1200 {
				recs = append(recs, storage.DomainRecord{Domain: fmt.Sprintf("d%04d.paging.test", i), BelongsTo: i % 2})
			}
			recs = append(recs, storage.DomainRecord{Domain: "other.test", BelongsTo: 1})
			if _, err := e.DB.ImportDomains(context.Background(), recs); err != nil {
				t.Fatal(err)
			}

			// walk follows next_cursor from query and returns every domain
			// and the size of each page.
			walk := func(query string) (domains []string, sizes []int) {
				t.Helper()
				cursor := ""
				for range 100 {
					q := query
					if cursor != "" {
						q += "&cursor=" + url.QueryEscape(cursor)
					}
					a := e.do(t, "GET", "/admin/domains?"+q, "", "", auth)
					if a.status != 200 {
						t.Fatalf("GET ?%s = %d %s", q, a.status, a.body)
					}
					page, _ := a.json["domains"].([]any)
					for _, d := range page {
						domains = append(domains, d.(map[string]any)["domain"].(string))
					}
					sizes = append(sizes, len(page))
					next, has := a.json["next_cursor"]
					if !has {
						return domains, sizes
					}
					if cursor, _ = next.(string); cursor == "" {
						t.Fatalf("next_cursor %v", next)
					}
				}
				t.Fatal("paging never ended")
				return nil, nil
			}
			for _, tc := range []struct {
				query string
				total int
				sizes string
			}{
				{"q=paging", 1200, "[100 100 100 100 100 100 100 100 100 100 100 100]"}, // default 100; a full last page has no cursor
				{"q=.PAGING.test&limit=500", 1200, "[500 500 200]"},
				{"q=d000&limit=3", 10, "[3 3 3 1]"},
				{"limit=1&q=other", 1, "[1]"},
				{"q=nothing-matches", 0, "[0]"},
				{"limit=500", 1201, "[500 500 201]"},
			} {
				domains, sizes := walk(tc.query)
				if len(domains) != tc.total || fmt.Sprint(sizes) != tc.sizes {
					t.Errorf("?%s: %d domains in pages %v, want %d in %s", tc.query, len(domains), sizes, tc.total, tc.sizes)
				}
				for i := 1; i < len(domains); i++ {
					if domains[i] <= domains[i-1] {
						t.Fatalf("?%s: %q after %q", tc.query, domains[i], domains[i-1])
					}
				}
			}

			for _, q := range []string{
				"limit=501", "limit=0", "limit=-1", "limit=ten", "limit=99999999999999999999",
				"cursor=%25%25%25", "cursor=" + url.QueryEscape("<script>"), "q=" + strings.Repeat("a", 1100),
			} {
				a := e.do(t, "GET", "/admin/domains?"+q, "", "", auth)
				if a.status != 400 || a.json["message"] == nil {
					t.Errorf("GET ?%.40s = %d %s, want 400 with a message", q, a.status, a.body)
				}
			}
		})
	}
}

// TestMetricsDomainPolicy: /metrics shows the policy's store lookups (cache
// misses) and the answers it holds.
func TestMetricsDomainPolicy(t *testing.T) {
	policy := provider.NewDomainPolicy(memstore.New(), false, nil)
	h := New(Config{Policy: policy})
	for _, d := range []string{"a.example", "a.example", "b.example"} {
		if _, err := policy.Blocked(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"user_registry_domain_policy_queries_total 2\n", "user_registry_domain_policy_cache_entries 2\n"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

package provider_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/sqlstore"
	"user-registry/storage/sqlstore/sqltest"
)

func benchStore(b *testing.B, dsn string) *sqlstore.Store {
	b.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkDomainPolicyListSize: SPEC §13, the policy check at signup costs
// the same with 1,000,000 records as with none. Every iteration asks about
// a domain not asked before (a cache miss, so one query on SQLite), the
// same names for both sizes; with the million they hit a record. Seeding
// the million through ImportDomains takes about 15 s.
func BenchmarkDomainPolicyListSize(b *testing.B) {
	const million = 1_000_000
	for _, size := range []int{0, million} {
		s := benchStore(b, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
		if size > 0 {
			recs := make([]storage.DomainRecord, size)
			for i := range recs {
				recs[i] = storage.DomainRecord{Domain: fmt.Sprintf("d%07d.million.example", i), BelongsTo: storage.DomainBlocked}
			}
			if _, err := s.ImportDomains(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("records=%d", size), func(b *testing.B) {
			ctx := context.Background()
			p := provider.NewDomainPolicy(s, false, nil)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				blocked, err := p.Blocked(ctx, fmt.Sprintf("x%d.d%07d.million.example", i, i%million))
				if err != nil || blocked != (size > 0) {
					b.Fatalf("Blocked = %v, %v", blocked, err)
				}
				i++
			}
		})
	}
}

// BenchmarkDomainImport150k: SPEC §13, `domains import` of 150,000 domains
// in at most 10 s, through DomainAdmin.Import (reading, normalizing,
// writing in one transaction) into a fresh database each time. The data is
// a real list (testdata/disposable-domains.txt.gz, 133,604 domains) made up
// to 150,000 (benchDomainList); USER_REGISTRY_BENCH_DOMAINS may name
// another file, one domain a line. MySQL runs when USER_REGISTRY_TEST_MYSQL
// is set.
func BenchmarkDomainImport150k(b *testing.B) {
	list := benchDomainList(b)
	backends := map[string]func(b *testing.B) string{
		"sqlite": func(b *testing.B) string { return "sqlite:" + filepath.Join(b.TempDir(), "bench.db") },
	}
	if root := os.Getenv("USER_REGISTRY_TEST_MYSQL"); root != "" {
		backends["mysql"] = func(b *testing.B) string { dsn, _ := sqltest.FreshMySQL(b, root); return dsn }
	}
	for name, dsn := range backends {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				admin := &provider.DomainAdmin{Store: benchStore(b, dsn(b))}
				b.StartTimer()
				res, err := admin.Import(context.Background(), strings.NewReader(list), storage.DomainBlocked, nil)
				if err != nil || res.Imported < 100_000 {
					b.Fatalf("Import = %+v, %v", res, err)
				}
			}
		})
	}
}

// benchDomainList returns the file USER_REGISTRY_BENCH_DOMAINS names, or
// the disposable-domains list (npm package, MIT) made up to 150,000 lines
// with "mx." subdomains of its first entries: names as real lists have
// them, since their shape (length, labels, TLDs) is what the import
// normalizes and indexes.
func benchDomainList(b *testing.B) string {
	path, gz := os.Getenv("USER_REGISTRY_BENCH_DOMAINS"), false
	if path == "" {
		path, gz = filepath.Join("testdata", "disposable-domains.txt.gz"), true
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		r = zr
	}
	data, err := io.ReadAll(r)
	if err != nil {
		b.Fatal(err)
	}
	if !gz {
		return string(data)
	}
	lines := strings.Fields(string(data))
	for i := 0; len(lines) < 150_000; i++ {
		lines = append(lines, "mx."+lines[i])
	}
	return strings.Join(lines, "\n") + "\n"
}

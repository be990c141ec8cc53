package provider_test

import (
	"context"
	"path/filepath"
	"testing"

	"user-registry/provider"
	"user-registry/storage/sqlstore"
)

// BenchmarkLoginAudit compares login throughput (Accounts.Login: password
// check, rate limit, tokens) with the real audit writer over a SQLite
// audit_events table against NopAuditor (SPEC §13: within 5 %). "cheap"
// uses test argon2id parameters, which makes the audit overhead as large
// a share of a login as it can be; "default" the production ones. The
// figures are reported, not asserted (a shared machine's noise would make
// a timed bound flaky). Run:
//
//	go test -run '^$' -bench LoginAudit -benchtime 2000x ./provider/
func BenchmarkLoginAudit(b *testing.B) {
	for _, p := range []struct {
		name   string
		params provider.Argon2Params
	}{{"cheap", cheapArgon2}, {"default", provider.DefaultArgon2Params()}} {
		for _, mode := range []string{"nop", "writer"} {
			b.Run(p.name+"/"+mode, func(b *testing.B) {
				env := newAcctEnvParams(b, p.params)
				cfg := provider.DefaultAccountsConfig(acctIssuer)
				cfg.Sleep, cfg.LoginLimit = env.clk.Sleep, "0"
				deps := env.deps(cfg)
				var w *provider.AuditWriter
				if mode == "writer" {
					db, err := sqlstore.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "audit.db"))
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { db.Close() })
					if err := db.Migrate(context.Background()); err != nil {
						b.Fatal(err)
					}
					if w, err = provider.NewAuditWriter(provider.AuditWriterConfig{Store: db}); err != nil {
						b.Fatal(err)
					}
					deps.Audit = w
				}
				acc, err := provider.NewAccounts(deps)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if _, err := acc.Signup(ctx, provider.SignupInput{Email: "bench@audit.example", Password: annPW}); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := acc.Login(ctx, "bench@audit.example", annPW); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.StopTimer()
				if w != nil {
					if err := w.Close(ctx); err != nil {
						b.Fatal(err)
					}
					st := w.Stats()
					b.ReportMetric(float64(st.Dropped), "dropped")
					b.ReportMetric(float64(st.Written), "written")
				}
			})
		}
	}
}

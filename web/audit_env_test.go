package web

import (
	"context"
	"testing"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/sqlstore"
)

// auditTrail is the audit side of a test server: the real writer over the
// env's database, as serve wires it.
type auditTrail struct {
	w  *provider.AuditWriter
	db *sqlstore.Store
}

// withAudit wires a provider.AuditWriter and AuditLog over the env's
// database into the server, the accounts (newTestEnvMail passes
// Config.Audit on), the domain admin and, when withClients came before,
// the clients.
func withAudit(trail *auditTrail) envOption {
	return func(c *Config, _ *provider.AccountsConfig) {
		db := c.DomainAdmin.Store.(*sqlstore.Store) // the env's database
		w, err := provider.NewAuditWriter(provider.AuditWriterConfig{Store: db})
		if err != nil {
			panic(err)
		}
		c.Audit = w
		if c.AuditLog, err = provider.NewAuditLog(provider.AuditLogDeps{Store: db, Users: db}); err != nil {
			panic(err)
		}
		c.DomainAdmin.Audit = w
		if c.Clients != nil {
			c.Clients.SetAuditor(w)
		}
		trail.w, trail.db = w, db
	}
}

// events flushes the writer (it records nothing more afterwards) and
// returns every stored event, newest first.
func (a *auditTrail) events(t *testing.T) []storage.AuditEvent {
	t.Helper()
	ctx := context.Background()
	if err := a.w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := a.db.ListAuditEvents(ctx, storage.AuditFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if st := a.w.Stats(); st.Dropped != 0 || st.Failed != 0 {
		t.Fatalf("audit writer lost events: %+v", st)
	}
	return list
}

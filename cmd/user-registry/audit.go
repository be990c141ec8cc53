package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/sqlstore"
)

const auditUsage = `Usage: user-registry audit list [--user U] [--domain D] [--event E] [--since T] [--json] [flags]

Lists the audit trail, newest first. --user takes a user id or an email
address, --since an RFC 3339 time or a duration back from now (24h). --json
prints {"events":[...]} with every page joined.`

// Audit wiring of serve (SPEC §13).
const (
	// auditPruneEvery is how often serve prunes events older than
	// --audit-retention. Every node prunes; a prune deletes only what is
	// due, so nodes pruning at once only find less to do.
	auditPruneEvery = time.Hour
	// auditFlushGrace bounds the final flush of the audit queue on
	// shutdown and at the end of an admin command.
	auditFlushGrace = 10 * time.Second
)

func cmdAudit(ctx context.Context, args []string, e env) error {
	var c storeConfig
	var q provider.AuditQuery
	var since string
	var asJSON bool
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	c.register(fs)
	fs.StringVar(&q.User, "user", "", "events of this user (id or email)")
	fs.StringVar(&q.Domain, "domain", "", "events of this domain")
	fs.StringVar(&q.Event, "event", "", "events of this name (login_failed, ...)")
	fs.StringVar(&since, "since", "", "events since this RFC 3339 time, or for this duration back (24h)")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	pos, err := parseArgs(fs, args, e.lookupEnv, e.stdout, auditUsage)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "list" {
		fmt.Fprintln(e.stderr, auditUsage)
		return errUsage
	}
	if q.Since, err = provider.ParseSince(since, time.Now()); err != nil {
		return errors.New(provider.Message(err))
	}
	db, err := openDB(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	auditLog, err := provider.NewAuditLog(provider.AuditLogDeps{Store: db, Users: db})
	if err != nil {
		return err
	}
	events := []provider.AuditEntry{}
	q.Limit = provider.MaxAuditPage
	for {
		page, err := auditLog.List(ctx, q)
		if err != nil {
			if msg := provider.Message(err); msg != "" {
				return errors.New(msg)
			}
			return err
		}
		events = append(events, page.Events...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if asJSON {
		return json.NewEncoder(e.stdout).Encode(struct {
			Events []provider.AuditEntry `json:"events"`
		}{events})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tUSER\tCLIENT\tDOMAIN\tACTOR\tIP\tDETAIL")
	for _, ev := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.UTC().Format(time.RFC3339), ev.Event,
			dash(ev.UserID), dash(ev.ClientID), dash(ev.Domain), dash(ev.Actor), dash(ev.IP), dash(ev.Detail))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// startAudit starts serve's audit writer and the hourly pruning on ctx.
// stop flushes the queue; call it after the HTTP server has shut down.
//
// With --audit=false nothing new is recorded (a Nop auditor: no queue, no
// writes, no audit metrics); the events already stored can still be
// listed, and are still pruned.
func startAudit(ctx context.Context, record bool, retention time.Duration, db *sqlstore.Store, log *slog.Logger) (provider.Auditor, *provider.AuditLog, func(), error) {
	auditLog, err := provider.NewAuditLog(provider.AuditLogDeps{Store: db, Users: db, Log: log})
	if err != nil {
		return nil, nil, nil, err
	}
	go auditLog.RunPruner(ctx, retention, auditPruneEvery)
	if !record {
		log.Info("audit trail off (--audit=false): no events are recorded")
		return provider.NopAuditor{}, auditLog, func() {}, nil
	}
	w, err := provider.NewAuditWriter(provider.AuditWriterConfig{Store: db, Log: log})
	if err != nil {
		return nil, nil, nil, err
	}
	stop := func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), auditFlushGrace)
		defer cancel()
		if err := w.Close(flushCtx); err != nil {
			log.Warn("audit events not flushed at shutdown", "err", err, "queued", w.Stats().Queued)
		}
	}
	return w, auditLog, stop, nil
}

// cliAudit is the auditor of an admin command: its events carry actor
// "cli", and done writes them before the command exits.
func cliAudit(ctx context.Context, db storage.AuditStore, log *slog.Logger) (context.Context, provider.Auditor, func()) {
	ctx = provider.WithRequestInfo(ctx, provider.RequestInfo{Actor: provider.ActorCLI})
	w, err := provider.NewAuditWriter(provider.AuditWriterConfig{Store: db, Log: log})
	if err != nil { // only without a store, which the callers always have
		return ctx, provider.NopAuditor{}, func() {}
	}
	done := func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), auditFlushGrace)
		defer cancel()
		if err := w.Close(flushCtx); err != nil {
			log.Warn("audit events not written", "err", err)
		}
	}
	return ctx, w, done
}

// keyAudit returns the keys.Config.OnCreate hook that records a new
// signing key as key_rotated; the actor is whoever the context names (the
// CLI), none for a rotation the server made on its own.
func keyAudit(a provider.Auditor) func(ctx context.Context, kid string, generation int64, emergency bool) {
	if a == nil {
		return nil
	}
	return func(ctx context.Context, kid string, generation int64, emergency bool) {
		detail := fmt.Sprintf("kid %s, generation %d", kid, generation)
		switch {
		case emergency:
			detail += ", emergency"
		case generation == 1:
			detail += ", first key"
		}
		a.Record(ctx, provider.AuditEvent{Event: provider.EventKeyRotated, Detail: detail})
	}
}

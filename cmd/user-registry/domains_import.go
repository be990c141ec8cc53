package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// domainsFile runs `domains import [--block|--allow] FILE` and `domains
// export [--block|--allow]` (SPEC §13). The rules live in
// provider.DomainAdmin; this only opens the file and the database and
// prints.
func domainsFile(ctx context.Context, c *storeConfig, verb string, args []string, ff domainsFileFlags, e env) error {
	block, allow := ff.block, ff.allow
	if block && allow {
		return errors.New("give --block or --allow, not both")
	}
	belongsTo, list := storage.DomainBlocked, "blocked"
	if allow {
		belongsTo, list = storage.DomainAllowed, "allowed"
	}
	if verb == "export" {
		if len(args) != 0 {
			return errors.New("domains export takes no arguments")
		}
		db, err := openDB(ctx, c)
		if err != nil {
			return err
		}
		defer db.Close()
		out := bufio.NewWriterSize(e.stdout, 64<<10)
		if _, err := (&provider.DomainAdmin{Store: db}).Export(ctx, out, belongsTo); err != nil {
			return err
		}
		return out.Flush()
	}
	if len(args) != 1 {
		return errors.New("domains import takes one FILE")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	// Buffered: a binary file can make a report line of most of its lines.
	report := bufio.NewWriterSize(e.stderr, 64<<10)
	defer report.Flush()
	start := time.Now()
	// No policy cache here: a running server sees the change within
	// provider.DomainPolicyTTL.
	res, err := (&provider.DomainAdmin{Store: db}).Import(ctx, f, belongsTo,
		func(line int, text, reason string) {
			fmt.Fprintf(report, "line %d: skipped: %s: %s\n", line, reason, text)
		})
	took := time.Since(start)
	ok := err == nil && (res.Imported > 0 || (res.Present > 0 && res.Bad == 0))
	if ff.metricsFile != "" {
		stored := res
		if err != nil {
			stored = provider.DomainImportResult{} // all or nothing: nothing
		}
		if merr := writeImportMetrics(ff.metricsFile, list, stored, took, ok, time.Now()); merr != nil {
			fmt.Fprintf(report, "metrics file not written: %v\n", merr)
			ok = false
		}
	}
	if err != nil {
		return fmt.Errorf("%w (nothing was imported)", err)
	}
	fmt.Fprintf(report, "imported %d, already present %d, duplicates %d, skipped %d, of %d lines in %s\n",
		res.Imported, res.Present, res.Duplicates, res.Bad, res.Lines, took.Round(time.Millisecond))
	switch {
	case ok:
		return nil
	case res.Imported > 0 || res.Present > 0:
		return errors.New("the domains were imported, but the metrics file was not written")
	}
	return errors.New("no domain imported")
}

// domainsFileFlags are the flags of domains import and export.
type domainsFileFlags struct {
	block, allow bool
	metricsFile  string // import: the Prometheus text file to write
}

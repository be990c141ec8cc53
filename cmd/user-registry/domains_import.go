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
func domainsFile(ctx context.Context, c *storeConfig, verb string, args []string, block, allow bool, e env) error {
	if block && allow {
		return errors.New("give --block or --allow, not both")
	}
	belongsTo := storage.DomainBlocked
	if allow {
		belongsTo = storage.DomainAllowed
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
	if err != nil {
		return fmt.Errorf("%w (nothing was imported)", err)
	}
	fmt.Fprintf(report, "imported %d, already present %d, duplicates %d, skipped %d, of %d lines in %s\n",
		res.Imported, res.Present, res.Duplicates, res.Bad, res.Lines, time.Since(start).Round(time.Millisecond))
	if res.Imported > 0 || (res.Present > 0 && res.Bad == 0) {
		return nil
	}
	return errors.New("no domain imported")
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"user-registry/provider"
	"user-registry/storage"
)

const domainsUsage = `Usage:
  user-registry domains allow [--require-mfa] DOMAIN... [flags]
  user-registry domains block|remove DOMAIN... [flags]
  user-registry domains list [--json] [flags]
  user-registry domains import [--block|--allow] [--metrics-file PATH] FILE [flags]
  user-registry domains export [--block|--allow] [flags]

Manages the DomainCheck records (0 = allowed, 1 = blocked). A record covers
its subdomains; the most specific record wins. import reads one domain a
line ('#' starts a comment) into the block list (--block, the default) or
the allow list (--allow), all or nothing; export prints that list the same
way. allow --require-mfa makes the domain's users complete a second factor
at every sign-in; a plain allow sets that back off. --metrics-file writes
the import's row counts as a Prometheus text file (for node_exporter's
textfile collector).`

func cmdDomains(ctx context.Context, args []string, e env) error {
	var c storeConfig
	var asJSON, block, allow, requireMFA bool
	var metricsFile string
	fs := flag.NewFlagSet("domains", flag.ContinueOnError)
	c.register(fs)
	fs.BoolVar(&asJSON, "json", false, "list as JSON")
	fs.BoolVar(&block, "block", false, "import/export: the block list (the default)")
	fs.BoolVar(&allow, "allow", false, "import/export: the allow list")
	fs.StringVar(&metricsFile, "metrics-file", "", "import: write the row counts to this Prometheus text file")
	fs.BoolVar(&requireMFA, "require-mfa", false, "allow: the domain's users must use a second factor")
	pos, err := parseArgs(fs, args, e.lookupEnv, e.stdout, domainsUsage)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprintln(e.stderr, domainsUsage)
		return errUsage
	}
	verb, names := pos[0], pos[1:]
	if verb == "import" || verb == "export" {
		return domainsFile(ctx, &c, verb, names, domainsFileFlags{block, allow, metricsFile}, e)
	}
	if block || allow {
		return fmt.Errorf("--block and --allow are for domains import and export; use domains %s", verb)
	}
	if requireMFA && verb != "allow" {
		return fmt.Errorf("--require-mfa is for domains allow")
	}
	var belongsTo int
	switch verb {
	case "list":
		if len(names) != 0 {
			return errors.New("domains list takes no arguments")
		}
	case "allow", "block", "remove":
		if len(names) == 0 {
			return fmt.Errorf("domains %s needs at least one DOMAIN", verb)
		}
		if verb == "block" {
			belongsTo = storage.DomainBlocked
		}
	default:
		fmt.Fprintf(e.stderr, "unknown domains command %q\n\n%s\n", verb, domainsUsage)
		return errUsage
	}
	// Validate every name before touching the database, so a typo in the
	// third argument does not leave the first two applied.
	normalized := make([]string, len(names))
	for i, n := range names {
		d, err := provider.NormalizeDomain(n)
		if err != nil {
			return fmt.Errorf("%q: %s", n, provider.Message(err))
		}
		normalized[i] = d
	}
	db, err := openDB(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	log, err := newLogger(c.LogFormat, e.stderr)
	if err != nil {
		return err
	}
	ctx, audit, flush := cliAudit(ctx, db, log)
	defer flush()
	// No policy cache here: a running server sees the change within
	// provider.DomainPolicyTTL.
	admin := &provider.DomainAdmin{Store: db, Audit: audit}
	switch verb {
	case "list":
		return listDomains(ctx, admin, asJSON, e)
	case "remove":
		for _, d := range normalized {
			if _, err := admin.Remove(ctx, d); err != nil {
				if errors.Is(err, provider.ErrNoDomainRecord) {
					return fmt.Errorf("no record for %s", d)
				}
				return err
			}
			fmt.Fprintf(e.stdout, "removed %s\n", d)
		}
	default:
		for _, d := range normalized {
			if _, err := admin.Put(ctx, d, belongsTo, requireMFA); err != nil {
				return err
			}
			note := ""
			if requireMFA {
				note = " (second factor required)"
			}
			fmt.Fprintf(e.stdout, "%sed %s%s\n", verb, d, note)
		}
	}
	return nil
}

// listDomains prints the records as a table, or as the JSON of GET
// /admin/domains with every page joined. It streams the table a page at a
// time, so a million records never sit in memory.
func listDomains(ctx context.Context, admin *provider.DomainAdmin, asJSON bool, e env) error {
	out := bufio.NewWriter(e.stdout)
	if asJSON {
		sep := ""
		fmt.Fprint(out, `{"domains":[`)
		err := admin.Each(ctx, func(r provider.DomainEntry) error {
			b, err := json.Marshal(r)
			fmt.Fprint(out, sep)
			sep = ","
			_, _ = out.Write(b)
			return err
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "]}")
		return out.Flush()
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tBELONGS_TO\tPOLICY\tREQUIRE_MFA")
	err := admin.Each(ctx, func(r provider.DomainEntry) error {
		policy := "allowed"
		if r.BelongsTo == storage.DomainBlocked {
			policy = "blocked"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%t\n", r.Domain, r.BelongsTo, policy, r.RequireMFA)
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return out.Flush()
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

const federationUsage = `Usage:
  user-registry federation add --domain D --issuer URL --subject PATTERN [--audience A] [--scope S]... [flags]
  user-registry federation list [--json] [flags]
  user-registry federation remove ID [flags]

Trusts an outside OIDC issuer (a CI system, a Kubernetes cluster) for one
domain: its tokens whose sub matches PATTERN and whose aud holds A (default:
this server's issuer) are exchanged at /oauth2/token (RFC 8693 token
exchange) for authority tokens of D, with at most the scopes given. In
PATTERN, * matches any run of characters, / and : included; the match is
over the whole sub and case-sensitive (repo:acme/*:ref:refs/heads/main).
add prints the new trust as JSON. A running server sees changes within 5 s.`

// trustJSON is a trust in `federation add` and `federation list --json`.
type trustJSON struct {
	ID       string   `json:"id"`
	Domain   string   `json:"domain"`
	Issuer   string   `json:"issuer"`
	Subject  string   `json:"subject"`
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
}

func toTrustJSON(t storage.Trust) trustJSON {
	return trustJSON{ID: t.ID, Domain: t.Domain, Issuer: t.Issuer, Subject: t.Subject, Audience: t.Audience,
		Scopes: orEmpty(t.Scopes)}
}

func cmdFederation(ctx context.Context, args []string, e env) error {
	var c storeConfig
	var spec provider.TrustSpec
	var scopes stringList
	var asJSON bool
	fs := flag.NewFlagSet("federation", flag.ContinueOnError)
	c.register(fs)
	fs.StringVar(&spec.Domain, "domain", "", "add: the domain the trust yields tokens for")
	fs.StringVar(&spec.Issuer, "issuer", "", "add: the outside issuer (https URL; its iss exactly)")
	fs.StringVar(&spec.Subject, "subject", "", "add: glob over the outside token's sub (* matches anything)")
	fs.StringVar(&spec.Audience, "audience", "", "add: the aud the outside token must carry (default: this server's issuer)")
	fs.Var(&scopes, "scope", "add: a scope exchanged tokens may hold (repeatable)")
	fs.BoolVar(&asJSON, "json", false, "list: as JSON")
	pos, err := parseArgs(fs, args, e.lookupEnv, e.stdout, federationUsage)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprintln(e.stderr, federationUsage)
		return errUsage
	}
	switch pos[0] {
	case "add":
		if len(pos) != 1 {
			return errors.New("federation add takes no arguments")
		}
		if spec.Domain == "" || spec.Issuer == "" || spec.Subject == "" {
			return errors.New("federation add needs --domain, --issuer and --subject")
		}
	case "list":
		if len(pos) != 1 {
			return errors.New("federation list takes no arguments")
		}
	case "remove":
		if len(pos) != 2 {
			return errors.New("federation remove needs exactly one ID")
		}
	default:
		fmt.Fprintf(e.stderr, "unknown federation command %q\n\n%s\n", pos[0], federationUsage)
		return errUsage
	}
	spec.Scopes = scopes

	db, err := openDB(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	fed, err := provider.NewFederation(provider.FederationDeps{Store: db})
	if err != nil {
		return err
	}
	switch pos[0] {
	case "add":
		t, err := fed.Add(ctx, spec)
		if err != nil {
			if msg := provider.Message(err); msg != "" {
				return errors.New(msg)
			}
			return err
		}
		return json.NewEncoder(e.stdout).Encode(toTrustJSON(t))
	case "remove":
		if err := fed.Remove(ctx, pos[1]); err != nil {
			if errors.Is(err, provider.ErrTrustNotFound) {
				return fmt.Errorf("no trust %s", pos[1])
			}
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s\n", pos[1])
		return nil
	}
	list, err := fed.List(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		out := struct {
			Trusts []trustJSON `json:"trusts"`
		}{Trusts: []trustJSON{}}
		for _, t := range list {
			out.Trusts = append(out.Trusts, toTrustJSON(t))
		}
		return json.NewEncoder(e.stdout).Encode(out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDOMAIN\tISSUER\tSUBJECT\tAUDIENCE\tSCOPES\tCREATED")
	for _, t := range list {
		aud := t.Audience
		if aud == "" {
			aud = "(issuer)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Domain, t.Issuer, t.Subject, aud,
			strings.Join(t.Scopes, " "), t.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

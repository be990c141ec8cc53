package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
)

const keysUsage = `Usage:
  user-registry keys list [--json] [flags]
  user-registry keys rotate [--now] [flags]

Signing keys. "rotate" publishes a new key that starts signing after
--jwks-max-age (running servers pick it up within 30 s); "rotate --now" is the
emergency path for a leaked key: the new key signs at once and every older key
is withdrawn at once, so their tokens stop verifying.`

func cmdKeys(ctx context.Context, args []string, e env) error {
	var c storeConfig
	var asJSON, now bool
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	c.register(fs)
	fs.BoolVar(&asJSON, "json", false, "list as JSON")
	fs.BoolVar(&now, "now", false, "rotate: emergency rotation, withdraw the old keys at once")
	pos, err := parseArgs(fs, args, e.lookupEnv, e.stdout, keysUsage)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "list" && pos[0] != "rotate") {
		fmt.Fprintln(e.stderr, keysUsage)
		return errUsage
	}
	if err := c.validate(); err != nil {
		return err
	}
	db, secret, log, err := openWithSecret(ctx, &c, e)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, audit, flush := cliAudit(ctx, db, log)
	defer flush()
	mgr, err := c.keyManager(ctx, db, secret, log, audit)
	if err != nil {
		return err
	}
	if pos[0] == "rotate" {
		if err := mgr.Rotate(ctx, now); err != nil {
			return fmt.Errorf("rotate: %w", err)
		}
	}
	list, err := mgr.List(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(e.stdout).Encode(struct {
			Keys []keys.KeyInfo `json:"keys"`
		}{list})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tSIGNS FROM\tWITHDRAWN AT")
	for _, k := range list {
		withdraw := "-"
		if !k.WithdrawAt.IsZero() {
			withdraw = k.WithdrawAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Alg, k.State,
			k.CreatedAt.UTC().Format(time.RFC3339), k.ActivateAt.UTC().Format(time.RFC3339), withdraw)
	}
	return tw.Flush()
}

// keyManager returns the key manager the flags describe over db, with its
// keys loaded (and the first one created on a fresh database). Every key
// it creates is recorded with audit (nil: not recorded).
func (c *storeConfig) keyManager(ctx context.Context, db storage.KeyStore, secret []byte, log *slog.Logger, audit provider.Auditor) (*keys.Manager, error) {
	mgr, err := keys.NewManager(db, keys.Config{
		Alg: c.SigningAlg, Secret: secret, Rotation: c.KeyRotation,
		JWKSMaxAge: c.JWKSMaxAge, TokenTTL: c.AccessTTL, Log: log, OnCreate: keyAudit(audit),
	})
	if err != nil {
		return nil, err
	}
	if err := mgr.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return mgr, nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"user-registry/provider"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// env bundles the process environment so tests run commands in-process.
type env struct {
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
}

const mainUsage = `user-registry — an OAuth2/OIDC identity provider

Usage:
  user-registry serve [flags]
  user-registry migrate [flags]
  user-registry domains allow|block|remove DOMAIN... [flags]
  user-registry domains list [--json] [flags]
  user-registry domains import [--block|--allow] FILE | domains export [--block|--allow] [flags]
  user-registry clients create --domain D [--name N] [--scope S]... [--grant G]... [--redirect-uri U]...
                               [--audience A]... [--public] [--admin] [--domain-admin] [--trusted]
                               [--jwks FILE | --jwks-uri URL] [flags]
  user-registry clients list [--json] | clients delete ID [flags]
  user-registry federation add --domain D --issuer URL --subject PATTERN [--audience A] [--scope S]...
  user-registry federation list [--json] | federation remove ID [flags]
  user-registry keys list [--json] | keys rotate [--now] [flags]
  user-registry users import --format werkzeug FILE [flags]
  user-registry users list [--domain D] [--query Q] [--json] [flags]
  user-registry users show EMAIL|ID [--json] [flags]
  user-registry users disable|enable|logout|delete|mfa-reset EMAIL|ID [flags]
  user-registry audit list [--user U] [--domain D] [--event E] [--since T] [--json] [flags]
  user-registry version

Run "user-registry COMMAND --help" for the flags of a command.`

func main() {
	applyGCPolicy(gcPolicyFor(os.LookupEnv, runtime.NumCPU(), provider.DefaultArgon2Params()))
	stopProfile := startCPUProfile(os.LookupEnv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv})
	stop()
	stopProfile()
	os.Exit(code)
}

// run executes one command line and returns the exit code. Errors are
// printed as one line on stderr.
func run(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, mainUsage)
		return 2
	}
	var err error
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprintln(e.stdout, mainUsage)
		return 0
	case "version", "--version":
		fmt.Fprintln(e.stdout, "user-registry", version)
		return 0
	case "serve":
		err = cmdServe(ctx, args[1:], e)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], e)
	case "domains":
		err = cmdDomains(ctx, args[1:], e)
	case "clients":
		err = cmdClients(ctx, args[1:], e)
	case "keys":
		err = cmdKeys(ctx, args[1:], e)
	case "federation":
		err = cmdFederation(ctx, args[1:], e)
	case "users":
		err = cmdUsers(ctx, args[1:], e)
	case "audit":
		err = cmdAudit(ctx, args[1:], e)
	default:
		fmt.Fprintf(e.stderr, "unknown command %q\n\n%s\n", args[0], mainUsage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(e.stderr, "user-registry:", err)
	return 1
}

func cmdMigrate(ctx context.Context, args []string, e env) error {
	var c storeConfig
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	c.register(fs)
	if _, err := parseArgs(fs, args, e.lookupEnv, e.stdout, "Usage: user-registry migrate [flags]\n\nApplies the database schema and exits."); err != nil {
		return err
	}
	db, err := openDB(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(e.stdout, "schema is up to date")
	return nil
}

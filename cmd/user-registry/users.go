package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"user-registry/provider"
)

const usersImportUsage = `Usage: user-registry users import --format werkzeug FILE [flags]

Imports users exported from the original service: CSV without a header row,
email,password_hash[,phone_num], with werkzeug hashes (pbkdf2:sha256:N$salt$hex
or scrypt:n:r:p$salt$hex). The hashes are verified at the first login and then
replaced by argon2id. Bad rows and emails already present are skipped and
reported on stderr with their line number. Exit status 0 when at least one row
was imported or all were already present, 1 otherwise.`

// usersUsage is the help of `users` without a verb: every verb's.
func usersUsage() string {
	parts := []string{usersImportUsage}
	for _, v := range usersAdminVerbs {
		parts = append(parts, usersVerbUsage[v])
	}
	return strings.Join(parts, "\n\n")
}

// cmdUsers dispatches the users verbs: import (below) and the
// administration verbs (users_admin.go). The verb comes first (SPEC §1:
// flags follow the subcommand words), which picks the help text.
func cmdUsers(ctx context.Context, args []string, e env) error {
	var c storeConfig
	var format string
	var o usersOptions
	fs := flag.NewFlagSet("users", flag.ContinueOnError)
	c.register(fs)
	fs.StringVar(&format, "format", "werkzeug", "import: format of the password hashes (werkzeug)")
	fs.StringVar(&o.domain, "domain", "", "list: only users of exactly this domain")
	fs.StringVar(&o.query, "query", "", "list: only users whose email contains this text")
	fs.BoolVar(&o.json, "json", false, "list, show: as JSON")
	usage := usersUsage()
	if len(args) > 0 && args[0] == "import" {
		usage = usersImportUsage
	} else if len(args) > 0 && usersVerbUsage[args[0]] != "" {
		usage = usersVerbUsage[args[0]]
	}
	pos, err := parseArgs(fs, args, e.lookupEnv, e.stdout, usage)
	if err != nil {
		return err
	}
	if len(pos) > 0 && usersVerbUsage[pos[0]] != "" {
		return usersAdmin(ctx, &c, pos, o, e)
	}
	if len(pos) != 2 || pos[0] != "import" {
		fmt.Fprintln(e.stderr, usage)
		return errUsage
	}
	if format != "werkzeug" {
		return fmt.Errorf("--format %q is not supported (werkzeug)", format)
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openDB(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()

	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var imported, present, bad int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				fmt.Fprintf(e.stderr, "line %d: skipped: malformed CSV\n", perr.Line)
				bad++
				continue
			}
			return err
		}
		if len(rec) < 2 || len(rec) > 3 {
			fmt.Fprintf(e.stderr, "line %d: skipped: want email,password_hash[,phone_num]\n", line)
			bad++
			continue
		}
		in := provider.LegacyUser{Email: rec[0], PasswordHash: rec[1]}
		if len(rec) == 3 {
			in.Phone = rec[2]
		}
		_, err = provider.ImportLegacyUser(ctx, db, in, time.Now())
		switch {
		case err == nil:
			imported++
		case errors.Is(err, provider.ErrAlreadyPresent):
			fmt.Fprintf(e.stderr, "line %d: skipped: email already present\n", line)
			present++
		case errors.Is(err, provider.ErrInvalidInput):
			// The message names the problem, never the hash itself.
			fmt.Fprintf(e.stderr, "line %d: skipped: %s\n", line, provider.Message(err))
			bad++
		default:
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
	fmt.Fprintf(e.stdout, "imported %d, already present %d, skipped %d\n", imported, present, bad)
	if imported > 0 || (present > 0 && bad == 0) {
		return nil
	}
	return errors.New("no user imported")
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"user-registry/provider"
)

// Usage texts of the users verbs (SPEC §13); `users VERB --help` prints
// the verb's own, `users --help` all of them.
var usersVerbUsage = map[string]string{
	"list": `Usage: user-registry users list [--domain D] [--query Q] [--json] [flags]

Lists users, newest first. --domain keeps the users of exactly that domain
(not its subdomains); --query those whose email contains Q (any case).
--json prints {"users":[...]} with every page joined, each user as the admin
API shows it.`,
	"show": `Usage: user-registry users show EMAIL|ID [--json] [flags]

Shows one user: id, email, domain, phone, whether the address is verified,
whether the account is disabled, second factors, creation and last sign-in
times. --json prints the admin API's user object. Exit 1 for an unknown user.`,
	"disable": `Usage: user-registry users disable EMAIL|ID [flags]

Disables the account: the user cannot sign in ("This account is disabled."),
and every session, access token and refresh token of theirs is refused by
every server sharing --redis within a second. Without --redis a running
server's sessions live in its own process and are out of reach: its tokens of
this user then stay usable until they expire (--access-ttl), though sign-in,
refresh and new codes are refused at once. Exit 1 for an unknown user.`,
	"enable": `Usage: user-registry users enable EMAIL|ID [flags]

Enables a disabled account: the user can sign in again. Sessions and tokens
ended by the disabling stay ended. Exit 1 for an unknown user.`,
	"logout": `Usage: user-registry users logout EMAIL|ID [flags]

Ends every session and token of the user (their "log out everywhere"), on
every server sharing --redis. Exit 1 for an unknown user.`,
	"delete": `Usage: user-registry users delete EMAIL|ID [flags]

Deletes the account: every session and token of the user is ended first,
then the record and the user's consents are removed; the address can sign up
again. Exit 1 for an unknown user.`,
	"mfa-reset": `Usage: user-registry users mfa-reset EMAIL|ID [flags]

Removes the user's second factors (TOTP, passkeys) so they can sign in with
the password and enrol again. Second factors are not stored yet, so today
this only checks the user and records the event. Exit 1 for an unknown user.`,
}

// usersAdminVerbs are the verbs served by usersAdmin, in help order.
var usersAdminVerbs = []string{"list", "show", "disable", "enable", "logout", "delete", "mfa-reset"}

// usersOptions are the flags of the users admin verbs.
type usersOptions struct {
	domain, query string
	json          bool
}

// usersAdmin runs one users admin verb (pos[0]) with the shared
// provider.UserAdmin, as registry:admin would through the API (actor
// "cli").
func usersAdmin(ctx context.Context, c *storeConfig, pos []string, o usersOptions, e env) error {
	verb := pos[0]
	if verb == "list" && len(pos) != 1 {
		return errors.New("users list takes no arguments")
	}
	if verb != "list" && len(pos) != 2 {
		return fmt.Errorf("users %s needs exactly one EMAIL or ID", verb)
	}
	log, err := newLogger(c.LogFormat, e.stderr)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	eph, err := openEphemeral(ctx, c, log)
	if err != nil {
		return err
	}
	ctx, audit, flush := cliAudit(ctx, db, log)
	defer flush()
	// Disabling, logging out or deleting a user ends their browser
	// sessions: logout tokens are queued for a running server to deliver.
	logouts, err := provider.NewLogouts(provider.LogoutDeps{Store: eph, Revocations: eph, Refresh: eph, Clients: db, Log: log})
	if err != nil {
		return err
	}
	ua, err := provider.NewUserAdmin(provider.UserAdminDeps{
		Users: db, Revocations: logouts.Revocations(eph), Consents: eph, Audit: audit, Log: log,
		MFA: &provider.MFAAdmin{Store: db, Passkeys: provider.PasskeyRecords{Store: db}},
	})
	if err != nil {
		return err
	}
	// Said after a success only, so an unknown user is one line.
	warnNoRedis := func() {
		if c.Redis == "" && c.RedisCluster == "" && c.RedisSentinel == "" {
			fmt.Fprintln(e.stderr, "warning: no --redis: sessions and tokens held by a running server's own process are not reached (see --help)")
		}
	}
	all := provider.AllUsers
	switch verb {
	case "list":
		return usersList(ctx, ua, o, e)
	case "show":
		u, err := ua.Show(ctx, all, pos[1])
		if err != nil {
			return userErr(pos[1], err)
		}
		return printUser(u, o.json, e)
	case "disable", "enable":
		u, err := ua.SetDisabled(ctx, all, pos[1], verb == "disable")
		if err != nil {
			return userErr(pos[1], err)
		}
		fmt.Fprintf(e.stdout, "%sd %s (%s)\n", verb, u.Email, u.UserID)
		if u.Disabled {
			warnNoRedis()
		}
		return nil
	case "logout":
		err = ua.Logout(ctx, all, pos[1])
	case "delete":
		err = ua.Delete(ctx, all, pos[1])
	case "mfa-reset":
		err = ua.MFAReset(ctx, all, pos[1])
	}
	if err != nil {
		return userErr(pos[1], err)
	}
	done := map[string]string{"logout": "logged out everywhere", "delete": "deleted", "mfa-reset": "second factors reset"}
	fmt.Fprintf(e.stdout, "%s: %s\n", pos[1], done[verb])
	if verb != "mfa-reset" {
		warnNoRedis()
	}
	return nil
}

// userErr is the one-line error of a verb about ref.
func userErr(ref string, err error) error {
	if errors.Is(err, provider.ErrNoSuchUser) {
		return fmt.Errorf("no user %s", ref)
	}
	if msg := provider.Message(err); msg != "" {
		return errors.New(msg)
	}
	return err
}

// usersList prints every page of the list: a table, or with --json the
// pages' users joined into one {"users":[...]}.
func usersList(ctx context.Context, ua *provider.UserAdmin, o usersOptions, e env) error {
	q := provider.UserQuery{Domain: o.domain, Query: o.query, Limit: provider.MaxUserPage}
	all := provider.UserList{Users: []provider.UserEntry{}}
	for {
		page, err := ua.List(ctx, provider.AllUsers, q)
		if err != nil {
			return userErr("", err)
		}
		all.Users = append(all.Users, page.Users...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if o.json {
		return json.NewEncoder(e.stdout).Encode(all)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER_ID\tEMAIL\tDOMAIN\tVERIFIED\tDISABLED\tCREATED\tLAST_LOGIN")
	for _, u := range all.Users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%t\t%s\t%s\n", u.UserID, u.Email, u.Domain, u.IsActivated, u.Disabled,
			u.CreatedAt, orDash(u.LastLoginAt))
	}
	return tw.Flush()
}

// printUser prints one user as "field: value" lines, or the JSON object.
func printUser(u provider.UserEntry, asJSON bool, e env) error {
	if asJSON {
		return json.NewEncoder(e.stdout).Encode(u)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "user_id:       %s\nemail:         %s\ndomain:        %s\n", u.UserID, u.Email, u.Domain)
	fmt.Fprintf(&b, "phone_num:     %s\nis_activated:  %t\ndisabled:      %t\n", orDash(u.PhoneNum), u.IsActivated, u.Disabled)
	fmt.Fprintf(&b, "mfa:           totp %t, passkeys %d\n", u.MFA.TOTP, u.MFA.Passkeys)
	fmt.Fprintf(&b, "created_at:    %s\nlast_login_at: %s\n", u.CreatedAt, orDash(u.LastLoginAt))
	_, err := fmt.Fprint(e.stdout, b.String())
	return err
}

func orDash(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// legacyHash is the werkzeug hash of legacyRow, reused for made-up users:
// import does not bind a hash to its address.
const legacyHash = "pbkdf2:sha256:600000$NaCl4you$c2a833bfce2b4629c5ae5532a365480bdd4d51f92dcf3c95f1aa034b6128f1c9"

// importUsers imports the addresses into the database of db (a --db= arg).
func importUsers(t *testing.T, db string, emails ...string) {
	t.Helper()
	var b strings.Builder
	for _, e := range emails {
		fmt.Fprintf(&b, "%s,%s\n", e, legacyHash)
	}
	f := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := cli(t, nil, "users", "import", f, db); code != 0 {
		t.Fatalf("import: exit %d %s", code, errOut)
	}
}

type listedUsers struct {
	Users []map[string]any `json:"users"`
}

// cliUsersList runs `users list --json` with args and decodes it.
func cliUsersList(t *testing.T, db string, args ...string) listedUsers {
	t.Helper()
	out, errOut, code := cli(t, nil, append([]string{"users", "list", "--json", db}, args...)...)
	if code != 0 {
		t.Fatalf("users list %v: exit %d %s", args, code, errOut)
	}
	var l listedUsers
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("users list --json output %q: %v", out, err)
	}
	return l
}

// TestUsersAdminCLI: the users verbs on the built binary (SPEC §13): list
// joins every page (501 users, page size 500) and filters, show prints the
// admin API's object, disable/enable/logout/mfa-reset/delete change what
// show says, every verb exits 1 with one line for an unknown user, and
// --help exits 0.
func TestUsersAdminCLI(t *testing.T) {
	db := "--db=sqlite:" + filepath.Join(t.TempDir(), "u.db")
	emails := []string{"ann@corp.example", "Ben@corp.example", "cy@sub.corp.example"}
	for i := range 498 {
		emails = append(emails, fmt.Sprintf("bulk%03d@bulk.example", i))
	}
	importUsers(t, db, emails...)

	if got := len(cliUsersList(t, db).Users); got != 501 {
		t.Errorf("users list --json: %d users, want 501 (pages joined)", got)
	}
	if l := cliUsersList(t, db, "--domain", "corp.example"); len(l.Users) != 2 {
		t.Errorf("--domain corp.example: %v", l.Users)
	}
	if l := cliUsersList(t, db, "--query", "BEN@"); len(l.Users) != 1 || l.Users[0]["email"] != "Ben@corp.example" {
		t.Errorf("--query BEN@: %v", l.Users)
	}
	out, errOut, code := cli(t, nil, "users", "list", db, "--domain", "corp.example")
	if code != 0 || !strings.Contains(out, "ann@corp.example") || strings.Contains(out, "cy@") {
		t.Errorf("users list (table): exit %d\n%s%s", code, out, errOut)
	}

	show := func(ref string) map[string]any {
		t.Helper()
		out, errOut, code := cli(t, nil, "users", "show", ref, "--json", db)
		if code != 0 {
			t.Fatalf("users show %s: exit %d %s", ref, code, errOut)
		}
		var u map[string]any
		if err := json.Unmarshal([]byte(out), &u); err != nil {
			t.Fatalf("users show --json output %q: %v", out, err)
		}
		return u
	}
	ann := show("ann@corp.example")
	id, _ := ann["user_id"].(string)
	if ann["disabled"] != false || ann["last_login_at"] != nil || ann["domain"] != "corp.example" || id == "" {
		t.Fatalf("show: %v", ann)
	}
	if got := show(id); got["email"] != "ann@corp.example" {
		t.Errorf("show by id: %v", got)
	}
	steps := []struct {
		verb     string
		disabled bool
	}{{"disable", true}, {"logout", true}, {"mfa-reset", true}, {"enable", false}}
	for _, s := range steps {
		if out, errOut, code := cli(t, nil, "users", s.verb, "ann@corp.example", db); code != 0 {
			t.Fatalf("users %s: exit %d %s%s", s.verb, code, out, errOut)
		}
		if got := show(id); got["disabled"] != s.disabled {
			t.Errorf("after %s: disabled = %v", s.verb, got["disabled"])
		}
	}
	if _, errOut, code := cli(t, nil, "users", "delete", id, db); code != 0 {
		t.Fatalf("users delete: exit %d %s", code, errOut)
	}
	for _, verb := range []string{"show", "disable", "enable", "logout", "delete", "mfa-reset"} {
		_, errOut, code := cli(t, nil, "users", verb, "ann@corp.example", db)
		if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "no user ann@corp.example") {
			t.Errorf("users %s of an unknown user: exit %d, stderr %q", verb, code, errOut)
		}
	}
	for _, verb := range append([]string{""}, usersAdminVerbs...) {
		args := []string{"users", verb, "--help"}
		if verb == "" {
			args = []string{"users", "--help"}
		}
		out, _, code := cli(t, nil, args...)
		if code != 0 || !strings.Contains(out, "user-registry users "+verb) {
			t.Errorf("users %s --help: exit %d\n%s", verb, code, out)
		}
	}
	if _, _, code := cli(t, nil, "users", "show", db); code != 1 {
		t.Errorf("users show without a user: exit %d, want 1", code)
	}
}

// TestClientsCreateDomainAdmin: --domain-admin adds scope domain:admin,
// which no client gets by asking for it.
func TestClientsCreateDomainAdmin(t *testing.T) {
	db := "--db=sqlite:" + filepath.Join(t.TempDir(), "c.db")
	out, errOut, code := cli(t, nil, "clients", "create", "--domain", "corp.example", "--domain-admin", db)
	if code != 0 {
		t.Fatalf("clients create --domain-admin: exit %d %s", code, errOut)
	}
	var c struct{ Scopes []string }
	if err := json.Unmarshal([]byte(out), &c); err != nil || strings.Join(c.Scopes, " ") != "domain:admin" {
		t.Fatalf("scopes %v (%v) in %s", c.Scopes, err, out)
	}
	if _, _, code := cli(t, nil, "clients", "create", "--domain", "corp.example", "--scope", "domain:admin", db); code != 1 {
		t.Errorf("--scope domain:admin without --domain-admin: exit %d, want 1", code)
	}
}

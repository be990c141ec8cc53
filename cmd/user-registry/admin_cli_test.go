package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"user-registry/storage/sqlstore"
)

// legacyRow is a werkzeug pbkdf2 hash of "Legacy-Passw0rd!" computed
// independently (Python's hashlib.pbkdf2_hmac, 600000 iterations).
const legacyRow = "Old.User@Example.org,pbkdf2:sha256:600000$NaCl4you$c2a833bfce2b4629c5ae5532a365480bdd4d51f92dcf3c95f1aa034b6128f1c9,+92 123 4567890"

func TestUsersImport(t *testing.T) {
	dir := t.TempDir()
	db := "--db=sqlite:" + filepath.Join(dir, "u.db")
	csvFile := filepath.Join(dir, "users.csv")
	rows := strings.Join([]string{
		legacyRow,
		"not-an-email,pbkdf2:sha256:1000$s$00",
		"second@example.org,plain$$hunter2",
		"old.user@example.org,pbkdf2:sha256:600000$NaCl4you$c2a833bfce2b4629c5ae5532a365480bdd4d51f92dcf3c95f1aa034b6128f1c9",
		"onlyonefield",
	}, "\n") + "\n"
	if err := os.WriteFile(csvFile, []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := cli(t, nil, "users", "import", "--format", "werkzeug", csvFile, db)
	if code != 0 || !strings.Contains(out, "imported 1") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"line 2: skipped", "line 3: skipped", "line 4: skipped: email already present", "line 5: skipped"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "hunter2") || strings.Contains(errOut, "c2a833bf") {
		t.Fatalf("stderr shows a hash:\n%s", errOut)
	}
	// Again: everything is already present or bad → nothing imported, exit 1
	// (bad rows remain); a file of only present rows exits 0.
	if _, _, code := cli(t, nil, "users", "import", csvFile, db); code != 1 {
		t.Fatalf("re-import with bad rows: exit %d, want 1", code)
	}
	onlyPresent := filepath.Join(dir, "present.csv")
	os.WriteFile(onlyPresent, []byte(legacyRow+"\n"), 0o600)
	if _, errOut, code := cli(t, nil, "users", "import", onlyPresent, db); code != 0 {
		t.Fatalf("all present: exit %d %s", code, errOut)
	}
	if _, _, code := cli(t, nil, "users", "import", filepath.Join(dir, "missing.csv"), db); code != 1 {
		t.Fatalf("missing file: exit %d", code)
	}

	// The imported user signs in with the old password (SEC-31), and the
	// werkzeug hash is replaced by argon2id at that first login.
	srv := startServer(t, nil, db)
	if code, body := call(t, "POST", srv.base+"/login", `{"email":"old.user@example.org","password":"Legacy-Passw0rd!"}`, ""); code != 200 {
		t.Fatalf("login with the legacy password = %d %v", code, body)
	}
	if code, _ := call(t, "POST", srv.base+"/login", `{"email":"old.user@example.org","password":"legacy-passw0rd!"}`, ""); code != 401 {
		t.Fatalf("login with a wrong legacy password = %d, want 401", code)
	}
	store, err := sqlstore.Open(context.Background(), strings.TrimPrefix(db, "--db="))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u, err := store.UserByEmail(context.Background(), "old.user@example.org")
	if err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$") || u.PhoneNum != "+921234567890" {
		t.Fatalf("after first login: hash %.12q phone %q err %v", u.PasswordHash, u.PhoneNum, err)
	}
}

func TestKeysListAndRotate(t *testing.T) {
	db := "--db=sqlite:" + filepath.Join(t.TempDir(), "k.db")
	type keyList struct {
		Keys []struct {
			KID, State string
			Emergency  bool
		}
	}
	list := func() keyList {
		t.Helper()
		out, errOut, code := cli(t, nil, "keys", "list", "--json", db)
		if code != 0 {
			t.Fatalf("keys list: %d %s", code, errOut)
		}
		var l keyList
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return l
	}
	if l := list(); len(l.Keys) != 1 || l.Keys[0].State != "active" {
		t.Fatalf("fresh install: %+v", l)
	}
	if _, errOut, code := cli(t, nil, "keys", "rotate", db); code != 0 {
		t.Fatal(errOut)
	}
	l := list()
	if len(l.Keys) != 2 || l.Keys[0].State != "active" || l.Keys[1].State != "next" {
		t.Fatalf("after rotate: %+v", l)
	}
	if _, errOut, code := cli(t, nil, "keys", "rotate", "--now", db); code != 0 {
		t.Fatal(errOut)
	}
	l = list()
	last := l.Keys[len(l.Keys)-1]
	if last.State != "active" || !last.Emergency {
		t.Fatalf("after rotate --now: %+v", l)
	}
	for _, k := range l.Keys[:len(l.Keys)-1] {
		if k.State == "active" || k.State == "next" || k.State == "retired" {
			t.Fatalf("old key %s still %s after emergency rotation", k.KID, k.State)
		}
	}
}

// TestClientsCreatePublicMinimal: the minimal public form of SPEC §1 works
// and prints no secret (the missing redirect URI is only warned about).
func TestClientsCreatePublicMinimal(t *testing.T) {
	db := "--db=sqlite:" + filepath.Join(t.TempDir(), "c.db")
	out, errOut, code := cli(t, nil, "clients", "create", "--domain", "Example.COM", "--public", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %q", out)
	}
	if _, has := got["client_secret"]; has || got["domain"] != "example.com" || got["client_id"] == "" {
		t.Fatalf("public client output = %v", got)
	}
	if !strings.Contains(errOut, "warning") {
		t.Fatalf("no warning about the missing redirect URI: %q", errOut)
	}
}

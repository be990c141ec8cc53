package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite", to plant a failing trigger
	_ "github.com/go-sql-driver/mysql"

	"user-registry/provider"
	"user-registry/storage/sqlstore/sqltest"
)

// importBackend is a fresh database for the import tests, and a way to make
// its INSERT of one domain fail the way a real database fails (a trigger).
type importBackend struct {
	name, db string
	failOn   func(t *testing.T, domain string)
}

func importBackends(t *testing.T) []importBackend {
	t.Helper()
	path := filepath.Join(t.TempDir(), "d.db")
	out := []importBackend{{
		name: "sqlite",
		db:   "--db=sqlite:" + path,
		failOn: func(t *testing.T, domain string) {
			execSQL(t, "sqlite", path, "CREATE TRIGGER fail_import BEFORE INSERT ON domain_checks WHEN NEW.domain = '"+domain+"' BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
		},
	}}
	if root := os.Getenv("USER_REGISTRY_TEST_MYSQL"); root != "" {
		dsn, name := sqltest.FreshMySQL(t, root)
		u, _ := url.Parse(dsn)
		driverDSN := fmt.Sprintf("%s@tcp(%s)/%s", u.User.Username(), u.Host, name)
		out = append(out, importBackend{
			name: "mysql",
			db:   "--db=" + dsn,
			failOn: func(t *testing.T, domain string) {
				execSQL(t, "mysql", driverDSN, "CREATE TRIGGER fail_import BEFORE INSERT ON domain_checks FOR EACH ROW BEGIN IF NEW.domain = '"+domain+"' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF; END")
			},
		})
	}
	return out
}

func execSQL(t *testing.T, driver, dsn, stmt string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var summaryRE = regexp.MustCompile(`(?m)^imported (\d+), already present (\d+), duplicates (\d+), skipped (\d+), of (\d+) lines in \S+$`)

// summary returns the counts of the summary line of an import's stderr.
func summary(t *testing.T, stderr string) string {
	t.Helper()
	m := summaryRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary line in %q", stderr)
	}
	return strings.Join(m[1:], " ")
}

// TestDomainsImportExport: `domains import` skips comments and blank lines,
// normalizes, counts duplicates once, reports bad lines with their numbers
// (SEC-72), exits 0 when something was imported or all was present already
// and 1 otherwise; `domains export` prints the list in the same format.
func TestDomainsImportExport(t *testing.T) {
	for _, b := range importBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			list := writeFile(t, "list.txt", strings.Join([]string{
				"# disposable mail domains", // 1
				"",                          // 2
				"Spam.EXAMPLE.",             // 3
				"spam.example   # the same", // 4
				"bücher.example",            // 5
				"not a domain",              // 6
				"-bad-.example",             // 7
				"\tmail.trash.example\r",    // 8
			}, "\n")+"\n")
			out, errOut, code := cli(t, nil, "domains", "import", list, b.db)
			if code != 0 || out != "" || summary(t, errOut) != "3 0 1 2 8" {
				t.Fatalf("import = %d, stdout %q, stderr %q", code, out, errOut)
			}
			for _, want := range []string{`line 6: skipped: Please provide a valid domain: "not a domain"`, `line 7: skipped: Please provide a valid domain: "-bad-.example"`} {
				if !strings.Contains(errOut, want+"\n") {
					t.Errorf("stderr lacks %q: %q", want, errOut)
				}
			}
			if strings.Count(errOut, "skipped:") != 2 {
				t.Errorf("stderr reports other lines: %q", errOut)
			}
			out, errOut, code = cli(t, nil, "domains", "export", b.db)
			const blocked = "mail.trash.example\nspam.example\nxn--bcher-kva.example\n"
			if code != 0 || out != blocked {
				t.Fatalf("export = %d %q %q", code, out, errOut)
			}
			// The export imports again as "all present": exit 0.
			exported := writeFile(t, "export.txt", out)
			if _, errOut, code := cli(t, nil, "domains", "import", "--block", exported, b.db); code != 0 || summary(t, errOut) != "0 3 0 0 3" {
				t.Fatalf("re-import = %d %q", code, errOut)
			}
			// The allow list is its own; moving a domain to it is an import.
			allow := writeFile(t, "allow.txt", "ok.example\nspam.example\n")
			if _, errOut, code := cli(t, nil, "domains", "import", allow, "--allow", b.db); code != 0 || summary(t, errOut) != "2 0 0 0 2" {
				t.Fatalf("allow import = %d %q", code, errOut)
			}
			if out, _, code := cli(t, nil, "domains", "export", "--allow", b.db); code != 0 || out != "ok.example\nspam.example\n" {
				t.Fatalf("allow export = %d %q", code, out)
			}
			if out, _, code := cli(t, nil, "domains", "export", "--block", b.db); code != 0 || out != "mail.trash.example\nxn--bcher-kva.example\n" {
				t.Fatalf("block export = %d %q", code, out)
			}
			if out, _, code := cli(t, nil, "domains", "list", "--json", b.db); code != 0 || !strings.HasPrefix(out, `{"domains":[{"domain":"mail.trash.example","belongs_to":1,"require_mfa":false},`) {
				t.Fatalf("list --json = %d %q", code, out)
			}

			for _, tc := range []struct {
				name, content string
				args          []string
				code          int
				summary       string // "" = no import ran
			}{
				{"nothing but bad lines", "bad domain\nlocalhost\n", nil, 1, "0 0 0 2 2"},
				{"present and bad", "ok.example\nbad domain\n", []string{"--allow"}, 1, "0 1 0 1 2"},
				{"empty file", "", nil, 1, "0 0 0 0 0"},
				{"comments only", "# nothing\n\n", nil, 1, "0 0 0 0 2"},
				{"both lists", "x.example\n", []string{"--block", "--allow"}, 1, ""},
				{"no such file", "", []string{"/nonexistent/list.txt"}, 1, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					args := append([]string{"domains", "import", b.db}, tc.args...)
					if tc.name != "no such file" {
						args = append(args, writeFile(t, "in.txt", tc.content))
					}
					_, errOut, code := cli(t, nil, args...)
					if code != tc.code {
						t.Fatalf("exit %d, want %d: %q", code, tc.code, errOut)
					}
					if tc.summary != "" && summary(t, errOut) != tc.summary {
						t.Fatalf("summary %q, want %q", summary(t, errOut), tc.summary)
					}
				})
			}
		})
	}
}

// TestDomainsImportFailureLeavesNothing: SEC-72. A database error in the
// last batch of an import (an INSERT trigger that refuses one domain) fails
// the run with exit 1, and none of the earlier batches, nor a change to a
// record that existed, is left behind.
func TestDomainsImportFailureLeavesNothing(t *testing.T) {
	for _, b := range importBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			if _, _, code := cli(t, nil, "domains", "allow", "d00007.example", b.db); code != 0 {
				t.Fatal("allow failed")
			}
			b.failOn(t, "zzz-fail.example")
			var list strings.Builder
			for i := range 5000 {
				fmt.Fprintf(&list, "d%05d.example\n", i)
			}
			list.WriteString("zzz-fail.example\n") // sorts last: written after every other batch
			_, errOut, code := cli(t, nil, "domains", "import", writeFile(t, "list.txt", list.String()), b.db)
			if code != 1 || !strings.Contains(errOut, "nothing was imported") || summaryRE.MatchString(errOut) {
				t.Fatalf("failing import = %d %q", code, errOut)
			}
			if out, _, _ := cli(t, nil, "domains", "export", "--block", b.db); out != "" {
				t.Fatalf("blocked after a failed import: %d bytes, first %q", len(out), out[:min(len(out), 40)])
			}
			if out, _, _ := cli(t, nil, "domains", "export", "--allow", b.db); out != "d00007.example\n" {
				t.Fatalf("allowed after a failed import: %q", out)
			}
		})
	}
}

// TestDomainsImportHostileFiles: SEC-72. A binary file and a file of
// 1,000,000 lines neither crash the import nor hold it up, and a server on
// the same database keeps serving and honours the import within
// provider.DomainPolicyTTL.
func TestDomainsImportHostileFiles(t *testing.T) {
	db := "--db=sqlite:" + filepath.Join(t.TempDir(), "d.db")
	srv := startServer(t, nil, db)

	// Random bytes, NULs and newlines included, and lines far longer than
	// a domain.
	rnd := rand.New(rand.NewPCG(1, 2))
	bin := make([]byte, 4<<20)
	for i := range bin {
		bin[i] = byte(rnd.Uint32())
	}
	_, errOut, code := cli(t, nil, "domains", "import", writeFile(t, "list.bin", string(bin)), db)
	if strings.Contains(errOut, "panic") || code != 0 && code != 1 {
		t.Fatalf("binary file: exit %d, %.300q", code, errOut)
	}
	s := strings.Fields(summary(t, errOut))
	if s[3] == "0" || !strings.Contains(errOut, `skipped: Please provide a valid domain: "`) {
		t.Fatalf("binary file: summary %v, no bad line reported", s)
	}

	// A million lines: comments, blanks, bad lines, and 9,700 domains each
	// named 100 times.
	var big strings.Builder
	for i := range 1_000_000 {
		switch i % 100 {
		case 0:
			fmt.Fprintf(&big, "# comment %d\n", i)
		case 1:
			fmt.Fprintf(&big, "bad line %d\n", i)
		case 2:
			big.WriteString("\n")
		default:
			fmt.Fprintf(&big, "d%05d.huge.example\n", i%10000)
		}
	}
	_, errOut, code = cli(t, nil, "domains", "import", writeFile(t, "big.txt", big.String()), db)
	if code != 0 || summary(t, errOut) != "9700 0 960300 10000 1000000" {
		t.Fatalf("1,000,000 lines: exit %d, summary %q", code, summaryRE.FindString(errOut))
	}
	if !strings.Contains(errOut, "line 999902: skipped: Please provide a valid domain: \"bad line 999901\"\n") {
		t.Fatal("last bad line not reported with its number")
	}
	status, _ := call(t, "GET", srv.base+"/healthz", "", "")
	if status != 200 {
		t.Fatalf("healthz after the imports = %d", status)
	}
	eventually(t, provider.DomainPolicyTTL+5*time.Second, "the import honoured by the server", func() bool {
		status, body := call(t, "POST", srv.base+"/signup", `{"email":"eve@mail.d00042.huge.example","password":"correct horse battery staple"}`, "")
		return status == 401 && body["message"] == "You are not allowed to register."
	})
}

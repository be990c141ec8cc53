package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"user-registry/provider"
)

func TestNewMailer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail", "out")
	tests := []struct {
		name    string
		c       serveConfig
		want    string // "", "smtp", "dir"
		errText string
	}{
		{"neither", serveConfig{}, "", ""},
		{"smtp", serveConfig{SMTPURL: "smtp://u:p@mail.example.com:587", MailFrom: "noreply@example.com"}, "smtp", ""},
		{"smtps", serveConfig{SMTPURL: "smtps://mail.example.com:465", MailFrom: "Registry <noreply@example.com>"}, "smtp", ""},
		{"dir", serveConfig{MailDir: dir}, "dir", ""},
		{"both", serveConfig{SMTPURL: "smtp://mail.example.com:25", MailDir: dir, MailFrom: "a@b.c"}, "", "exclude"},
		{"smtp without from", serveConfig{SMTPURL: "smtp://mail.example.com:25"}, "", "--mail-from"},
		{"bad scheme", serveConfig{SMTPURL: "http://u:hunter2@mail.example.com:25", MailFrom: "a@b.c"}, "", "scheme"},
		{"no port", serveConfig{SMTPURL: "smtp://u:hunter2@mail.example.com", MailFrom: "a@b.c"}, "", "HOST:PORT"},
		{"bad from", serveConfig{SMTPURL: "smtp://mail.example.com:25", MailFrom: "not an address"}, "", "sender"},
		{"from alone", serveConfig{MailFrom: "a@b.c"}, "", "--mail-from"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newMailer(&tc.c, "http://127.0.0.1:8080")
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) || strings.Contains(err.Error(), "hunter2") ||
					strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line with %q and no password", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch m.(type) {
			case nil:
				if tc.want != "" {
					t.Fatalf("no mailer, want %s", tc.want)
				}
			case *provider.SMTPMailer:
				if tc.want != "smtp" {
					t.Fatalf("SMTP mailer, want %q", tc.want)
				}
			case *provider.DirMailer:
				if tc.want != "dir" {
					t.Fatalf("dir mailer, want %q", tc.want)
				}
				if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
					t.Fatalf("mail dir not created: %v", err)
				}
			}
		})
	}
}

func TestServeBadSMTPURL(t *testing.T) {
	dbArg := "--db=sqlite:" + filepath.Join(t.TempDir(), "x.db")
	_, errOut, code := cli(t, nil, "serve", "--addr", "127.0.0.1:0", dbArg, "--smtp-url", "smtp://u:hunter2@host", "--mail-from", "a@b.c")
	if code != 1 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--smtp-url") ||
		strings.Contains(errOut, "hunter2") {
		t.Fatalf("exit %d stderr %q; want 1 and one line naming --smtp-url without the password", code, errOut)
	}
}

var emlLinkRE = regexp.MustCompile(`(/verify-email\?token=[A-Za-z0-9_-]+)`)

// waitForMail waits for the first .eml file in dir. The mail is written by
// another process, so there is nothing to synchronize with but the file
// system; the directory mailer renames complete files into place.
func waitForMail(t *testing.T, dir string) string {
	t.Helper()
	var files []string
	eventually(t, 20*time.Second, "a mail written", func() bool {
		files, _ = filepath.Glob(filepath.Join(dir, "*.eml"))
		return len(files) > 0
	})
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeMailDirAndRequireVerified runs the binary with --mail-dir and
// --require-verified-email: signup mails a link, login is refused until
// it is followed.
func TestServeMailDirAndRequireVerified(t *testing.T) {
	dir := t.TempDir()
	dbArg := "--db=sqlite:" + filepath.Join(t.TempDir(), "x.db")
	srv := startServer(t, nil, dbArg, "--mail-dir", dir, "--require-verified-email")
	post := func(path, body string) (int, map[string]any) {
		resp, err := http.Post(srv.base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	creds := `{"email":"ann@example.com","password":"correct horse battery 9"}`
	if code, v := post("/signup", creds); code != 201 {
		t.Fatalf("signup %d %v", code, v)
	}
	if code, v := post("/login", creds); code != 403 || v["message"] != "Please verify your email address." {
		t.Fatalf("login before verifying: %d %v", code, v)
	}
	eml := waitForMail(t, dir)
	m := emlLinkRE.FindStringSubmatch(eml)
	if m == nil || !strings.Contains(eml, srv.base+m[1]) {
		t.Fatalf("no verification link to %s in:\n%s", srv.base, eml)
	}
	if code, v := getJSON(t, srv.base+m[1]); code != 200 || v["message"] != "Email verified" {
		t.Fatalf("verify: %d %v", code, v)
	}
	if code, v := post("/login", creds); code != 200 || v["access_token"] == nil {
		t.Fatalf("login after verifying: %d %v", code, v)
	}
	if code, v := post("/password/forgot", `{"email":"nobody@example.com"}`); code != 202 ||
		v["message"] != "If that address is registered, a reset link has been sent." {
		t.Fatalf("forgot: %d %v", code, v)
	}
	srv.stop()
	if strings.Contains(srv.logs.String(), m[1]) {
		t.Fatal("token in the server log")
	}
}

package provider_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"mime"
	"net"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/provider"
)

var mailNow = func() time.Time { return time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC) }

// readEML parses the only .eml file in dir.
func readEML(t *testing.T, dir string) *mail.Message {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d .eml files, want 1", len(files))
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDirMailerWritesRFC5322(t *testing.T) {
	dir := t.TempDir()
	d, err := provider.NewDirMailer(dir, "User Registry <noreply@id.example.test>", mailNow)
	if err != nil {
		t.Fatal(err)
	}
	text := "Hello,\n\nopen https://id.example.test/verify-email?token=abc_DEF-123\n\nGrüße\n"
	if err := d.Send(context.Background(), provider.Mail{To: "ann@example.com", Subject: "Verify – now", Text: text}); err != nil {
		t.Fatal(err)
	}
	m := readEML(t, dir)
	for k, want := range map[string]string{
		"From": "User Registry <noreply@id.example.test>", "To": "ann@example.com",
		"MIME-Version": "1.0", "Content-Type": "text/plain; charset=utf-8",
	} {
		if got := m.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if date, err := m.Header.Date(); err != nil || !date.Equal(mailNow()) {
		t.Errorf("Date = %v, %v", date, err)
	}
	if id := m.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@id.example.test>") {
		t.Errorf("Message-ID = %q", id)
	}
	if subj, err := new(mimeDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil || subj != "Verify – now" {
		t.Errorf("Subject = %q, %v", subj, err)
	}
	body, _ := io.ReadAll(m.Body)
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != text {
		t.Errorf("body = %q, want %q", got, text)
	}
	// No temporary file is left behind.
	all, _ := os.ReadDir(dir)
	if len(all) != 1 {
		t.Errorf("%d files in the mail dir, want 1", len(all))
	}
}

func TestMailRefusesHeaderInjection(t *testing.T) {
	dir := t.TempDir()
	d, _ := provider.NewDirMailer(dir, "noreply@id.example.test", mailNow)
	for _, m := range []provider.Mail{
		{To: "a@example.com\r\nBcc: victim@example.com", Subject: "x", Text: "x"},
		{To: "a@example.com", Subject: "x\nBcc: victim@example.com", Text: "x"},
	} {
		if err := d.Send(context.Background(), m); err == nil {
			t.Errorf("sent %+v", m)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Errorf("files written: %v", files)
	}
}

func TestNewDirMailerErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	for _, tc := range []struct{ dir, from string }{
		{"/does/not/exist", "a@b.c"}, {file, "a@b.c"}, {t.TempDir(), "not an address"},
	} {
		if _, err := provider.NewDirMailer(tc.dir, tc.from, nil); err == nil {
			t.Errorf("NewDirMailer(%q, %q) accepted", tc.dir, tc.from)
		}
	}
}

// gateMailer blocks every Send until release is closed, counting sends.
type gateMailer struct {
	release chan struct{}
	mu      sync.Mutex
	sent    []string
}

func (g *gateMailer) Send(ctx context.Context, m provider.Mail) error {
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	g.sent = append(g.sent, m.Subject)
	g.mu.Unlock()
	return nil
}

func TestMailQueue(t *testing.T) {
	g := &gateMailer{release: make(chan struct{})}
	q := provider.NewMailQueue(g, 2, 1, nil)
	// The worker is stuck on one mail and two wait: further mails are
	// dropped at once instead of blocking the caller.
	accepted, dropped := 0, 0
	for i := range 10 {
		if q.Enqueue(provider.Mail{Subject: string(rune('a' + i))}) {
			accepted++
		} else {
			dropped++
		}
	}
	if accepted < 2 || accepted > 3 || dropped == 0 {
		t.Fatalf("accepted %d, dropped %d of 10 with room for 2 (+1 in the worker)", accepted, dropped)
	}
	close(g.release)
	q.Flush()
	g.mu.Lock()
	n := len(g.sent)
	g.mu.Unlock()
	if n != accepted {
		t.Fatalf("sent %d mails, want %d", n, accepted)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q.Enqueue(provider.Mail{Subject: "late"}) {
		t.Fatal("enqueue after Close succeeded")
	}
}

func TestMailQueueCloseDrains(t *testing.T) {
	dir := t.TempDir()
	d, _ := provider.NewDirMailer(dir, "noreply@id.example.test", nil)
	q := provider.NewMailQueue(d, 10, 2, nil)
	for range 5 {
		q.Enqueue(provider.Mail{To: "a@example.com", Subject: "s", Text: "t\n"})
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.eml")); len(files) != 5 {
		t.Fatalf("%d mails written, want 5", len(files))
	}
}

func TestMailQueueCloseTimeout(t *testing.T) {
	g := &gateMailer{release: make(chan struct{})}
	q := provider.NewMailQueue(g, 2, 1, nil)
	q.Enqueue(provider.Mail{Subject: "stuck"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Close(ctx); err == nil {
		t.Fatal("Close with an ended context reported success while a send hung")
	}
}

func TestParseSMTPURL(t *testing.T) {
	for _, tc := range []struct {
		url      string
		ok, impl bool
	}{
		{"smtp://mail.example.com:587", true, false},
		{"smtp://user:pa%40ss@mail.example.com:25", true, false},
		{"smtps://mail.example.com:465", true, true},
		{"http://mail.example.com:25", false, false},
		{"smtp://mail.example.com", false, false},
		{"smtp://mail.example.com:25/path", false, false},
		{"smtp://:25", false, false},
		{"::", false, false},
	} {
		_, impl, err := provider.ParseSMTPURL(tc.url)
		if (err == nil) != tc.ok || impl != tc.impl {
			t.Errorf("ParseSMTPURL(%q) = %v, %v", tc.url, impl, err)
		}
		if err != nil && strings.Contains(err.Error(), "pa%40ss") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// smtpServer is a tiny SMTP server accepting mail on 127.0.0.1 for tests.
type smtpServer struct {
	addr  string
	tls   *tls.Config // nil: no STARTTLS
	mu    sync.Mutex
	from  string
	rcpt  []string
	data  string
	auth  string
	tlsOn bool
}

// startSMTP listens on 127.0.0.1:0. mode: "plain", "starttls" or
// "implicit". It returns the server and the client TLS config trusting it.
func startSMTP(t *testing.T, mode string) (*smtpServer, *tls.Config) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS() // only for its certificate for 127.0.0.1
	t.Cleanup(ts.Close)
	srvTLS := &tls.Config{Certificates: ts.TLS.Certificates}
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	var ln net.Listener
	var err error
	if mode == "implicit" {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srvTLS)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &smtpServer{addr: ln.Addr().String(), tlsOn: mode == "implicit"}
	if mode == "starttls" {
		s.tls = srvTLS
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s, &tls.Config{RootCAs: pool}
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(c), c
	say := func(l string) { io.WriteString(w, l+"\r\n") }
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		s.mu.Lock()
		switch verb {
		case "EHLO":
			if s.tls != nil && !s.tlsOn {
				say("250-test")
				say("250-STARTTLS")
				say("250 8BITMIME")
			} else {
				say("250-test")
				say("250-AUTH PLAIN")
				say("250 8BITMIME")
			}
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				s.mu.Unlock()
				return
			}
			c, s.tlsOn = tc, true
			r, w = bufio.NewReader(tc), tc
		case "AUTH":
			f := strings.Fields(line)
			b, _ := base64.StdEncoding.DecodeString(f[len(f)-1])
			s.auth = string(b)
			say("235 ok")
		case "MAIL":
			s.from = line
			say("250 ok")
		case "RCPT":
			s.rcpt = append(s.rcpt, line)
			say("250 ok")
		case "DATA":
			say("354 go")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil || l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.data = b.String()
			say("250 queued")
		case "QUIT":
			say("221 bye")
			s.mu.Unlock()
			return
		default:
			say("502 no")
		}
		s.mu.Unlock()
	}
}

func TestSMTPMailer(t *testing.T) {
	for _, tc := range []struct{ mode, url, auth string }{
		{"plain", "smtp://%s", ""},
		{"starttls", "smtp://user:s3cret@%s", "\x00user\x00s3cret"},
		{"implicit", "smtps://user:s3cret@%s", "\x00user\x00s3cret"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			srv, clientTLS := startSMTP(t, tc.mode)
			m, err := provider.NewSMTPMailer(strings.Replace(tc.url, "%s", srv.addr, 1), "Registry <noreply@id.example.test>", mailNow)
			if err != nil {
				t.Fatal(err)
			}
			m.TLS = clientTLS
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := m.Send(ctx, provider.Mail{To: "ann@example.com", Subject: "Hi", Text: "line one\n.leading dot\n"}); err != nil {
				t.Fatal(err)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if srv.from != "MAIL FROM:<noreply@id.example.test> BODY=8BITMIME" && srv.from != "MAIL FROM:<noreply@id.example.test>" {
				t.Errorf("MAIL = %q", srv.from)
			}
			if len(srv.rcpt) != 1 || srv.rcpt[0] != "RCPT TO:<ann@example.com>" {
				t.Errorf("RCPT = %q", srv.rcpt)
			}
			if srv.auth != tc.auth {
				t.Errorf("AUTH = %q, want %q", srv.auth, tc.auth)
			}
			if tc.mode != "plain" && !srv.tlsOn {
				t.Error("mail sent without TLS")
			}
			msg, err := mail.ReadMessage(strings.NewReader(srv.data))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(msg.Body)
			// The server sees dot-stuffing ("..leading dot").
			if msg.Header.Get("To") != "ann@example.com" || string(body) != "line one\r\n..leading dot\r\n" {
				t.Errorf("message: To %q body %q", msg.Header.Get("To"), body)
			}
		})
	}
}

func TestSMTPMailerUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	m, err := provider.NewSMTPMailer("smtp://"+addr, "noreply@id.example.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), provider.Mail{To: "a@example.com", Subject: "s", Text: "secret-token"}); err == nil ||
		strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("err = %v", err)
	}
}

type mimeDecoder = mime.WordDecoder

package provider

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/url"
	"time"
)

// SMTPMailer delivers mail to one SMTP server (--smtp-url). smtp:// uses
// STARTTLS whenever the server offers it; smtps:// speaks TLS from the
// first byte (port 465 style). Credentials, when given, are sent with
// AUTH PLAIN, which net/smtp allows only over TLS or to localhost, so a
// password never crosses the network in clear text.
type SMTPMailer struct {
	addr     string // host:port
	host     string
	implicit bool // smtps://
	auth     smtp.Auth
	from     string // header From
	envFrom  string // MAIL FROM
	// TLS is the client TLS configuration; nil verifies against the system
	// roots for host. Tests set RootCAs.
	TLS *tls.Config
	now func() time.Time
}

// ParseSMTPURL checks --smtp-url: smtp://[USER:PASS@]HOST:PORT or
// smtps://…, nothing else (no path, query or fragment). Returns an error
// without the password for anything else.
func ParseSMTPURL(raw string) (u *url.URL, implicitTLS bool, err error) {
	u, err = url.Parse(raw)
	if err != nil {
		return nil, false, errors.New("--smtp-url: not a URL (want smtp://[USER:PASS@]HOST:PORT or smtps://…)")
	}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		implicitTLS = true
	default:
		return nil, false, fmt.Errorf("--smtp-url: scheme must be smtp or smtps, got %q", u.Scheme)
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, false, errors.New("--smtp-url: want HOST:PORT")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, false, errors.New("--smtp-url: only [USER:PASS@]HOST:PORT after the scheme")
	}
	return u, implicitTLS, nil
}

// NewSMTPMailer returns a mailer for rawURL (see ParseSMTPURL) sending as
// from (an RFC 5322 address, "Name <a@b>" allowed). now nil means
// time.Now. Returns an error for a bad URL or sender.
func NewSMTPMailer(rawURL, from string, now func() time.Time) (*SMTPMailer, error) {
	u, implicit, err := ParseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	env, err := envelopeAddress(from)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	m := &SMTPMailer{addr: u.Host, host: u.Hostname(), implicit: implicit, from: from, envFrom: env, now: now}
	if u.User != nil {
		pass, _ := u.User.Password()
		m.auth = smtp.PlainAuth("", u.User.Username(), pass, m.host)
	}
	return m, nil
}

func (m *SMTPMailer) tlsConfig() *tls.Config {
	if m.TLS != nil {
		c := m.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = m.host
		}
		return c
	}
	return &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
}

// Send delivers one mail in one SMTP session, bounded by ctx. Returns the
// dial, TLS or SMTP error (which never contains the body).
func (m *SMTPMailer) Send(ctx context.Context, msg Mail) error {
	body, err := formatMessage(m.from, msg, m.now())
	if err != nil {
		return err
	}
	rcpt, err := envelopeAddress(msg.To)
	if err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	defer conn.Close()
	// The session as a whole honours ctx: a deadline bounds it, and a
	// cancellation closes the connection.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if m.implicit {
		conn = tls.Client(conn, m.tlsConfig())
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer c.Close()
	if !m.implicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tlsConfig()); err != nil {
				return fmt.Errorf("smtp: starttls: %w", err)
			}
		}
	}
	if m.auth != nil {
		if err := c.Auth(m.auth); err != nil {
			return fmt.Errorf("smtp: auth: %w", err)
		}
	}
	if err := c.Mail(m.envFrom); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		return fmt.Errorf("smtp: RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	// The mail is accepted once DATA is; a failed QUIT is harmless.
	c.Quit()
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// newMailer builds the mailer --smtp-url or --mail-dir asks for (SPEC
// §3a); nil with neither (users are then activated at signup). issuer
// gives the default sender of the mail directory, noreply@<issuer host>;
// a real relay gets an explicit --mail-from. --mail-dir is created if
// missing (0700: mails hold tokens). Returns a one-line error for both
// flags at once, a bad URL (never echoing its password), or a bad sender.
func newMailer(c *serveConfig, issuer string) (provider.Mailer, error) {
	sm, err := validateMail(c)
	switch {
	case err != nil:
		return nil, err
	case sm != nil:
		return sm, nil
	case c.MailDir != "":
		from := c.MailFrom
		if from == "" {
			host := "localhost"
			if u, err := url.Parse(issuer); err == nil && u.Hostname() != "" {
				host = u.Hostname()
			}
			from = "User Registry <noreply@" + host + ">"
		}
		if err := os.MkdirAll(c.MailDir, 0o700); err != nil {
			return nil, fmt.Errorf("--mail-dir: %w", err)
		}
		m, err := provider.NewDirMailer(c.MailDir, from, nil)
		if err != nil {
			return nil, fmt.Errorf("--mail-dir: %w", err)
		}
		return m, nil
	}
	return nil, nil
}

// validateMail checks the mail flags before anything is opened, so a bad
// --smtp-url fails fast with one line. With --smtp-url it returns the
// mailer built to check it; otherwise nil.
func validateMail(c *serveConfig) (*provider.SMTPMailer, error) {
	switch {
	case c.SMTPURL != "" && c.MailDir != "":
		return nil, errors.New("--smtp-url and --mail-dir exclude each other")
	case c.SMTPURL != "":
		if c.MailFrom == "" {
			return nil, errors.New("--smtp-url needs --mail-from")
		}
		return provider.NewSMTPMailer(c.SMTPURL, c.MailFrom, nil)
	case c.MailDir == "" && c.MailFrom != "":
		return nil, errors.New("--mail-from needs --smtp-url or --mail-dir")
	}
	return nil, nil
}

// mailQueueWorkers send mail in parallel; SMTP round trips dominate.
const mailQueueWorkers = 2

// startMail starts the background mail queue over m and returns the mail
// links sending through it; stop drains the queue, waiting at most 10 s.
func startMail(m provider.Mailer, tokens storage.SessionStore, issuer string, log *slog.Logger) (*provider.MailLinks, *provider.MailQueue, func(), error) {
	if m == nil {
		// The lifecycle endpoints still answer as SPEC §3a says (forgot and
		// resend: 202 for every address); with nobody to send to, users
		// are activated at signup and any mail is dropped with a log line.
		m = provider.DiscardMailer{Log: log}
	}
	q := provider.NewMailQueue(m, 0, mailQueueWorkers, log)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Close(ctx); err != nil {
			log.Warn("mail queue not drained", "err", err)
		}
	}
	links, err := provider.NewMailLinks(provider.MailLinkDeps{Tokens: tokens, Mail: q, BaseURL: issuer, Log: log})
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return links, q, stop, nil
}

package provider

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// Mail is one plain-text mail. Text lines end in "\n"; they are sent as
// CRLF.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// Mailer delivers a mail (SMTPMailer, DirMailer). Send may block on the
// network; callers on a request path use a MailQueue instead (SEC-53).
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// errHeaderInjection refuses a header value with a line break: a
// recipient or subject must never add headers or recipients.
var errHeaderInjection = errors.New("provider: mail: line break in a header value")

// formatMessage renders m as an RFC 5322 message with CRLF line endings:
// Date, From, To, Subject (RFC 2047 encoded when not ASCII), Message-ID,
// MIME-Version and a UTF-8 text/plain body sent as 8bit, so links in it
// stay greppable (no quoted-printable "=3D"). Returns errHeaderInjection
// for a CR or LF in From, To or Subject.
func formatMessage(from string, m Mail, now time.Time) ([]byte, error) {
	for _, v := range []string{from, m.To, m.Subject} {
		if strings.ContainsAny(v, "\r\n") {
			return nil, errHeaderInjection
		}
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("Date", now.Format(time.RFC1123Z))
	h("From", from)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Message-ID", messageID(from))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	for line := range strings.Lines(text) {
		b.WriteString(strings.TrimSuffix(line, "\n"))
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// messageID returns a unique Message-ID in the sender's domain.
func messageID(from string) string {
	domain := "localhost"
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
			domain = d
		}
	}
	r := make([]byte, 16)
	rand.Read(r)
	return "<" + hex.EncodeToString(r) + "@" + domain + ">"
}

// envelopeAddress returns the bare address of a From header value
// ("Registry <noreply@example.com>" → "noreply@example.com").
func envelopeAddress(from string) (string, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "", fmt.Errorf("provider: mail: sender %q: %w", from, err)
	}
	return a.Address, nil
}

// Defaults of NewMailQueue.
const (
	DefaultMailQueueSize = 256
	mailSendTimeout      = 30 * time.Second
)

// MailQueue sends mails off the request path (SEC-53): Enqueue never
// blocks, a bounded channel holds what is waiting, and worker goroutines
// deliver through the Mailer. A full queue drops the mail and logs it: a
// flood of forgot-password requests must not hold requests or memory
// hostage (the user can ask again). Failures are logged with the subject
// and the error, never the body, which carries the token (SEC-43, SEC-52).
// Safe for concurrent use.
type MailQueue struct {
	m     Mailer
	log   *slog.Logger
	ch    chan Mail
	wg    sync.WaitGroup // workers
	mu    sync.Mutex
	cond  *sync.Cond
	busy  int  // enqueued and not yet finished
	shut  bool // Close called
	ctx   context.Context
	abort context.CancelFunc
}

// NewMailQueue starts workers (at least 1) delivering through m, with room
// for size waiting mails (≤ 0: DefaultMailQueueSize). log nil discards.
func NewMailQueue(m Mailer, size, workers int, log *slog.Logger) *MailQueue {
	if size <= 0 {
		size = DefaultMailQueueSize
	}
	workers = max(workers, 1)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &MailQueue{m: m, log: log, ch: make(chan Mail, size)}
	q.cond = sync.NewCond(&q.mu)
	q.ctx, q.abort = context.WithCancel(context.Background())
	for range workers {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

// Enqueue queues m and returns at once: false when the queue is full or
// closed (the mail is dropped and logged).
func (q *MailQueue) Enqueue(m Mail) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shut {
		q.log.Warn("mail dropped: queue closed", "subject", m.Subject)
		return false
	}
	select {
	case q.ch <- m:
		q.busy++
		return true
	default:
		q.log.Warn("mail dropped: queue full", "subject", m.Subject)
		return false
	}
}

// Flush waits until every mail enqueued so far has been sent (or has
// failed). Tests use it instead of sleeping.
func (q *MailQueue) Flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.busy > 0 {
		q.cond.Wait()
	}
}

// Close stops accepting mail, delivers what is queued, and waits for the
// workers; when ctx ends first, sends in progress are cancelled and the
// rest dropped. Returns ctx's error in that case. Idempotent.
func (q *MailQueue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.shut {
		q.shut = true
		close(q.ch)
	}
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		q.abort()
		<-done
		return ctx.Err()
	}
}

func (q *MailQueue) work() {
	defer q.wg.Done()
	for m := range q.ch {
		q.send(m)
		q.mu.Lock()
		q.busy--
		if q.busy == 0 {
			q.cond.Broadcast()
		}
		q.mu.Unlock()
	}
}

func (q *MailQueue) send(m Mail) {
	ctx, cancel := context.WithTimeout(q.ctx, mailSendTimeout)
	defer cancel()
	if err := q.m.Send(ctx, m); err != nil {
		q.log.Error("mail not sent", "subject", m.Subject, "err", err)
	}
}

// DiscardMailer is the mailer of an install without --smtp-url or
// --mail-dir: it sends nothing and logs that a mail (never its body, which
// may hold a link token) was dropped.
type DiscardMailer struct{ Log *slog.Logger }

// Send drops m.
func (d DiscardMailer) Send(ctx context.Context, m Mail) error {
	if d.Log != nil {
		d.Log.InfoContext(ctx, "no mailer configured; mail not sent", "subject", m.Subject)
	}
	return nil
}

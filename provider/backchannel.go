package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"user-registry/keys"
	"user-registry/storage"
)

// Limits of one delivery attempt (SEC-66): a slow or chatty client costs
// a worker at most this much, never a user's request.
const (
	LogoutAttemptTimeout = 5 * time.Second
	logoutMaxResponse    = 4 << 10
	// logoutLease is how long a claimed delivery is hidden from other
	// nodes: well beyond one attempt, so a live node always finishes
	// first; a node that dies holding it delays it by this much.
	logoutLease  = time.Minute
	logoutBatch  = 32
	logoutPoll   = time.Second
	logoutWorker = 8 // attempts at once per node
)

// logoutMinter signs logout tokens (*keys.Tokens).
type logoutMinter interface {
	MintLogout(ctx context.Context, c keys.LogoutClaims) (string, keys.LogoutClaims, error)
}

// BackchannelDeps are what Backchannel is built from. Store and Tokens
// are required.
type BackchannelDeps struct {
	Store  storage.LogoutStore
	Tokens logoutMinter
	// Transport makes the requests; nil is a clone of
	// http.DefaultTransport. Tests pass their own.
	Transport http.RoundTripper
	// Timeout bounds one attempt; zero means LogoutAttemptTimeout.
	Timeout time.Duration
	// Poll is how often the queue is looked at without a wake-up; zero
	// means one second.
	Poll time.Duration
	Now  func() time.Time // nil means time.Now; decides due times
	Log  *slog.Logger     // nil discards
}

// Backchannel delivers queued logout tokens (OIDC Back-Channel Logout
// 1.0 §2.5, SPEC §12) in the background: it claims due deliveries from
// the shared queue with a lease (so two nodes never send one at once, and
// a node that stops leaves its work to the others), POSTs each to its
// client under the fetch rules, and deletes it on 200 or 204 or
// reschedules it (5 s, 10 s, 20 s … at most 1 h apart) until 24 h have
// passed. A token whose exp has passed is signed again with its jti.
type Backchannel struct {
	store   storage.LogoutStore
	tokens  logoutMinter
	client  *http.Client
	timeout time.Duration
	poll    time.Duration
	now     func() time.Time
	log     *slog.Logger
	wake    chan struct{}
}

// NewBackchannel builds the worker; Run starts it.
func NewBackchannel(d BackchannelDeps) (*Backchannel, error) {
	if d.Store == nil || d.Tokens == nil {
		return nil, errors.New("provider: backchannel: missing dependency")
	}
	b := &Backchannel{store: d.Store, tokens: d.Tokens, timeout: d.Timeout, poll: d.Poll, now: d.Now, log: d.Log,
		wake: make(chan struct{}, 1)}
	if b.timeout <= 0 {
		b.timeout = LogoutAttemptTimeout
	}
	if b.poll <= 0 {
		b.poll = logoutPoll
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	tr := d.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	// No redirect is followed: a 3xx is a failed attempt. Go would turn a
	// 301/302/303 into a GET without the token, and the client's answer
	// to that is no proof of delivery; the fetch rules' same-host limit
	// holds a fortiori.
	b.client = &http.Client{Transport: tr, Timeout: b.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return b, nil
}

// Wake makes a running worker look at the queue now (after an enqueue on
// this node). It never blocks.
func (b *Backchannel) Wake() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then returns once the attempts under way
// have finished (each is bounded by the attempt timeout).
func (b *Backchannel) Run(ctx context.Context) {
	t := time.NewTicker(b.poll)
	defer t.Stop()
	for {
		if _, err := b.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			b.log.WarnContext(ctx, "back-channel logout: queue unavailable", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.wake:
		}
	}
}

// DeliverDue makes one attempt at every delivery due now (up to a batch),
// at most logoutWorker at once, and returns how many it attempted. Errors
// wrap storage.ErrUnavailable (the queue could not be read).
func (b *Backchannel) DeliverDue(ctx context.Context) (int, error) {
	due, err := b.store.ClaimLogouts(ctx, b.now(), logoutLease, logoutBatch)
	if err != nil {
		return 0, fmt.Errorf("provider: claim logout deliveries: %w", err)
	}
	sem := make(chan struct{}, logoutWorker)
	var wg sync.WaitGroup
	for _, d := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			b.attempt(context.WithoutCancel(ctx), d)
		}()
	}
	wg.Wait()
	return len(due), nil
}

// attempt sends d once and records the outcome in the queue. It runs
// without the caller's cancellation: a shutdown waits for it (bounded by
// the timeout) rather than losing what the client answered.
func (b *Backchannel) attempt(ctx context.Context, d storage.LogoutDelivery) {
	log := b.log.With("client_id", d.ClientID, "sid", d.SID, "attempt", d.Attempts+1)
	if d.Token == "" || !b.now().Before(d.TokenExp) {
		tok, c, err := b.tokens.MintLogout(ctx, keys.LogoutClaims{Audience: d.ClientID, Subject: d.Subject, SID: d.SID, JTI: d.JTI})
		if err != nil {
			log.WarnContext(ctx, "back-channel logout: cannot sign", "err", err)
			b.retry(ctx, log, d)
			return
		}
		d.Token, d.TokenExp = tok, c.ExpiresAt
	}
	status, err := b.post(ctx, d)
	if err == nil && (status == http.StatusOK || status == http.StatusNoContent) {
		if err := b.store.DeleteLogout(ctx, d.ID); err != nil {
			log.WarnContext(ctx, "back-channel logout delivered, not removed from the queue", "err", err)
		}
		log.InfoContext(ctx, "back-channel logout delivered")
		return
	}
	log.InfoContext(ctx, "back-channel logout refused or failed", "status", status, "err", err)
	b.retry(ctx, log, d)
}

// retry schedules the next attempt of d, or drops it past its deadline.
func (b *Backchannel) retry(ctx context.Context, log *slog.Logger, d storage.LogoutDelivery) {
	d.Attempts++
	d.NextAt = b.now().Add(LogoutRetryDelay(d.Attempts))
	if d.NextAt.After(d.Deadline) {
		log.WarnContext(ctx, "back-channel logout abandoned after 24 h")
		if err := b.store.DeleteLogout(ctx, d.ID); err != nil {
			log.WarnContext(ctx, "back-channel logout: not removed from the queue", "err", err)
		}
		return
	}
	if err := b.store.RescheduleLogout(ctx, d); err != nil {
		// The lease runs out and another attempt follows anyway.
		log.WarnContext(ctx, "back-channel logout: not rescheduled", "err", err)
	}
}

// LogoutRetryDelay is the wait after the n-th failed attempt (n ≥ 1):
// 5 s, 10 s, 20 s … doubling, at most 1 h.
func LogoutRetryDelay(n int) time.Duration {
	d := LogoutFirstRetry
	for i := 1; i < n && d < LogoutMaxRetry; i++ {
		d *= 2
	}
	return min(d, LogoutMaxRetry)
}

// post sends the logout token as a form post (§2.5) to the client's URI
// under the fetch rules (https or loopback http; no redirect followed)
// and reads at most a few KiB of the answer.
func (b *Backchannel) post(ctx context.Context, d storage.LogoutDelivery) (int, error) {
	if err := CheckFetchURL(d.URI); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	body := url.Values{"logout_token": {d.Token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URI, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, logoutMaxResponse))
	return resp.StatusCode, nil
}

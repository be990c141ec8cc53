package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ulule/limiter/v3"

	"user-registry/storage"
)

// ParseRate parses a rate-limit flag (SPEC §3): "N/DURATION" such as
// "10/15m", "120/1m" or "6000/1m" (DURATION is a Go duration; a bare unit,
// "120/m", means one of it). "0", or N = 0, turns the limit off
// (enabled=false). Returns an error for anything else.
func ParseRate(spec string) (rate limiter.Rate, enabled bool, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "0" {
		return limiter.Rate{}, false, nil
	}
	n, d, ok := strings.Cut(spec, "/")
	if !ok {
		return limiter.Rate{}, false, fmt.Errorf("provider: rate %q: want N/DURATION, e.g. 10/15m, or 0", spec)
	}
	limit, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
	if err != nil || limit < 0 {
		return limiter.Rate{}, false, fmt.Errorf("provider: rate %q: bad count", spec)
	}
	d = strings.TrimSpace(d)
	if d != "" && (d[0] < '0' || d[0] > '9') {
		d = "1" + d
	}
	period, err := time.ParseDuration(d)
	if err != nil || period < time.Second {
		return limiter.Rate{}, false, fmt.Errorf("provider: rate %q: bad duration (at least 1s)", spec)
	}
	if limit == 0 {
		return limiter.Rate{}, false, nil
	}
	return limiter.Rate{Formatted: spec, Period: period, Limit: limit}, true, nil
}

// RateLimiter applies one fixed-window limit, counted by the
// ulule/limiter algorithm over a shared RateStore (Redis in production, so
// every node counts together, SEC-38). A disabled limiter (spec "0") and a
// nil *RateLimiter allow everything. Keys share the store's namespace with
// every other limiter on it, so callers prefix them ("ip:", "login:" ...).
// Safe for concurrent use.
type RateLimiter struct {
	lim *limiter.Limiter // nil when disabled
	now func() time.Time
}

// RateOption configures a RateLimiter.
type RateOption func(*RateLimiter)

// WithRateClock sets the clock used to turn the store's window reset time
// into a Retry-After duration. It must be the clock the RateStore counts
// with: the limiter library's memory and Redis stores use the wall clock,
// which is the default.
func WithRateClock(now func() time.Time) RateOption {
	return func(r *RateLimiter) {
		if now != nil {
			r.now = now
		}
	}
}

// NewRateLimiter returns a limiter for spec (see ParseRate) over store.
// Returns an error for a malformed spec, or a nil store with a limit on.
func NewRateLimiter(store storage.RateStore, spec string, opts ...RateOption) (*RateLimiter, error) {
	rate, enabled, err := ParseRate(spec)
	if err != nil {
		return nil, err
	}
	r := &RateLimiter{now: time.Now}
	for _, o := range opts {
		o(r)
	}
	if enabled {
		if store == nil {
			return nil, errors.New("provider: rate limiter needs a store")
		}
		r.lim = limiter.New(store, rate)
	}
	return r, nil
}

// Enabled reports whether the limiter limits anything.
func (r *RateLimiter) Enabled() bool { return r != nil && r.lim != nil }

// Allow counts one hit for key. Over the limit it returns the time until
// the window resets and a *RateLimitError (errors.Is ErrRateLimited); else
// (0, nil). A store failure wraps storage.ErrUnavailable: the caller answers
// 503 rather than letting unlimited traffic through.
func (r *RateLimiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	if !r.Enabled() {
		return 0, nil
	}
	lc, err := r.lim.Get(ctx, key)
	if err != nil {
		return 0, unavailable(err)
	}
	if lc.Reached {
		return r.limited(lc)
	}
	return 0, nil
}

// Peek reports, without counting, whether key has used up its window: the
// next hit would be refused. It returns the same values as Allow. Used
// with Fail for limits that count failures only (per-account logins).
func (r *RateLimiter) Peek(ctx context.Context, key string) (time.Duration, error) {
	if !r.Enabled() {
		return 0, nil
	}
	lc, err := r.lim.Peek(ctx, key)
	if err != nil {
		return 0, unavailable(err)
	}
	// The library marks Reached only once the count exceeds the limit; a
	// count equal to it means N failures already happened, so the
	// (N+1)th attempt is refused.
	if lc.Remaining <= 0 {
		return r.limited(lc)
	}
	return 0, nil
}

// Fail counts one failure for key (see Peek). A store failure wraps
// storage.ErrUnavailable.
func (r *RateLimiter) Fail(ctx context.Context, key string) error {
	if !r.Enabled() {
		return nil
	}
	if _, err := r.lim.Increment(ctx, key, 1); err != nil {
		return unavailable(err)
	}
	return nil
}

// Refund gives back one hit counted by Allow for key: a limit on failures
// counts every attempt up front (so concurrent attempts cannot all pass a
// check before any is counted) and refunds the ones that did not fail. A
// store failure wraps storage.ErrUnavailable.
func (r *RateLimiter) Refund(ctx context.Context, key string) error {
	if !r.Enabled() {
		return nil
	}
	if _, err := r.lim.Increment(ctx, key, -1); err != nil {
		return unavailable(err)
	}
	return nil
}

// limited builds the error for a full window: Retry-After is the time to
// the window's reset, in whole seconds, clamped to [1s, period] so a clock
// mismatch cannot produce a negative or absurd value.
func (r *RateLimiter) limited(lc limiter.Context) (time.Duration, error) {
	wait := time.Unix(lc.Reset, 0).Sub(r.now())
	wait = ((wait + time.Second - 1) / time.Second) * time.Second
	wait = min(max(wait, time.Second), r.lim.Rate.Period)
	return wait, &RateLimitError{RetryAfter: wait}
}

// unavailable wraps a rate store failure: the library's Redis driver
// returns raw client errors, and a limit that cannot be checked must fail
// closed (503), like every other store outage (SEC-18).
func unavailable(err error) error {
	if errors.Is(err, storage.ErrUnavailable) {
		return fmt.Errorf("provider: rate limiter: %w", err)
	}
	return fmt.Errorf("provider: rate limiter: %w: %w", storage.ErrUnavailable, err)
}

package provider_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ulule/limiter/v3"

	"user-registry/provider"
	"user-registry/storage"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		spec    string
		limit   int64
		period  time.Duration
		enabled bool
		wantErr bool
	}{
		{spec: "10/15m", limit: 10, period: 15 * time.Minute, enabled: true},
		{spec: "120/1m", limit: 120, period: time.Minute, enabled: true},
		{spec: "6000/1m", limit: 6000, period: time.Minute, enabled: true},
		{spec: "5/m", limit: 5, period: time.Minute, enabled: true},
		{spec: " 3/1h30m ", limit: 3, period: 90 * time.Minute, enabled: true},
		{spec: "0"},
		{spec: "0/1m"},
		{spec: "", wantErr: true},
		{spec: "10", wantErr: true},
		{spec: "x/1m", wantErr: true},
		{spec: "-1/1m", wantErr: true},
		{spec: "10/", wantErr: true},
		{spec: "10/0s", wantErr: true},
		{spec: "10/500ms", wantErr: true},
		{spec: "10/1parsec", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			r, enabled, err := provider.ParseRate(tt.spec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if enabled != tt.enabled || (enabled && (r.Limit != tt.limit || r.Period != tt.period)) {
				t.Errorf("= %+v, %v; want %d/%v, %v", r, enabled, tt.limit, tt.period, tt.enabled)
			}
		})
	}
}

func TestRateLimiterAllow(t *testing.T) {
	clk := newAcctClock()
	rl, err := provider.NewRateLimiter(newClockRate(clk.Now), "3/1m", provider.WithRateClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 3 {
		if d, err := rl.Allow(ctx, "ip:1"); err != nil || d != 0 {
			t.Fatalf("hit %d: %v, %v", i+1, d, err)
		}
	}
	clk.Advance(20 * time.Second)
	d, err := rl.Allow(ctx, "ip:1")
	var rle *provider.RateLimitError
	if !errors.As(err, &rle) || !errors.Is(err, provider.ErrRateLimited) || d != 40*time.Second || rle.RetryAfter != d {
		t.Fatalf("4th hit: %v, %v", d, err)
	}
	if _, err := rl.Allow(ctx, "ip:2"); err != nil {
		t.Fatalf("other key: %v", err)
	}
	clk.Advance(40 * time.Second)
	if _, err := rl.Allow(ctx, "ip:1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestRateLimiterPeekFail(t *testing.T) {
	clk := newAcctClock()
	rl, err := provider.NewRateLimiter(newClockRate(clk.Now), "2/10m", provider.WithRateClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 2 {
		if _, err := rl.Peek(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if err := rl.Fail(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rl.Peek(ctx, "k"); !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("after 2 failures: %v", err)
	}
	clk.Advance(10 * time.Minute)
	if _, err := rl.Peek(ctx, "k"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestRateLimiterDisabled(t *testing.T) {
	rl, err := provider.NewRateLimiter(nil, "0")
	if err != nil {
		t.Fatal(err)
	}
	var nilRL *provider.RateLimiter
	for _, r := range []*provider.RateLimiter{rl, nilRL} {
		if r.Enabled() {
			t.Error("enabled")
		}
		for range 100 {
			if _, err := r.Allow(context.Background(), "k"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := provider.NewRateLimiter(nil, "1/1m"); err == nil {
		t.Error("no store accepted for an enabled limit")
	}
	if _, err := provider.NewRateLimiter(nil, "bogus"); err == nil {
		t.Error("bad spec accepted")
	}
}

// failingRate is a rate store that is down.
type failingRate struct{}

var errRateDown = errors.New("dial tcp: connection refused")

func (failingRate) Get(context.Context, string, limiter.Rate) (limiter.Context, error) {
	return limiter.Context{}, errRateDown
}
func (failingRate) Peek(context.Context, string, limiter.Rate) (limiter.Context, error) {
	return limiter.Context{}, errRateDown
}
func (failingRate) Reset(context.Context, string, limiter.Rate) (limiter.Context, error) {
	return limiter.Context{}, errRateDown
}
func (failingRate) Increment(context.Context, string, int64, limiter.Rate) (limiter.Context, error) {
	return limiter.Context{}, errRateDown
}

// SEC-18: a limit that cannot be checked fails closed as unavailable (503).
func TestRateLimiterStoreDown(t *testing.T) {
	rl, err := provider.NewRateLimiter(failingRate{}, "3/1m")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err1 := rl.Allow(ctx, "k")
	_, err2 := rl.Peek(ctx, "k")
	err3 := rl.Fail(ctx, "k")
	for _, err := range []error{err1, err2, err3} {
		if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, errRateDown) {
			t.Errorf("err = %v", err)
		}
	}
}

// The library's own memory store (what memstore.Rate returns) works too;
// it counts on the wall clock, so Retry-After is clamped within the period.
func TestRateLimiterLibraryStore(t *testing.T) {
	e := newAcctEnv(t)
	rl, err := provider.NewRateLimiter(e.store.Rate(), "1/1h")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := rl.Allow(ctx, "lib"); err != nil {
		t.Fatal(err)
	}
	d, err := rl.Allow(ctx, "lib")
	if !errors.Is(err, provider.ErrRateLimited) || d < 59*time.Minute || d > time.Hour {
		t.Fatalf("second hit: %v, %v", d, err)
	}
}

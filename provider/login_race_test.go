package provider_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ulule/limiter/v3"

	"user-registry/provider"
)

// barrierRate holds the answers of the first n rate-store calls until all n
// have been made, so n concurrent logins all have their limit check answered
// before any of them counts a failure: the interleaving that a
// check-then-count limiter loses.
type barrierRate struct {
	*clockRate
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func newBarrierRate(inner *clockRate, n int) *barrierRate {
	return &barrierRate{clockRate: inner, waiting: n, release: make(chan struct{})}
}

func (b *barrierRate) wait() {
	b.mu.Lock()
	if b.waiting == 0 {
		b.mu.Unlock()
		return
	}
	b.waiting--
	if b.waiting == 0 {
		close(b.release)
	}
	b.mu.Unlock()
	<-b.release
}

func (b *barrierRate) Get(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	defer b.wait()
	return b.clockRate.Get(ctx, key, rate)
}

func (b *barrierRate) Peek(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	defer b.wait()
	return b.clockRate.Peek(ctx, key, rate)
}

func (b *barrierRate) Increment(ctx context.Context, key string, n int64, rate limiter.Rate) (limiter.Context, error) {
	defer b.wait()
	return b.clockRate.Increment(ctx, key, n, rate)
}

// SEC-38: the per-account limit holds under concurrency. Attempts that
// race each other must not all pass the check before any is counted, or a
// parallel guesser gets as many tries per window as it has connections.
func TestLoginAccountLimitConcurrent(t *testing.T) {
	const n = 8
	e := newAcctEnv(t)
	e.signup(t, "ann@example.com", annPW)
	cfg := provider.DefaultAccountsConfig(acctIssuer)
	cfg.LoginLimit = "3/15m"
	d := e.deps(cfg)
	d.Rate = newBarrierRate(newClockRate(e.clk.Now), n)
	acc, err := provider.NewAccounts(d)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := acc.Authenticate(context.Background(), "ann@example.com", "wrong password!")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	tried := 0
	for err := range errs {
		switch {
		case errors.Is(err, provider.ErrWrongPassword):
			tried++
		case errors.Is(err, provider.ErrRateLimited):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if tried > 3 {
		t.Fatalf("%d password guesses checked under a limit of 3", tried)
	}
	// The right password is refused too until the window ends.
	if _, err := acc.Authenticate(context.Background(), "ann@example.com", annPW); !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("after the limit: %v", err)
	}
}

// Successful logins are counted up front like any attempt and given back,
// so they never use up the failure budget.
func TestLoginAccountLimitRefundsSuccess(t *testing.T) {
	e := newAcctEnv(t, func(c *provider.AccountsConfig) { c.LoginLimit = "3/15m" })
	e.signup(t, "ann@example.com", annPW)
	ctx := context.Background()
	for range 5 {
		e.login(t, "ann@example.com", annPW)
	}
	for i := range 3 {
		if _, err := e.acc.Authenticate(ctx, "ann@example.com", "wrong password!"); !errors.Is(err, provider.ErrWrongPassword) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if _, err := e.acc.Authenticate(ctx, "ann@example.com", annPW); !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("after 3 failures: %v", err)
	}
}

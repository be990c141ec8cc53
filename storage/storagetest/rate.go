package storagetest

import (
	"testing"
	"time"

	"github.com/ulule/limiter/v3"
)

// testRate drives the store through limiter.Store only. Windows are long
// (the library's stores use the real clock), so the test never waits for a
// window to end.
func testRate(t *testing.T, s Stores) {
	ctx := t.Context()
	rate := limiter.Rate{Period: time.Hour, Limit: 3}
	const key = "login:203.0.113.7"

	steps := []struct {
		name      string
		op        func() (limiter.Context, error)
		remaining int64
		reached   bool
	}{
		{"peek fresh", func() (limiter.Context, error) { return s.Rate.Peek(ctx, key, rate) }, 3, false},
		{"increment 1", func() (limiter.Context, error) { return s.Rate.Increment(ctx, key, 1, rate) }, 2, false},
		{"peek after 1", func() (limiter.Context, error) { return s.Rate.Peek(ctx, key, rate) }, 2, false},
		{"peek again", func() (limiter.Context, error) { return s.Rate.Peek(ctx, key, rate) }, 2, false},
		{"increment 2", func() (limiter.Context, error) { return s.Rate.Increment(ctx, key, 2, rate) }, 0, false},
		{"get counts one more", func() (limiter.Context, error) { return s.Rate.Get(ctx, key, rate) }, 0, true},
		{"other key untouched", func() (limiter.Context, error) { return s.Rate.Peek(ctx, key+"-other", rate) }, 3, false},
		{"reset", func() (limiter.Context, error) { return s.Rate.Reset(ctx, key, rate) }, 3, false},
		{"peek after reset", func() (limiter.Context, error) { return s.Rate.Peek(ctx, key, rate) }, 3, false},
		{"increment after reset", func() (limiter.Context, error) { return s.Rate.Increment(ctx, key, 1, rate) }, 2, false},
	}
	for _, st := range steps {
		got, err := st.op()
		ephErr(t, st.name, err, nil)
		if got.Limit != rate.Limit || got.Remaining != st.remaining || got.Reached != st.reached {
			t.Fatalf("%s: limit/remaining/reached = %d/%d/%v, want %d/%d/%v",
				st.name, got.Limit, got.Remaining, got.Reached, rate.Limit, st.remaining, st.reached)
		}
	}
}

package redisstore

import (
	"context"

	"github.com/ulule/limiter/v3"
)

// rateStore wraps the limiter library's Redis store so its errors wrap
// storage.ErrUnavailable like every other error of this package.
type rateStore struct{ inner limiter.Store }

func (r rateStore) Get(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	c, err := r.inner.Get(ctx, key, rate)
	return c, wrap(err)
}

func (r rateStore) Peek(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	c, err := r.inner.Peek(ctx, key, rate)
	return c, wrap(err)
}

func (r rateStore) Reset(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	c, err := r.inner.Reset(ctx, key, rate)
	return c, wrap(err)
}

func (r rateStore) Increment(ctx context.Context, key string, count int64, rate limiter.Rate) (limiter.Context, error) {
	c, err := r.inner.Increment(ctx, key, count, rate)
	return c, wrap(err)
}

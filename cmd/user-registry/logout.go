package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage/sqlstore"
)

// newLogouts builds back-channel logout (SPEC §12): the delivery worker
// and the service that ends browser sessions and queues logout tokens,
// waking this node's worker. keep is the refresh tokens' absolute life.
func newLogouts(db *sqlstore.Store, eph ephemeral, tokens *keys.Tokens, keep time.Duration, log *slog.Logger) (*provider.Backchannel, *provider.Logouts, error) {
	bc, err := provider.NewBackchannel(provider.BackchannelDeps{Store: eph, Tokens: tokens, Log: log})
	if err != nil {
		return nil, nil, err
	}
	l, err := provider.NewLogouts(provider.LogoutDeps{Store: eph, Revocations: eph, Refresh: eph, Clients: db,
		Keep: keep, Wake: bc.Wake, Log: log})
	if err != nil {
		return nil, nil, err
	}
	return bc, l, nil
}

// runBackchannel starts the worker on ctx and returns the function that
// stops it: it waits for the attempts under way (each at most
// provider.LogoutAttemptTimeout); what is still queued stays for any
// node, this one after a restart included.
func runBackchannel(ctx context.Context, bc *provider.Backchannel) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		bc.Run(ctx)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
		})
	}
}

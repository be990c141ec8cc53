package keys_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestConcurrentMintVerifyRotate runs the hot paths while keys reload and
// rotate, for the race detector.
func TestConcurrentMintVerifyRotate(t *testing.T) {
	e := newEnv(t, "ES256")
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				tok, _, err := e.tokens.MintAccess(ctx, userClaims())
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := e.tokens.VerifyAccess(ctx, tok, ""); err != nil {
					t.Error(err)
					return
				}
				_, _ = e.m.JWKS()
			}
		}()
	}
	for i := 0; i < 20; i++ {
		if err := e.m.Rotate(ctx, false); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(time.Second)
		if err := e.m.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

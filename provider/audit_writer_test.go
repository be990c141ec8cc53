package provider_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"user-registry/provider"
	"user-registry/storage"
)

// gateStore is an audit store whose appends report each batch on batches
// and then wait for release (when set), so tests control the writer
// without sleeping.
type gateStore struct {
	batches chan []storage.AuditEvent
	release chan struct{} // nil: appends return at once
	err     error

	mu  sync.Mutex
	all []storage.AuditEvent
}

func newGateStore(blocking bool) *gateStore {
	g := &gateStore{batches: make(chan []storage.AuditEvent, 100)}
	if blocking {
		g.release = make(chan struct{})
	}
	return g
}

func (g *gateStore) AppendAuditEvents(_ context.Context, events []storage.AuditEvent) error {
	cp := append([]storage.AuditEvent(nil), events...)
	g.batches <- cp
	if g.release != nil {
		<-g.release
	}
	if g.err != nil {
		return g.err
	}
	g.mu.Lock()
	g.all = append(g.all, cp...)
	g.mu.Unlock()
	return nil
}

func (g *gateStore) stored() []storage.AuditEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]storage.AuditEvent(nil), g.all...)
}

func newWriter(t *testing.T, c provider.AuditWriterConfig) *provider.AuditWriter {
	t.Helper()
	w, err := provider.NewAuditWriter(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

func TestAuditWriterBatches(t *testing.T) {
	store := newGateStore(false)
	// An interval no test run reaches: only full batches and Close write.
	w := newWriter(t, provider.AuditWriterConfig{Store: store, Batch: 3, Interval: 1 << 40})
	ctx := context.Background()
	for range 7 {
		w.Record(ctx, provider.AuditEvent{Event: provider.EventSignup})
	}
	for i := range 2 {
		if b := <-store.batches; len(b) != 3 {
			t.Fatalf("batch %d holds %d events, want 3", i, len(b))
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if b := <-store.batches; len(b) != 1 {
		t.Fatalf("Close flushed %d events, want the 1 left", len(b))
	}
	if st := w.Stats(); st.Written != 7 || st.Dropped != 0 || st.Queued != 0 {
		t.Fatalf("stats %+v, want 7 written", st)
	}
}

func TestAuditWriterFlushesAfterInterval(t *testing.T) {
	store := newGateStore(false)
	w := newWriter(t, provider.AuditWriterConfig{Store: store, Batch: 100, Interval: 1})
	w.Record(context.Background(), provider.AuditEvent{Event: provider.EventLogout})
	// The batch is far from full: only the interval can write it.
	if b := <-store.batches; len(b) != 1 || b[0].Event != provider.EventLogout {
		t.Fatalf("batch %+v", b)
	}
}

// TestAuditWriterFullQueueDrops: with the store stuck, Record still
// returns at once; events beyond the queue are dropped and counted, and
// the queued ones are written when the store recovers (SEC-71).
func TestAuditWriterFullQueueDrops(t *testing.T) {
	store := newGateStore(true)
	w := newWriter(t, provider.AuditWriterConfig{Store: store, Queue: 2, Batch: 1, Interval: 1 << 40})
	ctx := context.Background()
	w.Record(ctx, provider.AuditEvent{Event: provider.EventSignup, Detail: "in flight"})
	<-store.batches // the writer is now stuck in the store
	for range 5 {
		w.Record(ctx, provider.AuditEvent{Event: provider.EventLoginFailed}) // 2 queue, 3 drop
	}
	if st := w.Stats(); st.Dropped != 3 || st.Queued != 2 {
		t.Fatalf("stats %+v, want 3 dropped and 2 queued", st)
	}
	close(store.release)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Written != 3 || st.Dropped != 3 {
		t.Fatalf("after Close: %+v, want 3 written, 3 dropped", st)
	}
	w.Record(ctx, provider.AuditEvent{Event: provider.EventSignup})
	if st := w.Stats(); st.Dropped != 4 {
		t.Fatalf("a Record after Close: %+v, want it dropped", st)
	}
}

func TestAuditWriterFailingStore(t *testing.T) {
	store := newGateStore(false)
	store.err = errors.New("database down")
	w := newWriter(t, provider.AuditWriterConfig{Store: store, Batch: 2, Interval: 1 << 40})
	ctx := context.Background()
	w.Record(ctx, provider.AuditEvent{Event: provider.EventSignup})
	w.Record(ctx, provider.AuditEvent{Event: provider.EventSignup})
	<-store.batches
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Failed != 2 || st.Written != 0 {
		t.Fatalf("stats %+v, want 2 failed", st)
	}
}

func TestAuditWriterFillsAndCuts(t *testing.T) {
	store := newGateStore(false)
	w := newWriter(t, provider.AuditWriterConfig{Store: store, Batch: 10, Interval: 1 << 40})
	ctx := provider.WithRequestInfo(context.Background(), provider.RequestInfo{
		IP: "192.0.2.7", UserAgent: strings.Repeat("ü", 300), Actor: provider.ActorCLI,
	})
	w.Record(ctx, provider.AuditEvent{Event: provider.EventSignup, UserID: "u1"})
	w.Record(ctx, provider.AuditEvent{Event: provider.EventLogout, IP: "198.51.100.1", Actor: "client:c1"})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := store.stored()
	if len(got) != 2 {
		t.Fatalf("stored %d events", len(got))
	}
	a, b := got[0], got[1]
	if a.IP != "192.0.2.7" || a.Actor != provider.ActorCLI || a.Time.IsZero() || a.UserID != "u1" {
		t.Errorf("request info not copied: %+v", a)
	}
	if len(a.UserAgent) > 255 || !strings.HasPrefix(strings.Repeat("ü", 300), a.UserAgent) || a.UserAgent == "" {
		t.Errorf("user agent not cut on a rune boundary to 255 bytes: %d bytes", len(a.UserAgent))
	}
	if b.IP != "198.51.100.1" || b.Actor != "client:c1" {
		t.Errorf("the event's own fields were replaced: %+v", b)
	}
}

func TestAuditWriterCoalescesRateLimited(t *testing.T) {
	store := newGateStore(false)
	w := newWriter(t, provider.AuditWriterConfig{Store: store, Batch: 100, Interval: 1 << 40})
	ctx := context.Background()
	for range 50 {
		w.Record(ctx, provider.AuditEvent{Event: provider.EventRateLimited, IP: "192.0.2.1", Detail: "ip limit"})
	}
	w.Record(ctx, provider.AuditEvent{Event: provider.EventRateLimited, IP: "192.0.2.2", Detail: "ip limit"})
	w.Record(ctx, provider.AuditEvent{Event: provider.EventLoginFailed, IP: "192.0.2.1"})
	w.Record(ctx, provider.AuditEvent{Event: provider.EventLoginFailed, IP: "192.0.2.1"})
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(store.stored()); n != 4 {
		t.Fatalf("stored %d events, want 4 (one rate_limited per address, every login_failed)", n)
	}
}

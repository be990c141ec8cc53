package provider

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"user-registry/storage"
)

// Defaults of AuditWriterConfig.
const (
	DefaultAuditQueue    = 8192
	DefaultAuditBatch    = 256
	DefaultAuditInterval = 250 * time.Millisecond

	// auditWriteTimeout bounds one batch insert, so a hung database
	// cannot stall the writer (the queue fills and drops instead).
	auditWriteTimeout = 10 * time.Second
	// auditLogEvery bounds the "events dropped" and "write failed" log
	// lines, so an outage does not flood the log.
	auditLogEvery = 10 * time.Second
)

// Column bounds of the stored fields (storage/sqlstore audit_events):
// Record cuts longer values, so a long User-Agent can never make an insert
// fail.
const (
	maxAuditShort  = 36 // user_id (UUID)
	maxAuditIP     = 45
	maxAuditText   = 255 // user_agent, detail
	maxAuditDomain = 253
	maxAuditID     = 191 // client_id
	maxAuditActor  = 200
	maxAuditEvent  = 40
)

// auditAppender is the part of storage.AuditStore the writer needs.
type auditAppender interface {
	AppendAuditEvents(ctx context.Context, events []storage.AuditEvent) error
}

// AuditWriterConfig configures an AuditWriter. Zero values take the
// defaults above.
type AuditWriterConfig struct {
	Store    auditAppender // required
	Queue    int           // events waiting to be written; more are dropped
	Batch    int           // events per insert at most
	Interval time.Duration // longest an event waits for its batch to fill
	Now      func() time.Time
	Log      *slog.Logger
}

// AuditStats are the writer's counters, for metrics.
type AuditStats struct {
	Queued  int    // events waiting now
	Dropped uint64 // events refused because the queue was full or closed
	Failed  uint64 // events lost because their insert failed
	Written uint64 // events stored
}

// AuditWriter is the Auditor of a running server: Record puts the event
// on a bounded queue and returns at once; one goroutine takes events off
// in batches (Batch events, or whatever arrived within Interval) and
// stores each batch with one multi-row insert. When the queue is full the
// event is dropped and counted, so auditing never slows or fails a
// request (SEC-71, SPEC §13: login and token throughput stay within 5 %).
// Close flushes what is queued. Safe for concurrent use.
type AuditWriter struct {
	store    auditAppender
	batch    int
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu     sync.RWMutex // held for reading by Record; Close takes it to stop sends
	closed bool
	queue  chan storage.AuditEvent
	quit   chan struct{}
	done   chan struct{}

	dropped, failed, written atomic.Uint64
	lastDropLog              atomic.Int64 // unix nanoseconds
	lastFailLog              atomic.Int64

	limited *rateLimitedDedup
}

// NewAuditWriter starts a writer. Returns an error without a store.
func NewAuditWriter(c AuditWriterConfig) (*AuditWriter, error) {
	if c.Store == nil {
		return nil, errors.New("provider: audit writer needs a store")
	}
	if c.Queue <= 0 {
		c.Queue = DefaultAuditQueue
	}
	if c.Batch <= 0 {
		c.Batch = DefaultAuditBatch
	}
	if c.Interval <= 0 {
		c.Interval = DefaultAuditInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	w := &AuditWriter{
		store: c.Store, batch: c.Batch, interval: c.Interval, now: c.Now, log: c.Log,
		queue: make(chan storage.AuditEvent, c.Queue), quit: make(chan struct{}), done: make(chan struct{}),
		limited: newRateLimitedDedup(),
	}
	go w.run()
	return w, nil
}

// Record queues e. It fills Time (now) and IP, UserAgent and Actor from
// the context's RequestInfo where e lacks them, and cuts over-long fields.
// It never blocks: with the queue full, or after Close, the event is
// dropped and counted. Repeats of one rate_limited event (same reason,
// address, user and client) within a minute are recorded once, so a flood
// of refused requests cannot flood the table.
func (w *AuditWriter) Record(ctx context.Context, e AuditEvent) {
	ri := RequestInfoFrom(ctx)
	if e.IP == "" {
		e.IP = ri.IP
	}
	if e.UserAgent == "" {
		e.UserAgent = ri.UserAgent
	}
	if e.Actor == "" {
		e.Actor = ri.Actor
	}
	if e.Time.IsZero() {
		e.Time = w.now()
	}
	if e.Event == EventRateLimited && !w.limited.first(e, e.Time) {
		return
	}
	row := storage.AuditEvent{
		Time: e.Time.UTC(), Event: cut(e.Event, maxAuditEvent), UserID: cut(e.UserID, maxAuditShort),
		ClientID: cut(e.ClientID, maxAuditID), Domain: cut(e.Domain, maxAuditDomain),
		Actor: cut(e.Actor, maxAuditActor), IP: cut(e.IP, maxAuditIP),
		UserAgent: cut(e.UserAgent, maxAuditText), Detail: cut(e.Detail, maxAuditText),
	}
	w.mu.RLock()
	sent := false
	if !w.closed {
		select {
		case w.queue <- row:
			sent = true
		default:
		}
	}
	w.mu.RUnlock()
	if !sent {
		n := w.dropped.Add(1)
		if w.due(&w.lastDropLog) {
			w.log.Warn("audit queue full: events dropped", "dropped_total", n)
		}
	}
}

// Stats returns the current counters.
func (w *AuditWriter) Stats() AuditStats {
	return AuditStats{
		Queued: len(w.queue), Dropped: w.dropped.Load(), Failed: w.failed.Load(), Written: w.written.Load(),
	}
}

// Close stops accepting events and writes those queued, waiting until
// they are stored or ctx ends. Idempotent.
func (w *AuditWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.quit)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is the writer goroutine: it collects a batch until it is full or
// Interval has passed since its first event, then stores it.
func (w *AuditWriter) run() {
	defer close(w.done)
	batch := make([]storage.AuditEvent, 0, w.batch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		if len(batch) > 0 {
			w.write(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case e := <-w.queue:
			if len(batch) == 0 {
				timer.Reset(w.interval)
			}
			batch = append(batch, e)
			if len(batch) >= w.batch {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		case <-w.quit:
			timer.Stop()
			// No Record sends after quit (closed under mu): drain.
			for {
				select {
				case e := <-w.queue:
					batch = append(batch, e)
					if len(batch) >= w.batch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// write stores one batch. A failure loses the batch (counted, logged at a
// bounded rate): retrying would let an outage grow the backlog without
// bound, and the request it describes has long been answered.
func (w *AuditWriter) write(batch []storage.AuditEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), auditWriteTimeout)
	defer cancel()
	if err := w.store.AppendAuditEvents(ctx, batch); err != nil {
		n := w.failed.Add(uint64(len(batch)))
		if w.due(&w.lastFailLog) {
			w.log.Error("audit events not stored", "events", len(batch), "failed_total", n, "err", err)
		}
		return
	}
	w.written.Add(uint64(len(batch)))
}

// due reports whether a rate-limited log line may be written now, and
// claims the slot.
func (w *AuditWriter) due(last *atomic.Int64) bool {
	now := time.Now().UnixNano()
	prev := last.Load()
	return now-prev >= int64(auditLogEvery) && last.CompareAndSwap(prev, now)
}

// cut returns s cut to at most n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

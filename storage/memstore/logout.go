package memstore

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"user-registry/storage"
)

var _ storage.LogoutStore = (*Store)(nil)

// logoutMem is the LogoutStore state. It has its own lock: none of its
// operations touch the other maps. The zero value is ready. Expired
// entries go when their user or family is next read, and with a sweep
// every sweepWrites writes or sweepEvery, as in the rest of the store.
type logoutMem struct {
	mu        sync.Mutex
	sessions  map[string]map[string]storage.SessionRef // user → sid → ref
	clients   map[string]sessionClients                // sid → clients
	families  map[string]storage.SessionRef            // family → session
	queue     map[string]storage.LogoutDelivery        // id → item
	writes    int
	lastSweep time.Time
}

// sessionClients are the clients of one session, kept until keep.
type sessionClients struct {
	keep time.Time
	list []storage.SessionClient
}

// wrote counts a write and sweeps expired entries when due. Callers
// hold mu.
func (l *logoutMem) wrote(now time.Time) {
	l.writes++
	if l.writes < sweepWrites && now.Sub(l.lastSweep) < sweepEvery {
		return
	}
	l.writes, l.lastSweep = 0, now
	for uid, m := range l.sessions {
		for sid, r := range m {
			if !live(r.Keep, now) {
				delete(m, sid)
			}
		}
		if len(m) == 0 {
			delete(l.sessions, uid)
		}
	}
	for sid, c := range l.clients {
		if !live(c.keep, now) {
			delete(l.clients, sid)
		}
	}
	for fam, r := range l.families {
		if !live(r.Keep, now) {
			delete(l.families, fam)
		}
	}
}

func (l *logoutMem) init() {
	if l.sessions == nil {
		l.sessions = map[string]map[string]storage.SessionRef{}
		l.clients = map[string]sessionClients{}
		l.families = map[string]storage.SessionRef{}
		l.queue = map[string]storage.LogoutDelivery{}
	}
}

// TrackSession records r under its user until r.Keep.
func (s *Store) TrackSession(_ context.Context, r storage.SessionRef) error {
	l := &s.lo
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	m := l.sessions[r.UserID]
	if m == nil {
		m = map[string]storage.SessionRef{}
		l.sessions[r.UserID] = m
	}
	m[r.SID] = r
	l.wrote(s.now())
	return nil
}

// UserSessions returns the kept sessions of userID, dropping expired ones.
func (s *Store) UserSessions(_ context.Context, userID string) ([]storage.SessionRef, error) {
	l := &s.lo
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	now := s.now()
	var out []storage.SessionRef
	for sid, r := range l.sessions[userID] {
		if !live(r.Keep, now) {
			delete(l.sessions[userID], sid)
			delete(l.clients, sid)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// AddSessionClient records c in session r and indexes its family.
func (s *Store) AddSessionClient(_ context.Context, r storage.SessionRef, c storage.SessionClient) error {
	l := &s.lo
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	sc := l.clients[r.SID]
	if !slices.Contains(sc.list, c) {
		sc.list = append(sc.list, c)
	}
	sc.keep = maxTime(sc.keep, r.Keep)
	l.clients[r.SID] = sc
	if c.FamilyID != "" {
		l.families[c.FamilyID] = r
	}
	l.wrote(s.now())
	return nil
}

// FamilySession returns the session of a family; storage.ErrNotFound
// when none is kept.
func (s *Store) FamilySession(_ context.Context, familyID string) (storage.SessionRef, error) {
	l := &s.lo
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	r, ok := l.families[familyID]
	if !ok || !live(r.Keep, s.now()) {
		delete(l.families, familyID)
		return storage.SessionRef{}, storage.ErrNotFound
	}
	return r, nil
}

// TakeSessionClients returns and forgets the clients of session r.
func (s *Store) TakeSessionClients(_ context.Context, r storage.SessionRef) ([]storage.SessionClient, error) {
	l := &s.lo
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	var out []storage.SessionClient
	if sc, ok := l.clients[r.SID]; ok && live(sc.keep, s.now()) {
		out = sc.list
	}
	delete(l.clients, r.SID)
	if m := l.sessions[r.UserID]; m != nil {
		delete(m, r.SID)
		if len(m) == 0 {
			delete(l.sessions, r.UserID)
		}
	}
	return out, nil
}

// EnqueueLogout adds d to the queue.
func (s *Store) EnqueueLogout(_ context.Context, d storage.LogoutDelivery) error {
	l := &s.lo
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	l.queue[d.ID] = d
	return nil
}

// ClaimLogouts leases up to max due items, the earliest due first.
func (s *Store) ClaimLogouts(_ context.Context, now time.Time, lease time.Duration, max int) ([]storage.LogoutDelivery, error) {
	l := &s.lo
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	var due []storage.LogoutDelivery
	for _, d := range l.queue {
		if !d.NextAt.After(now) {
			due = append(due, d)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].NextAt.Before(due[j].NextAt) })
	if len(due) > max {
		due = due[:max]
	}
	for i := range due {
		due[i].NextAt = now.Add(lease)
		l.queue[due[i].ID] = due[i]
	}
	return due, nil
}

// RescheduleLogout replaces item d.ID, if it is still queued.
func (s *Store) RescheduleLogout(_ context.Context, d storage.LogoutDelivery) error {
	l := &s.lo
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	if _, ok := l.queue[d.ID]; ok {
		l.queue[d.ID] = d
	}
	return nil
}

// DeleteLogout removes item id. Idempotent.
func (s *Store) DeleteLogout(_ context.Context, id string) error {
	l := &s.lo
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	delete(l.queue, id)
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

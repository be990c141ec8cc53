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
// operations touch the other maps. The zero value is ready; expired
// entries go when their user, session or item is next touched, or with
// the sweep of a full queue claim.
type logoutMem struct {
	mu       sync.Mutex
	sessions map[string]map[string]storage.SessionRef // user → sid → ref
	clients  map[string][]storage.SessionClient       // sid → clients
	families map[string]storage.SessionRef            // family → session
	queue    map[string]storage.LogoutDelivery        // id → item
}

func (l *logoutMem) init() {
	if l.sessions == nil {
		l.sessions = map[string]map[string]storage.SessionRef{}
		l.clients = map[string][]storage.SessionClient{}
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
	if !slices.Contains(l.clients[r.SID], c) {
		l.clients[r.SID] = append(l.clients[r.SID], c)
	}
	if c.FamilyID != "" {
		l.families[c.FamilyID] = r
	}
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
	out := l.clients[r.SID]
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

package memstore

import (
	"context"
	"slices"
	"time"

	"user-registry/storage"
)

var _ storage.DeviceStore = (*Store)(nil)

// devices holds the device authorization requests (RFC 8628): grants by
// device-code hash, and the live user codes pointing at them. Guarded by
// Store.mu.
type devices struct {
	grants map[string]*storage.DeviceGrant // device hash → grant
	codes  map[string]string               // user code → device hash
}

// init makes the maps on first use, so New needs no line for them.
func (d *devices) init() {
	if d.grants == nil {
		d.grants = map[string]*storage.DeviceGrant{}
		d.codes = map[string]string{}
	}
}

// sweep drops the grants past KeepUntil and the user codes past their
// grant's expiry. Callers hold mu.
func (d *devices) sweep(now time.Time) {
	for code, h := range d.codes {
		if g, ok := d.grants[h]; !ok || !live(g.ExpiresAt, now) {
			delete(d.codes, code)
		}
	}
	for h, g := range d.grants {
		if !live(g.KeepUntil, now) {
			delete(d.grants, h)
		}
	}
}

// pendingByCode returns the pending, unexpired grant of userCode. Callers
// hold mu.
func (d *devices) pendingByCode(userCode string, now time.Time) (*storage.DeviceGrant, bool) {
	g, ok := d.grants[d.codes[userCode]]
	if !ok || g.UserCode != userCode || g.Status != storage.DevicePending || !live(g.ExpiresAt, now) {
		return nil, false
	}
	return g, true
}

// CreateDeviceGrant stores g until g.KeepUntil, findable by its user code
// until g.ExpiresAt. Returns storage.ErrExists when the user code is live
// or the device hash is taken.
func (s *Store) CreateDeviceGrant(_ context.Context, g storage.DeviceGrant, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.devices.init()
	if old, ok := s.devices.grants[s.devices.codes[g.UserCode]]; ok && live(old.ExpiresAt, now) {
		return storage.ErrExists
	}
	if old, ok := s.devices.grants[g.DeviceHash]; ok && live(old.KeepUntil, now) {
		return storage.ErrExists
	}
	s.devices.grants[g.DeviceHash] = &g
	s.devices.codes[g.UserCode] = g.DeviceHash
	s.wrote(s.now())
	return nil
}

// DeviceGrantByUserCode returns the pending, unexpired grant of userCode;
// storage.ErrNotFound otherwise.
func (s *Store) DeviceGrantByUserCode(_ context.Context, userCode string, now time.Time) (storage.DeviceGrant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.devices.init()
	g, ok := s.devices.pendingByCode(userCode, now)
	if !ok {
		return storage.DeviceGrant{}, storage.ErrNotFound
	}
	return *g, nil
}

// DecideDeviceGrant records d on the pending, unexpired grant of userCode.
// Returns storage.ErrNotFound when there is none.
func (s *Store) DecideDeviceGrant(_ context.Context, userCode string, d storage.DeviceDecision, now time.Time) (storage.DeviceGrant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.devices.init()
	g, ok := s.devices.pendingByCode(userCode, now)
	if !ok {
		return storage.DeviceGrant{}, storage.ErrNotFound
	}
	g.Status = storage.DeviceDenied
	if d.Approve {
		g.Status, g.UserID, g.AuthTime, g.SessionID = storage.DeviceApproved, d.UserID, d.AuthTime, d.SessionID
		g.SID, g.AMR = d.SID, slices.Clone(d.AMR)
	}
	return *g, nil
}

// PollDeviceGrant records a poll and returns its outcome (see
// storage.DeviceStore).
func (s *Store) PollDeviceGrant(_ context.Context, deviceHash, clientID string, now time.Time, step time.Duration) (storage.DeviceGrant, storage.DevicePoll, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.devices.init()
	g, ok := s.devices.grants[deviceHash]
	switch {
	case !ok || !live(g.KeepUntil, now) || g.ClientID != clientID:
		return storage.DeviceGrant{}, 0, storage.ErrNotFound
	case g.Status == storage.DeviceRedeemed:
		return storage.DeviceGrant{}, 0, storage.ErrReused
	case !live(g.ExpiresAt, now):
		return *g, storage.PollExpired, nil
	}
	prev := g.LastPollAt
	g.LastPollAt = now
	var out storage.DevicePoll
	switch {
	case prev.IsZero():
		out = storage.PollPending
	case storage.PollTooSoon(now.Sub(prev), g.Interval):
		g.Interval += step
		out = storage.PollSlowDown
	case g.Status == storage.DeviceDenied:
		out = storage.PollDenied
	case g.Status == storage.DeviceApproved:
		g.Status = storage.DeviceRedeemed
		out = storage.PollApproved
	default:
		out = storage.PollPending
	}
	return *g, out, nil
}

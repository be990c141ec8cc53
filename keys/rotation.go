package keys

import (
	"context"
	"errors"
	"time"

	"user-registry/storage"
)

// Tick is one step of automatic key management: reload the store (so a
// rotation by another node or the CLI shows here), create the first key if
// there is none, rotate when the active key is older than Rotation and no
// newer key is pending, and delete withdrawn keys. Run calls it
// periodically; tests call it directly with a fake clock.
func (m *Manager) Tick(ctx context.Context) error {
	if err := m.Ensure(ctx); err != nil {
		return err
	}
	now := m.cfg.Now()
	plans := m.current(now).plans

	if m.rotationDue(plans, now) {
		if err := m.Rotate(ctx, false); err != nil {
			return err
		}
		plans = m.current(m.cfg.Now()).plans
	}

	deleted := false
	for _, p := range plans {
		if p.published(now) {
			continue
		}
		err := m.store.DeleteKey(ctx, p.row.KID)
		switch {
		case err == nil:
			deleted = true
			m.cfg.Log.Info("withdrawn signing key deleted", "kid", p.row.KID)
		case errors.Is(err, storage.ErrNotFound):
			// another node deleted it first
		default:
			return err
		}
	}
	if deleted {
		return m.Reload(ctx)
	}
	return nil
}

// rotationDue reports whether the active key has signed for Rotation and no
// successor is already waiting.
func (m *Manager) rotationDue(plans []keyPlan, now time.Time) bool {
	i := activeIndex(plans, now)
	if i < 0 {
		return false
	}
	for _, p := range plans[i+1:] {
		if p.published(now) {
			return false // a newer key is pending
		}
	}
	return now.Sub(plans[i].activate) >= m.cfg.Rotation
}

// Run calls Tick every ReloadInterval until ctx ends. Errors are logged,
// not fatal: a database outage must not stop verification with cached keys.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.ReloadInterval)
	defer t.Stop()
	for {
		if err := m.Tick(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Log.Warn("key maintenance failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

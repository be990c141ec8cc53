package keys

import (
	"slices"
	"time"

	"user-registry/storage"
)

// Key states reported by List.
const (
	StateNext      = "next"      // published, not signing yet
	StateActive    = "active"    // the signing key
	StateRetired   = "retired"   // replaced, still published for its tokens
	StateWithdrawn = "withdrawn" // no longer published; may be deleted
)

// keyPlan is the lifecycle of one key, derived only from immutable rows so
// every node computes the same plan.
type keyPlan struct {
	row      storage.SigningKey
	activate time.Time // may sign from here
	retire   time.Time // a newer key signs from here; zero while none does
	withdraw time.Time // unpublished from here; zero while still needed
}

// plan computes the lifecycle of every row. Key G signs from its activation
// until a newer key's activation; a retired key stays published for
// tokenTTL+Skew after that, so its last token can still be verified; an
// emergency key withdraws every older key at its own activation.
func plan(rows []storage.SigningKey, maxAge, tokenTTL time.Duration) []keyPlan {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b storage.SigningKey) int {
		switch {
		case a.Generation < b.Generation:
			return -1
		case a.Generation > b.Generation:
			return 1
		}
		return 0
	})
	plans := make([]keyPlan, len(rows))
	for i, r := range rows {
		act := r.ActivateAt
		// Pre-publication is enforced here too (SEC-9), not only by the
		// node that wrote the row: a row claiming an earlier activation
		// is held back. Only the oldest key (fresh install) and an
		// emergency key may sign at once.
		if i > 0 && !r.Emergency {
			if earliest := r.CreatedAt.Add(maxAge + propagation); act.Before(earliest) {
				act = earliest
			}
		}
		plans[i] = keyPlan{row: r, activate: act}
	}
	for i := range plans {
		for j := i + 1; j < len(plans); j++ {
			later := plans[j].activate
			if plans[i].retire.IsZero() || later.Before(plans[i].retire) {
				plans[i].retire = later
			}
			if plans[j].row.Emergency && (plans[i].withdraw.IsZero() || later.Before(plans[i].withdraw)) {
				plans[i].withdraw = later
			}
		}
		if !plans[i].retire.IsZero() {
			w := plans[i].retire.Add(tokenTTL + Skew)
			if plans[i].withdraw.IsZero() || w.Before(plans[i].withdraw) {
				plans[i].withdraw = w
			}
		}
	}
	return plans
}

func (p *keyPlan) published(now time.Time) bool {
	return p.withdraw.IsZero() || now.Before(p.withdraw)
}

func (p *keyPlan) state(now time.Time) string {
	switch {
	case !p.published(now):
		return StateWithdrawn
	case now.Before(p.activate):
		return StateNext
	case !p.retire.IsZero() && !now.Before(p.retire):
		return StateRetired
	}
	return StateActive
}

// activeIndex returns the index of the signing key at now, or -1.
func activeIndex(plans []keyPlan, now time.Time) int {
	for i := len(plans) - 1; i >= 0; i-- {
		if plans[i].state(now) == StateActive {
			return i
		}
	}
	return -1
}

// nextChange returns the first instant after now at which any state
// changes, or the zero time when none ever will.
func nextChange(plans []keyPlan, now time.Time) time.Time {
	var next time.Time
	for _, p := range plans {
		for _, t := range [...]time.Time{p.activate, p.retire, p.withdraw} {
			if t.After(now) && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	}
	return next
}

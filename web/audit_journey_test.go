package web

import (
	"slices"
	"testing"

	"user-registry/provider"
)

// TestAuditJourneyInOrder (SPEC §13): the events of one user's journey,
// read back from the trail oldest first, come in the order the journey
// made them, each with its time, actor, IP and user agent.
func TestAuditJourneyInOrder(t *testing.T) {
	f := runAuditFlows(t, "sqlite+memory")
	events := f.trail.events(t) // newest first
	var got []string
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.UserID != f.userID {
			continue
		}
		if i < len(events)-1 && e.Time.Before(events[i+1].Time) {
			t.Fatalf("listing not newest first at %d", i)
		}
		if e.Time.IsZero() || e.Actor == "" || e.IP != auditIP || e.UserAgent != auditUA {
			t.Errorf("event %s lacks a field: %+v", e.Event, e)
		}
		got = append(got, e.Event)
	}
	journey := []string{
		provider.EventSignup, provider.EventEmailVerified, provider.EventLoginSucceeded, provider.EventLoginFailed,
		provider.EventLoginSucceeded, provider.EventPasswordChanged, provider.EventClientCreated,
		provider.EventClientDeleted, provider.EventLogout, provider.EventPasswordReset, provider.EventLoginSucceeded,
		provider.EventLogoutAll, provider.EventLoginSucceeded, provider.EventAccountDeleted,
	}
	// The journey must appear in this order; events of other kinds (a
	// refresh reuse, say) may sit between its steps.
	at := 0
	for _, e := range got {
		if at < len(journey) && e == journey[at] {
			at++
		}
	}
	if at != len(journey) {
		t.Fatalf("journey out of order or incomplete: matched %d of %v\nin %v", at, journey, got)
	}
	if slices.Index(got, provider.EventSignup) != 0 || got[len(got)-1] != provider.EventAccountDeleted {
		t.Fatalf("journey does not start with signup and end with deletion: %v", got)
	}
}

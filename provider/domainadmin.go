package provider

import (
	"context"
	"errors"
	"fmt"

	"user-registry/storage"
)

// ErrBadBelongsTo: a domain record's belongs_to is missing or neither 0
// (allowed) nor 1 (blocked). It is invalid input (400).
var ErrBadBelongsTo = InvalidInput("belongs_to must be 0 (allowed) or 1 (blocked)")

// ErrNoDomainRecord: there is no record for the domain to remove (404).
var ErrNoDomainRecord = errors.New("no record for this domain")

// DomainEntry is one DomainCheck record as the admin API and `domains list
// --json` show it (SPEC §1, §4, §10): {"domain","belongs_to","require_mfa"}.
type DomainEntry struct {
	Domain     string `json:"domain"`
	BelongsTo  int    `json:"belongs_to"`
	RequireMFA bool   `json:"require_mfa"`
}

func newDomainEntry(r storage.DomainRecord) DomainEntry {
	return DomainEntry{Domain: r.Domain, BelongsTo: r.BelongsTo, RequireMFA: r.RequireMFA}
}

// ErrBlockedRequireMFA: require_mfa on a blocked record, where nobody
// signs in (400).
var ErrBlockedRequireMFA = InvalidInput("require_mfa applies to allowed domains only")

// DomainAdmin is the one owner of changes to the DomainCheck records, for
// the admin API and the CLI alike: it normalizes the domain (SEC-32),
// checks belongs_to, and makes a change visible to this process's policy
// at once. Other nodes see it within DomainPolicyTTL, when their cache
// expires.
type DomainAdmin struct {
	Store storage.DomainStore
	// Policy is this process's cache of the records; nil where none is
	// served (the CLI).
	Policy *DomainPolicy
	// Audit records domain_changed; nil records nothing. The actor (the
	// CLI, an admin client) comes from the context's RequestInfo.
	Audit Auditor
}

// Put creates or replaces the record for domain and returns it, its domain
// normalized; requireMFA makes its users complete a second factor (SPEC
// §10; a plain allow sets it back to false). Errors: invalid input (the
// domain's own message, ErrBadBelongsTo, ErrBlockedRequireMFA), or the
// store's (wrapping storage.ErrUnavailable).
func (a *DomainAdmin) Put(ctx context.Context, domain string, belongsTo int, requireMFA bool) (DomainEntry, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return DomainEntry{}, err
	}
	if belongsTo != storage.DomainAllowed && belongsTo != storage.DomainBlocked {
		return DomainEntry{}, ErrBadBelongsTo
	}
	if requireMFA && belongsTo != storage.DomainAllowed {
		return DomainEntry{}, ErrBlockedRequireMFA
	}
	rec := storage.DomainRecord{Domain: d, BelongsTo: belongsTo, RequireMFA: requireMFA}
	if err := a.Store.PutDomain(ctx, rec); err != nil {
		return DomainEntry{}, fmt.Errorf("provider: put domain %s: %w", d, err)
	}
	a.invalidate()
	detail := "allowed"
	if belongsTo == storage.DomainBlocked {
		detail = "blocked"
	} else if requireMFA {
		detail = "allowed, second factor required"
	}
	a.record(ctx, d, detail)
	return newDomainEntry(rec), nil
}

// Remove deletes the record for domain and returns the normalized domain.
// Errors: invalid input, ErrNoDomainRecord, or the store's.
func (a *DomainAdmin) Remove(ctx context.Context, domain string) (string, error) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return "", err
	}
	err = a.Store.DeleteDomain(ctx, d)
	if errors.Is(err, storage.ErrNotFound) {
		return d, fmt.Errorf("provider: remove domain %s: %w", d, ErrNoDomainRecord)
	}
	if err != nil {
		return d, fmt.Errorf("provider: remove domain %s: %w", d, err)
	}
	a.invalidate()
	a.record(ctx, d, "removed")
	return d, nil
}

func (a *DomainAdmin) record(ctx context.Context, domain, detail string) {
	auditorOr(a.Audit).Record(ctx, AuditEvent{Event: EventDomainChanged, Domain: domain, Detail: detail})
}

func (a *DomainAdmin) invalidate() {
	if a.Policy != nil {
		a.Policy.Invalidate()
	}
}

package memstore

import (
	"context"
	"errors"
	"sort"
	"strings"

	"user-registry/storage"
)

// LookupDomains returns the records of those names that have one.
func (s *Store) LookupDomains(_ context.Context, names []string) ([]storage.DomainRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storage.DomainRecord
	for _, n := range names {
		if r, ok := s.domains[n]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// ListDomainsPage returns at most limit records after after whose domain
// contains q, ordered by domain. It sorts the matching keys on every call:
// the memory store is for development and tests, not a million records.
func (s *Store) ListDomainsPage(_ context.Context, q, after string, limit int) ([]storage.DomainRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.domains))
	for d := range s.domains {
		if d > after && strings.Contains(d, q) {
			keys = append(keys, d)
		}
	}
	sort.Strings(keys)
	if len(keys) > limit {
		keys = keys[:limit]
	}
	out := make([]storage.DomainRecord, len(keys))
	for i, d := range keys {
		out[i] = s.domains[d]
	}
	return out, nil
}

// ImportDomains creates or replaces every record of recs under one lock:
// it checks them all before writing any, so an error leaves nothing.
func (s *Store) ImportDomains(_ context.Context, recs []storage.DomainRecord) (storage.DomainImport, error) {
	for _, r := range recs {
		if r.Domain == "" {
			return storage.DomainImport{}, errors.New("memstore: import domains: empty domain")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n storage.DomainImport
	now := s.now().UTC()
	for _, r := range recs {
		old, ok := s.domains[r.Domain]
		switch {
		case !ok:
			n.Inserted++
		case old.BelongsTo != r.BelongsTo:
			n.Updated++
		default:
			n.Unchanged++
			continue
		}
		if r.UpdatedAt.IsZero() {
			r.UpdatedAt = now
		}
		// An import sets the list, not the second-factor rule: a
		// record keeps its RequireMFA, as in the SQL backend.
		r.RequireMFA = ok && old.RequireMFA
		s.domains[r.Domain] = r
	}
	return n, nil
}

package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"user-registry/storage"
)

// Limits of a page of domain records (SPEC §13: like /admin/users).
const (
	DomainPageDefault = 100
	DomainPageMax     = 500
)

// ErrBadDomainLimit, ErrBadDomainCursor, ErrBadDomainQuery: a limit
// outside 1–500, a cursor this server did not make, or a search text longer
// than any domain. All are invalid input (400).
var (
	ErrBadDomainLimit  = InvalidInput(fmt.Sprintf("limit must be between 1 and %d", DomainPageMax))
	ErrBadDomainCursor = InvalidInput("Invalid cursor")
	ErrBadDomainQuery  = InvalidInput("q is too long")
)

// DomainPage is the answer of GET /admin/domains: {"domains":[...],
// "next_cursor"}, next_cursor absent on the last page and domains an empty
// list rather than null.
type DomainPage struct {
	Domains    []DomainEntry `json:"domains"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// Page returns the records after cursor ("" = the first page) whose domain
// contains q, ordered by domain, at most limit of them (0 = 100). The
// cursor is opaque to callers: the base64url form of the last domain of
// the previous page, so paging is a keyset walk of the primary key.
// Errors: ErrBadDomainLimit, ErrBadDomainCursor, ErrBadDomainQuery (all
// invalid input), or the store's.
func (a *DomainAdmin) Page(ctx context.Context, q, cursor string, limit int) (DomainPage, error) {
	switch {
	case limit == 0:
		limit = DomainPageDefault
	case limit < 0 || limit > DomainPageMax:
		return DomainPage{}, ErrBadDomainLimit
	}
	after, err := decodeDomainCursor(cursor)
	if err != nil {
		return DomainPage{}, err
	}
	q, err = domainQuery(q)
	if err != nil {
		return DomainPage{}, err
	}
	// One more than asked tells whether another page follows.
	recs, err := a.Store.ListDomainsPage(ctx, q, after, limit+1)
	if err != nil {
		return DomainPage{}, fmt.Errorf("provider: list domains: %w", err)
	}
	out := DomainPage{Domains: make([]DomainEntry, 0, min(len(recs), limit))}
	for _, r := range recs[:min(len(recs), limit)] {
		out.Domains = append(out.Domains, newDomainEntry(r))
	}
	if len(recs) > limit {
		out.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(recs[limit-1].Domain))
	}
	return out, nil
}

// Each calls fn for every record, in domain order, reading the table one
// page at a time so memory stays flat however long the list. It stops at
// the first error, fn's included.
func (a *DomainAdmin) Each(ctx context.Context, fn func(DomainEntry) error) error {
	const pageSize = 1000
	after := ""
	for {
		recs, err := a.Store.ListDomainsPage(ctx, "", after, pageSize)
		if err != nil {
			return fmt.Errorf("provider: list domains: %w", err)
		}
		for _, r := range recs {
			if err := fn(newDomainEntry(r)); err != nil {
				return err
			}
		}
		if len(recs) < pageSize {
			return nil
		}
		after = recs[len(recs)-1].Domain
	}
}

// Export writes the domains whose belongs_to is belongsTo to w in the
// format Import reads (one domain a line) and returns how many it wrote.
func (a *DomainAdmin) Export(ctx context.Context, w io.Writer, belongsTo int) (int, error) {
	if belongsTo != storage.DomainAllowed && belongsTo != storage.DomainBlocked {
		return 0, ErrBadBelongsTo
	}
	n := 0
	err := a.Each(ctx, func(e DomainEntry) error {
		if e.BelongsTo != belongsTo {
			return nil
		}
		n++
		line := e.Domain + "\n"
		if e.RequireMFA {
			// A comment for import (which reads the list, not the
			// rule), so the export still shows every record's rule.
			line = e.Domain + " # require_mfa\n"
		}
		_, err := io.WriteString(w, line)
		return err
	})
	return n, err
}

// decodeDomainCursor returns the domain a cursor names, "" for none.
func decodeDomainCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) == 0 || len(b) > maxDomainLen || strings.Trim(string(b), "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return "", ErrBadDomainCursor
	}
	return string(b), nil
}

// domainQuery lower-cases the search text; one with letters outside ASCII
// is searched in its Punycode form when it has one ("bücher" finds
// "xn--bcher-kva.de").
func domainQuery(q string) (string, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	if len(q) > 4*maxDomainLen {
		return "", ErrBadDomainQuery
	}
	for _, r := range q {
		if r >= 0x80 {
			if ascii, err := domainProfile().ToASCII(q); err == nil {
				return ascii, nil
			}
			break
		}
	}
	return q, nil
}

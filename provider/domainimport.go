package provider

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"user-registry/storage"
)

// MaxDomainImport bounds the distinct domains of one import: every
// record is held in memory until the one transaction that writes them
// (about 100 bytes each), so a runaway file fails cleanly instead of
// exhausting memory. Twice the million records SPEC §13 plans for.
const MaxDomainImport = 2_000_000

// maxImportLine is the longest line Import reads whole; the longest valid
// domain is 4×253 bytes before IDN conversion. A longer line is a bad line
// unless a '#' within it starts a comment.
const maxImportLine = 4096

// ErrTooManyDomains: the file holds more than MaxDomainImport domains.
var ErrTooManyDomains = fmt.Errorf("more than %d domains in one import: split the file", MaxDomainImport)

// DomainImportResult counts what Import did. Lines counts every line read;
// Imported the domains created or changed; Present those that had this
// policy already; Duplicates the lines naming a domain an earlier line
// named; Bad the lines refused (each reported).
type DomainImportResult struct {
	Lines, Imported, Present, Duplicates, Bad int
}

// Import reads a domain list from r, one domain a line (SPEC §13): blank
// lines and '#' comments (whole lines or the end of one) are skipped; each
// domain is normalized as by Put; a bad line is passed to bad with its
// 1-based number, its text and the reason (bad may be nil), and skipped. Every domain gets
// belongsTo. The file is read as a stream; the distinct records are then
// written sorted (in primary-key order, which B-trees insert fastest) in
// one all-or-nothing store call (SEC-72), so a failure leaves no record of
// this import behind. Errors: ErrBadBelongsTo, ErrTooManyDomains, a read
// error, or the store's; with any of them nothing was written.
func (a *DomainAdmin) Import(ctx context.Context, r io.Reader, belongsTo int, bad func(line int, text string, reason string)) (DomainImportResult, error) {
	var res DomainImportResult
	if belongsTo != storage.DomainAllowed && belongsTo != storage.DomainBlocked {
		return res, ErrBadBelongsTo
	}
	if bad == nil {
		bad = func(int, string, string) {}
	}
	var recs []storage.DomainRecord
	br := bufio.NewReaderSize(r, maxImportLine)
	for {
		line, tooLong, err := readImportLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return DomainImportResult{}, fmt.Errorf("provider: import domains: read: %w", err)
		}
		res.Lines++
		text := line
		if i := bytes.IndexByte(text, '#'); i >= 0 {
			text, tooLong = text[:i], false
		}
		text = bytes.TrimSpace(text)
		switch {
		case tooLong:
			res.Bad++
			bad(res.Lines, printable(line), "line too long")
			continue
		case len(text) == 0:
			continue
		}
		d, err := NormalizeDomain(string(text))
		if err != nil {
			res.Bad++
			bad(res.Lines, printable(line), Message(err))
			continue
		}
		recs = append(recs, storage.DomainRecord{Domain: d, BelongsTo: belongsTo})
		if len(recs) > 2*MaxDomainImport {
			// Deduplicate early before giving up: a file may repeat itself.
			recs, _ = dedupDomains(recs)
			if len(recs) > MaxDomainImport {
				return DomainImportResult{}, ErrTooManyDomains
			}
		}
	}
	recs, dups := dedupDomains(recs)
	if len(recs) > MaxDomainImport {
		return DomainImportResult{}, ErrTooManyDomains
	}
	res.Duplicates += dups
	n, err := a.Store.ImportDomains(ctx, recs)
	if err != nil {
		return DomainImportResult{}, fmt.Errorf("provider: import domains: %w", err)
	}
	res.Imported, res.Present = n.Inserted+n.Updated, n.Unchanged
	if res.Imported > 0 {
		a.invalidate()
	}
	return res, nil
}

// readImportLine returns the next line without its newline, at most
// maxImportLine bytes of it: tooLong reports that the rest was skipped.
// io.EOF only when nothing is left.
func readImportLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	line, err = br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		line = bytes.Clone(line)
		tooLong = true
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
	}
	if err == io.EOF && (len(line) > 0 || tooLong) {
		err = nil
	}
	return bytes.TrimSuffix(line, []byte("\n")), tooLong, err
}

// dedupDomains sorts recs by domain and drops repeats, returning how many
// it dropped. It reuses recs' array.
func dedupDomains(recs []storage.DomainRecord) ([]storage.DomainRecord, int) {
	slices.SortFunc(recs, func(x, y storage.DomainRecord) int { return strings.Compare(x.Domain, y.Domain) })
	out := slices.CompactFunc(recs, func(x, y storage.DomainRecord) bool { return x.Domain == y.Domain })
	return out, len(recs) - len(out)
}

// printable is a bad line as a report shows it: quoted (so control bytes
// and invalid UTF-8 of a binary file are escaped) and cut to 80 bytes.
func printable(line []byte) string {
	if len(line) > 80 {
		return fmt.Sprintf("%q…", line[:80])
	}
	return fmt.Sprintf("%q", line)
}

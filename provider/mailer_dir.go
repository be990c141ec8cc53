package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DirMailer writes each mail as an RFC 5322 .eml file into a directory
// (--mail-dir), for development and tests. A file is written under a
// hidden temporary name and renamed into place, so a reader polling for
// *.eml never sees half a mail.
type DirMailer struct {
	dir  string
	from string
	now  func() time.Time
}

// NewDirMailer returns a mailer writing into dir, which must exist and be
// a directory; from is the From header. now nil means time.Now. Returns
// an error naming the problem otherwise.
func NewDirMailer(dir, from string, now func() time.Time) (*DirMailer, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("mail dir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("mail dir: %s is not a directory", dir)
	}
	if _, err := envelopeAddress(from); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &DirMailer{dir: dir, from: from, now: now}, nil
}

// Send writes m to <dir>/<time>-<random>.eml (mode 0600: the mail holds a
// token). Returns the file system's error.
func (d *DirMailer) Send(_ context.Context, m Mail) error {
	now := d.now()
	b, err := formatMessage(d.from, m, now)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(d.dir, ".mail-*.tmp")
	if err != nil {
		return fmt.Errorf("mail dir: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mail dir: write: %w", err)
	}
	r := make([]byte, 8)
	rand.Read(r)
	name := filepath.Join(d.dir, now.UTC().Format("20060102T150405.000000000")+"-"+hex.EncodeToString(r)+".eml")
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mail dir: %w", err)
	}
	return nil
}

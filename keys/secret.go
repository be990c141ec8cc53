package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateSecret returns the 32-byte key-encryption key (SEC-10).
// value is base64 (standard or URL alphabet, padded or not) from config or
// env. When value is empty and sqlitePath names a database file, the secret
// is read from, or generated into, "<sqlitePath>.key" with mode 0600;
// created reports a new file so the caller can log that (never the secret).
// Without either, it is an error (MySQL deployments must configure one).
func LoadOrCreateSecret(value, sqlitePath string) (secret []byte, created bool, err error) {
	if value != "" {
		s, err := decodeSecret(value)
		return s, false, err
	}
	if sqlitePath == "" || sqlitePath == ":memory:" {
		return nil, false, errors.New("keys: --key-secret is required (base64 of 32 random bytes)")
	}
	path := sqlitePath + ".key"
	if b, err := os.ReadFile(path); err == nil {
		s, err := decodeSecret(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("keys: %s: %w", path, err)
		}
		return s, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("keys: read key secret: %w", err)
	}
	s := make([]byte, secretSize)
	if _, err := rand.Read(s); err != nil {
		return nil, false, err
	}
	// The secret is written to a private temporary file and then linked
	// into place: link fails when the name exists, so of two processes
	// starting on a fresh database only one creates the file, and the other
	// never sees it before it is complete.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, false, fmt.Errorf("keys: create key secret file: %w", err)
	}
	defer os.Remove(tmp.Name())
	werr := tmp.Chmod(0o600)
	if werr == nil {
		_, werr = tmp.WriteString(base64.StdEncoding.EncodeToString(s) + "\n")
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, false, fmt.Errorf("keys: write key secret file: %w", werr)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return LoadOrCreateSecret("", sqlitePath)
	} else if err != nil {
		return nil, false, fmt.Errorf("keys: create key secret file: %w", err)
	}
	return s, true, nil
}

func decodeSecret(v string) ([]byte, error) {
	v = strings.TrimSpace(v)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) != secretSize {
				return nil, fmt.Errorf("keys: key secret must decode to %d bytes, got %d", secretSize, len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("keys: key secret is not valid base64")
}

package provider

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is returned by Hasher.Verify for a stored hash it cannot
// parse or whose parameters are out of the accepted bounds.
var ErrMalformedHash = errors.New("malformed password hash")

// Argon2Params are the argon2id cost parameters (SEC-24).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultArgon2Params returns OWASP's argon2id recommendation: m=19 MiB,
// t=2, p=1, with a 16-byte salt and a 32-byte key.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds for parameters read from stored hashes, so an imported or tampered
// row cannot make one verification take minutes or gigabytes.
const (
	maxArgonMemory  = 256 * 1024 // KiB (256 MiB)
	maxArgonTime    = 16
	maxArgonThreads = 16
	minArgonSalt    = 8
	maxArgonSalt    = 64
	minArgonKey     = 16
	maxArgonKey     = 64
)

// Hasher hashes and verifies passwords with argon2id, and verifies the
// legacy werkzeug hashes of the original service. At most maxConcurrent
// hash computations run at once (SEC-24, SEC-49): each takes ~19 MiB, so
// an unbounded login flood would exhaust memory; callers beyond the bound
// wait, or give up when their context ends. Safe for concurrent use.
type Hasher struct {
	params  Argon2Params
	sem     chan struct{}
	started atomic.Uint64 // hash computations begun (Started)
}

// NewHasher returns a Hasher producing hashes with p; zero fields of p take
// their DefaultArgon2Params value (argon2 panics on zero time or threads, so
// a half-filled config must not reach it). maxConcurrent <= 0 means
// runtime.NumCPU() (hashing is CPU-bound, more in parallel only adds memory).
func NewHasher(p Argon2Params, maxConcurrent int) *Hasher {
	d := DefaultArgon2Params()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{params: p, sem: make(chan struct{}, maxConcurrent)}
}

// Hash returns the PHC string of pw, e.g.
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>" (unpadded standard base64).
// pw is NFKC-normalized first (NormalizePassword is idempotent, so callers
// may pass it raw or already normalized). Returns ctx's error if ctx ends
// while waiting for a hashing slot.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(NormalizePassword(pw)), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release()
	return encodePHC(h.params, salt, key), nil
}

// Verify reports whether pw matches the stored hash encoded, in constant
// time. needsRehash is true when the match used other parameters than the
// Hasher's or a legacy werkzeug hash (SEC-24, SEC-31): the caller then
// stores a fresh Hash. Returns ErrMalformedHash for an unparsable or
// out-of-bounds hash, and ctx's error if ctx ends while waiting.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (ok, needsRehash bool, err error) {
	if strings.HasPrefix(encoded, "$argon2") {
		p, salt, key, err := parsePHC(encoded)
		if err != nil {
			return false, false, err
		}
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		got := argon2.IDKey([]byte(NormalizePassword(pw)), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
		h.release()
		if subtle.ConstantTimeCompare(got, key) != 1 {
			return false, false, nil
		}
		return true, p != h.params, nil
	}
	wh, err := parseWerkzeug(encoded)
	if err != nil {
		return false, false, err
	}
	// The original service hashed the password as typed. Try that, then the
	// NFKC form in case the caller normalized already (identical for most
	// passwords, in which case one computation is enough).
	candidates := []string{pw}
	if n := NormalizePassword(pw); n != pw {
		candidates = append(candidates, n)
	}
	for _, c := range candidates {
		if err := h.acquire(ctx); err != nil {
			return false, false, err
		}
		match := wh.verify(c)
		h.release()
		if match {
			return true, true, nil
		}
	}
	return false, false, nil
}

// VerifyDummy costs what Verify costs for a hash with the Hasher's
// parameters and always fails. Login calls it for an unknown account so
// both answers take the same time (SEC-26).
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) error {
	// A fixed all-zero salt is fine: the result is thrown away, only the
	// work matters.
	salt := make([]byte, h.params.SaltLen)
	if err := h.acquire(ctx); err != nil {
		return err
	}
	got := argon2.IDKey([]byte(NormalizePassword(pw)), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	h.release()
	subtle.ConstantTimeCompare(got, make([]byte, len(got)))
	return nil
}

// IsSupportedHash reports whether Verify can check s: an argon2id PHC string
// or a werkzeug pbkdf2/scrypt hash, within the accepted parameter bounds.
// The importer uses it to refuse rows no login could ever match.
func IsSupportedHash(s string) bool {
	if strings.HasPrefix(s, "$argon2") {
		_, _, _, err := parsePHC(s)
		return err == nil
	}
	_, err := parseWerkzeug(s)
	return err == nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	// Prefer a context that is already done over a free slot, so a
	// cancelled request never starts a costly computation.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
		h.started.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// Started counts the argon2id computations begun so far (hashes and
// verifications). The server's memory policy watches it: a login load
// wants another collector setting than a token load.
func (h *Hasher) Started() uint64 { return h.started.Load() }

func encodePHC(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// parsePHC parses "$argon2id$v=19$m=M,t=T,p=P$salt$key" strictly (fields in
// this order, decimal without signs, unpadded base64) and checks bounds.
func parsePHC(s string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" {
		return p, nil, nil, ErrMalformedHash
	}
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, nil, nil, ErrMalformedHash
	}
	m, okM := phcUint(fields[0], "m=", maxArgonMemory)
	t, okT := phcUint(fields[1], "t=", maxArgonTime)
	th, okP := phcUint(fields[2], "p=", maxArgonThreads)
	// argon2 needs at least 8 KiB of memory per lane.
	if !okM || !okT || !okP || t < 1 || th < 1 || m < 8*th {
		return p, nil, nil, ErrMalformedHash
	}
	salt, err1 := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err1 != nil || err2 != nil ||
		len(salt) < minArgonSalt || len(salt) > maxArgonSalt ||
		len(key) < minArgonKey || len(key) > maxArgonKey {
		return p, nil, nil, ErrMalformedHash
	}
	p = Argon2Params{Memory: m, Time: t, Threads: uint8(th), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	return p, salt, key, nil
}

// phcUint parses "<prefix><decimal>" with 1 ≤ value ≤ max.
func phcUint(field, prefix string, max uint32) (uint32, bool) {
	digits, ok := strings.CutPrefix(field, prefix)
	if !ok || digits == "" || len(digits) > 10 || digits[0] < '1' || digits[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || v > uint64(max) {
		return 0, false
	}
	return uint32(v), true
}

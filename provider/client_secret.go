package provider

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// Client secrets are 256 random bits (SEC-19). A keyed fast hash is the right
// tool for them: unlike passwords they cannot be guessed, so a slow hash
// would only cost CPU on every token request without adding security, while
// the key keeps a stolen database dump from being usable to check guesses.
const secretBytes = 32

// newSecret returns a fresh client secret in the text form of every
// stored-hashed secret (secrets.go): 43 characters, nothing to escape in
// Basic auth or a form. Unlike the others it is stored under a keyed hash
// (secretHasher).
func newSecret() string { return randomText(secretBytes) }

// newClientID returns 128 random bits, base64url (22 characters), drawn
// again when it would start with "-": an ID is a command-line argument
// (`clients delete ID`), where it would read as a flag.
func newClientID() string {
	for {
		if id := randomText(16); id[0] != '-' {
			return id
		}
	}
}

// secretHasher computes HMAC-SHA-256(key, secret). hmac.New keys the inner
// and outer hashes, which costs more than hashing a 43-byte secret; pooled
// states are only Reset (which keeps the keying), about 170 ns a check
// instead of 450 ns on the token hot path. Safe for concurrent use.
type secretHasher struct {
	pool sync.Pool // hash.Hash keyed with the HMAC key
	// dummy is compared against when there is no real hash (unknown client,
	// public client), so every check does the same work.
	dummy []byte
}

func newSecretHasher(key []byte) *secretHasher {
	k := append([]byte(nil), key...)
	h := &secretHasher{}
	h.pool.New = func() any { return hmac.New(sha256.New, k) }
	h.dummy = h.sum("user-registry dummy secret")
	return h
}

// sum returns the keyed hash of secret.
func (h *secretHasher) sum(secret string) []byte {
	m := h.pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(secret))
	out := m.Sum(make([]byte, 0, sha256.Size))
	h.pool.Put(m)
	return out
}

// equal reports in constant time whether secret hashes to want. With an
// empty want it does the same work and reports false.
func (h *secretHasher) equal(secret string, want []byte) bool {
	got := h.sum(secret)
	if len(want) == 0 {
		hmac.Equal(got, h.dummy)
		return false
	}
	return hmac.Equal(got, want)
}

// equalEither reports whether secret hashes to want or, when prev is not
// empty, to prev: one keyed hash, compared in constant time with both.
func (h *secretHasher) equalEither(secret string, want, prev []byte) bool {
	if len(prev) == 0 {
		return h.equal(secret, want)
	}
	got := h.sum(secret)
	a := hmac.Equal(got, want) && len(want) > 0
	b := hmac.Equal(got, prev)
	return a || b
}

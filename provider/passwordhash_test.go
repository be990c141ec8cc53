// Internal test package: the semaphore test fills the Hasher's slots
// directly, which is the only way to observe the bound without timing.
package provider

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fastParams keep the tests quick; the format and logic are the same.
func fastParams() Argon2Params {
	return Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

func TestDefaultArgon2ParamsHash(t *testing.T) {
	h := NewHasher(DefaultArgon2Params(), 0)
	enc, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(enc) {
		t.Fatalf("hash %q is not the expected PHC string", enc)
	}
	ok, rehash, err := h.Verify(context.Background(), "correct horse", enc)
	if err != nil || !ok || rehash {
		t.Fatalf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	if !IsSupportedHash(enc) {
		t.Fatal("IsSupportedHash(own hash) = false")
	}
}

func TestNewHasherZeroParams(t *testing.T) {
	h := NewHasher(Argon2Params{Memory: 64, Time: 1}, 1)
	want := Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	if h.params != want {
		t.Fatalf("params = %+v, want %+v", h.params, want)
	}
	if _, err := h.Hash(context.Background(), "my-own-pass"); err != nil {
		t.Fatal(err)
	}
}

func TestHasherVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fastParams(), 2)
	enc, err := h.Hash(ctx, "ｍｙ－ｏｗｎ－ｐａｓｓ") // hashed as NFKC "my-own-pass"
	if err != nil {
		t.Fatal(err)
	}
	again, _ := h.Hash(ctx, "my-own-pass")
	if again == enc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	older := NewHasher(Argon2Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	oldEnc, _ := older.Hash(ctx, "my-own-pass")

	tests := []struct {
		name       string
		pw, stored string
		ok, rehash bool
	}{
		{"right", "my-own-pass", enc, true, false},
		{"right, fullwidth as typed", "ｍｙ－ｏｗｎ－ｐａｓｓ", enc, true, false},
		{"wrong", "my-own-pasS", enc, false, false},
		{"empty", "", enc, false, false},
		{"old params: rehash", "my-own-pass", oldEnc, true, true},
		{"old params, wrong", "nope-nope", oldEnc, false, false},
		{"werkzeug: rehash", "secret-pw", wzPBKDF2Hashlib, true, true},
		{"werkzeug, wrong", "secret-pX", wzPBKDF2Hashlib, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(ctx, tt.pw, tt.stored)
			if err != nil || ok != tt.ok || rehash != tt.rehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, nil", ok, rehash, err, tt.ok, tt.rehash)
			}
		})
	}
}

func TestHasherMalformed(t *testing.T) {
	h := NewHasher(fastParams(), 1)
	salt := "c2FsdHNhbHRzYWx0c2FsdA"                     // 16 bytes
	key := "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U" // 32 bytes
	tests := []string{
		"",
		"$",
		"not a hash",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, // 4 GiB
		"$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=255$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 200),
		"pbkdf2:sha256:0$salt$" + strings.Repeat("0", 64),
		"pbkdf2:sha256:99999999$salt$" + strings.Repeat("0", 64),
		"pbkdf2:sha256:1000$salt$" + strings.Repeat("0", 40), // digest size mismatch
		"pbkdf2:sha256:1000$salt$zz" + strings.Repeat("0", 62),
		"pbkdf2:sha256:1000$$" + strings.Repeat("0", 64),
		"pbkdf2:sha256:1000:9$salt$" + strings.Repeat("0", 64),
		"pbkdf2:sha256:01000$salt$" + strings.Repeat("0", 64),
		"pbkdf2:md5:1000$salt$" + strings.Repeat("0", 32),
		"pbkdf2$salt$" + strings.Repeat("0", 64),
		"scrypt:1048576:8:1$salt$" + strings.Repeat("0", 128), // 1 GiB
		"scrypt:16000:8:1$salt$" + strings.Repeat("0", 128),   // not a power of two
		"scrypt:16384:8:1000$salt$" + strings.Repeat("0", 128),
		"scrypt:1048576:1:64$salt$" + strings.Repeat("0", 128), // 128 MiB, 64 times
		"scrypt:131072:8:8$salt$" + strings.Repeat("0", 128),   // 128 MiB, 8 times
		"scrypt:16384:8$salt$" + strings.Repeat("0", 128),
		"scrypt:16384:8:1$salt$" + strings.Repeat("0", 64),
		"sha256$salt$" + strings.Repeat("0", 64), // werkzeug < 2.3 plain digest: unsupported
		"plain$$secret",
	}
	for _, s := range tests {
		t.Run(s, func(t *testing.T) {
			if IsSupportedHash(s) {
				t.Fatalf("IsSupportedHash(%q) = true", s)
			}
			ok, _, err := h.Verify(context.Background(), "whatever-pw", s)
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify = %v, %v; want false, ErrMalformedHash", ok, err)
			}
		})
	}
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(fastParams(), 1)
	if err := h.VerifyDummy(context.Background(), "anything-at-all"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.VerifyDummy(ctx, "anything-at-all"); !errors.Is(err, context.Canceled) {
		t.Fatalf("VerifyDummy with cancelled ctx = %v", err)
	}
}

// SEC-24: no more than maxConcurrent computations; waiters give up with
// their context.
func TestHasherSemaphore(t *testing.T) {
	h := NewHasher(fastParams(), 2)
	if cap(h.sem) != 2 {
		t.Fatalf("capacity %d, want 2", cap(h.sem))
	}
	if d := NewHasher(fastParams(), 0); cap(d.sem) < 1 {
		t.Fatal("default concurrency < 1")
	}
	enc, _ := h.Hash(context.Background(), "my-own-pass")
	// Occupy every slot, as two long computations would.
	h.sem <- struct{}{}
	h.sem <- struct{}{}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "my-own-pass"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with all slots busy = %v, want DeadlineExceeded", err)
	}
	if _, _, err := h.Verify(ctx, "my-own-pass", enc); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Verify with all slots busy = %v, want DeadlineExceeded", err)
	}
	if _, _, err := h.Verify(ctx, "secret-pw", wzPBKDF2Hashlib); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("legacy Verify with all slots busy = %v, want DeadlineExceeded", err)
	}

	// A waiter proceeds as soon as a slot frees.
	done := make(chan error)
	go func() {
		_, err := h.Hash(context.Background(), "my-own-pass")
		done <- err
	}()
	<-h.sem
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-h.sem

	// Many concurrent callers all finish and leave the slots free.
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, _, err := h.Verify(context.Background(), "my-own-pass", enc); err != nil || !ok {
				t.Errorf("Verify = %v, %v", ok, err)
			}
		}()
	}
	wg.Wait()
	if len(h.sem) != 0 {
		t.Fatalf("%d slots still held", len(h.sem))
	}
}

// TestHasherStarted: every argon2id computation counts, hashing and
// verifying alike (the server's memory policy watches the count); a call
// whose context is already done computes nothing and counts nothing.
func TestHasherStarted(t *testing.T) {
	h := NewHasher(fastParams(), 1)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "counted pass")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Verify(ctx, "counted pass", enc); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.Hash(done, "not counted"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash with a done context: %v", err)
	}
	if got := h.Started(); got != 2 {
		t.Fatalf("Started = %d, want 2", got)
	}
}

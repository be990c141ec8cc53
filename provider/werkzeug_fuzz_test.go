package provider

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"
)

// Legacy hashes arrive in imported rows (SEC-31), so parseWerkzeug reads
// untrusted text. These targets check what it promises rather than only
// that it returns.

// FuzzParseWerkzeug: any string is refused with ErrMalformedHash or parsed
// into parameters within the bounds; a parsed hash written back in its
// canonical form (every parameter spelled out) parses to the same hash.
func FuzzParseWerkzeug(f *testing.F) {
	for _, s := range []string{
		wzScryptDefault, wzPBKDF2, wzPBKDF2NoIter, wzPBKDF2SHA1, wzScryptHashlib,
		"scrypt$salt$" + strings.Repeat("ab", 64),
		"pbkdf2:sha512:1$s$" + strings.Repeat("00", 64),
		"pbkdf2:sha256:0$s$00", "pbkdf2:md5:1000$s$00", "scrypt:3:8:1$s$00",
		"scrypt:1048576:1:1$s$" + strings.Repeat("ff", 64), "scrypt:2:64:2$s$" + strings.Repeat("ff", 64),
		"pbkdf2:sha256:5000001$s$00", "$$", "pbkdf2:sha256$$00", "a$b$c$d", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := parseWerkzeug(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("%q: error %v is not ErrMalformedHash", s, err)
			}
			return
		}
		checkWerkzeugBounds(t, s, w)
		canon := canonicalWerkzeug(w)
		again, err := parseWerkzeug(canon)
		if err != nil {
			t.Fatalf("%q parsed, its canonical form %q did not: %v", s, canon, err)
		}
		if canonicalWerkzeug(again) != canon {
			t.Fatalf("%q → %q → %q", s, canon, canonicalWerkzeug(again))
		}
		head, digest := s[:strings.LastIndex(s, "$")], s[strings.LastIndex(s, "$")+1:]
		if !strings.HasSuffix(head, "$"+w.salt) || !strings.EqualFold(digest, hex.EncodeToString(w.digest)) {
			t.Fatalf("%q: salt %q or digest %x are not the ones written", s, w.salt, w.digest)
		}
	})
}

// checkWerkzeugBounds asserts what parseWerkzeug guarantees of an accepted
// hash: the cost limits that keep a hostile row cheap, and a digest of the
// length its algorithm produces.
func checkWerkzeugBounds(t *testing.T, s string, w werkzeugHash) {
	t.Helper()
	if w.salt == "" || strings.Contains(w.salt, "$") {
		t.Fatalf("%q: salt %q", s, w.salt)
	}
	if w.scrypt {
		if w.n < 2 || w.n > maxScryptN || w.n&(w.n-1) != 0 || w.r < 1 || w.p < 1 ||
			w.r*w.p > maxScryptRP || 128*w.n*w.r > maxScryptMemory || len(w.digest) != scryptKeyLen {
			t.Fatalf("%q: scrypt parameters out of bounds: %+v", s, w)
		}
		return
	}
	if w.newHash == nil || w.iter < 1 || w.iter > maxPBKDF2Iter || len(w.digest) != w.newHash().Size() {
		t.Fatalf("%q: pbkdf2 parameters out of bounds: %+v", s, w)
	}
}

// canonicalWerkzeug writes w with every parameter explicit and the digest
// in lower-case hex.
func canonicalWerkzeug(w werkzeugHash) string {
	var method string
	if w.scrypt {
		method = "scrypt:" + strconv.Itoa(w.n) + ":" + strconv.Itoa(w.r) + ":" + strconv.Itoa(w.p)
	} else {
		name := map[int]string{sha1.Size: "sha1", sha256.Size: "sha256", sha512.Size: "sha512"}[w.newHash().Size()]
		method = "pbkdf2:" + name + ":" + strconv.Itoa(w.iter)
	}
	return method + "$" + w.salt + "$" + hex.EncodeToString(w.digest)
}

// FuzzWerkzeugVerify builds legacy hashes the way werkzeug does, with the
// reference pbkdf2/scrypt of x/crypto and cheap parameters, and checks that
// Verify accepts the password hashed and refuses another one (unless the
// two derive the same key, as HMAC makes "pw" and "pw\x00" do).
func FuzzWerkzeugVerify(f *testing.F) {
	f.Add(uint8(0), uint16(1000), "saltsalt", "secret-pw", "secret-pW")
	f.Add(uint8(1), uint16(7), "NaCl", "pässwörd", "pa\u0308sswo\u0308rd")
	f.Add(uint8(2), uint16(3), "a", "", "\x00")
	f.Add(uint8(3), uint16(4), "ünïcode salt", "Ｐａｓｓword1", "Password1")
	f.Add(uint8(3), uint16(0), "s", strings.Repeat("k", 65), strings.Repeat("k", 64))
	h := NewHasher(fastParams(), 0)
	f.Fuzz(func(t *testing.T, kind uint8, cost uint16, salt, pw, other string) {
		if salt == "" || strings.Contains(salt, "$") {
			return // not a hash werkzeug writes
		}
		derive, method := werkzeugReference(kind, cost)
		stored := method + "$" + salt + "$" + hex.EncodeToString(derive(pw, salt))
		ctx := context.Background()
		ok, rehash, err := h.Verify(ctx, pw, stored)
		if err != nil || !ok || !rehash {
			t.Fatalf("Verify(%q, %q) = %v, %v, %v; want true, true, nil", pw, stored, ok, rehash, err)
		}
		want := string(derive(other, salt)) == string(derive(pw, salt)) ||
			string(derive(NormalizePassword(other), salt)) == string(derive(pw, salt))
		if ok, _, err := h.Verify(ctx, other, stored); err != nil || ok != want {
			t.Fatalf("Verify(%q) against the hash of %q = %v, %v; want %v", other, pw, ok, err, want)
		}
	})
}

// werkzeugReference picks a cheap werkzeug method from kind and cost and
// returns its key derivation and its method string.
func werkzeugReference(kind uint8, cost uint16) (func(pw, salt string) []byte, string) {
	if kind%4 == 3 {
		n, r := 2<<(cost%5), 1+int(cost/5)%4
		return func(pw, salt string) []byte {
			k, err := scrypt.Key([]byte(pw), []byte(salt), n, r, 1, scryptKeyLen)
			if err != nil {
				panic(err) // the parameters above are always valid
			}
			return k
		}, "scrypt:" + strconv.Itoa(n) + ":" + strconv.Itoa(r) + ":1"
	}
	algs := []struct {
		name string
		h    func() hash.Hash
	}{{"sha256", sha256.New}, {"sha512", sha512.New}, {"sha1", sha1.New}}
	a, iter := algs[kind%4], 1+int(cost)%2000
	return func(pw, salt string) []byte {
		return pbkdf2.Key([]byte(pw), []byte(salt), iter, a.h().Size(), a.h)
	}, "pbkdf2:" + a.name + ":" + strconv.Itoa(iter)
}

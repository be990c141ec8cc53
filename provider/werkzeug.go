package provider

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"
)

// Legacy hashes of the original Flask service (werkzeug.security), kept
// verifiable so imported users can log in once and be rehashed to argon2id
// (SEC-31). Formats, "method$salt$hexdigest":
//
//	pbkdf2:sha256:600000$salt$hex   (iterations optional; key = digest size)
//	scrypt:32768:8:1$salt$hex       (werkzeug ≥ 2.3; n:r:p optional; 64-byte key)
//
// werkzeug uses the salt as its literal UTF-8 text, not decoded.

// werkzeugDefaultPBKDF2Iter is what werkzeug assumed when "pbkdf2:sha256"
// carried no iteration count (the 2.0–2.2 default, the era of the service).
const werkzeugDefaultPBKDF2Iter = 260000

// Bounds for parameters read from imported hashes, so a hostile row cannot
// make one login take minutes or gigabytes.
const (
	maxPBKDF2Iter     = 5_000_000
	maxScryptN        = 1 << 20
	maxScryptMemory   = 128 << 20 // bytes: 128·N·r
	maxScryptRP       = 64        // r·p scales time linearly
	scryptKeyLen      = 64
	maxWerkzeugDigest = 128 // bytes of the stored digest

	// maxScryptWork bounds 128·N·r·p, the bytes scrypt mixes, and so its
	// time: the memory bound alone let p = 64 repeat a 128 MiB pass 64
	// times (minutes per login). 256 MiB is 8× werkzeug's default
	// 32768:8:1, as maxPBKDF2Iter is 5× its largest default (1,000,000).
	maxScryptWork = 256 << 20
)

// werkzeugHash is a parsed legacy hash.
type werkzeugHash struct {
	scrypt  bool
	newHash func() hash.Hash // pbkdf2
	iter    int              // pbkdf2
	n, r, p int              // scrypt
	salt    string
	digest  []byte
}

// parseWerkzeug parses s, returning ErrMalformedHash for anything that is not
// a supported werkzeug hash within bounds.
func parseWerkzeug(s string) (werkzeugHash, error) {
	var w werkzeugHash
	method, rest, ok := strings.Cut(s, "$")
	if !ok {
		return w, ErrMalformedHash
	}
	salt, hexDigest, ok := strings.Cut(rest, "$")
	if !ok || salt == "" || strings.Contains(hexDigest, "$") || len(hexDigest) > 2*maxWerkzeugDigest {
		return w, ErrMalformedHash
	}
	digest, err := hex.DecodeString(hexDigest)
	if err != nil || len(digest) == 0 {
		return w, ErrMalformedHash
	}
	w.salt, w.digest = salt, digest

	args := strings.Split(method, ":")
	switch args[0] {
	case "pbkdf2":
		if len(args) < 2 || len(args) > 3 {
			return w, ErrMalformedHash
		}
		var size int
		switch args[1] {
		case "sha256":
			w.newHash, size = sha256.New, sha256.Size
		case "sha512":
			w.newHash, size = sha512.New, sha512.Size
		case "sha1": // werkzeug < 0.15
			w.newHash, size = sha1.New, sha1.Size
		default:
			return w, ErrMalformedHash
		}
		w.iter = werkzeugDefaultPBKDF2Iter
		if len(args) == 3 {
			if w.iter, ok = boundedInt(args[2], maxPBKDF2Iter); !ok {
				return w, ErrMalformedHash
			}
		}
		if len(digest) != size {
			return w, ErrMalformedHash
		}
	case "scrypt":
		w.scrypt, w.n, w.r, w.p = true, 1<<15, 8, 1
		if len(args) != 1 && len(args) != 4 {
			return w, ErrMalformedHash
		}
		if len(args) == 4 {
			n, okN := boundedInt(args[1], maxScryptN)
			r, okR := boundedInt(args[2], maxScryptRP)
			p, okP := boundedInt(args[3], maxScryptRP)
			if !okN || !okR || !okP {
				return w, ErrMalformedHash
			}
			w.n, w.r, w.p = n, r, p
		}
		if w.n < 2 || w.n&(w.n-1) != 0 || w.r*w.p > maxScryptRP ||
			128*w.n*w.r > maxScryptMemory || 128*w.n*w.r*w.p > maxScryptWork || len(digest) != scryptKeyLen {
			return w, ErrMalformedHash
		}
	default:
		return w, ErrMalformedHash
	}
	return w, nil
}

// verify recomputes the digest for pw and compares in constant time.
func (w werkzeugHash) verify(pw string) bool {
	var got []byte
	if w.scrypt {
		var err error
		got, err = scrypt.Key([]byte(pw), []byte(w.salt), w.n, w.r, w.p, len(w.digest))
		if err != nil {
			return false
		}
	} else {
		got = pbkdf2.Key([]byte(pw), []byte(w.salt), w.iter, len(w.digest), w.newHash)
	}
	return subtle.ConstantTimeCompare(got, w.digest) == 1
}

// boundedInt parses a plain decimal 1 ≤ v ≤ max (no sign, no leading zero).
func boundedInt(s string, max int) (int, bool) {
	if s == "" || len(s) > 10 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || v > max {
		return 0, false
	}
	return v, true
}

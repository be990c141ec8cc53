package provider

import (
	"context"
	"testing"
)

// Vectors computed independently in Python: the werkzeug.* ones by
// werkzeug.security.generate_password_hash (werkzeug 3.1.8), the hashlib ones
// by hashlib.pbkdf2_hmac / hashlib.scrypt with a fixed salt.
const (
	// generate_password_hash("secret-pw") — werkzeug 3 default scrypt.
	wzScryptDefault = "scrypt:32768:8:1$CGfDA4e1lKxqUxi7$e59e791853d8e8e30e44041438cb7d2cfe67da8cfe50a33fb9ccae09430f095a3d8c0268c6d0f78b25aac07c1a03899ba35f2bb268045f91e503aaba714466c4"
	// generate_password_hash("secret-pw", method="pbkdf2:sha256:1000", salt_length=8)
	wzPBKDF2 = "pbkdf2:sha256:1000$PPJZ2Jkv$beaa0d7300eb020100fbdf916c889921b29ff88d6fb082da53c993ef6f692fb0"
	// generate_password_hash("pässwörd-1", method="scrypt:16384:8:1", salt_length=10)
	wzScryptUnicode = "scrypt:16384:8:1$WtlNIZvn4H$098036e7a0b9b0923abcfa3ad8cfa4907f57044a6f0aabe3d98a16d50ed7497460abfa3888b78e42601af391cba1b90f96be49ed675759e41a91aece81117b7c"
	// generate_password_hash("Ｐａｓｓword1", method="pbkdf2:sha256:2000", salt_length=8):
	// hashed as typed (fullwidth), not NFKC.
	wzPBKDF2Fullwidth = "pbkdf2:sha256:2000$MRVhOqLq$82f16aee548a967c5e7688a9e81711b0070fc5aaa8cb4a1c358d8be16d5b964b"
	// hashlib.pbkdf2_hmac('sha256', b'secret-pw', b'saltsalt', 1000).hex()
	wzPBKDF2Hashlib = "pbkdf2:sha256:1000$saltsalt$11266897461fd23b564861b91e812c63d10ff0d668e09c262354fd1a2e1eec98"
	// hashlib.pbkdf2_hmac('sha256', b'secret-pw', b'NaClNaCl', 260000).hex(),
	// stored without an iteration count (werkzeug then assumed 260000).
	wzPBKDF2NoIter = "pbkdf2:sha256$NaClNaCl$deb27a8dacc578f395b1f38cf8c765393f2bb2aab5f9a0c3bbf932156fa13dc5"
	// hashlib.pbkdf2_hmac('sha1', 'pässwörd'.encode(), b'abc', 1000).hex()
	wzPBKDF2SHA1 = "pbkdf2:sha1:1000$abc$0fa8a779b01356e0d3fb391cb76c6be33bc6a0ed"
	// hashlib.scrypt(b'secret-pw', salt=b'saltsalt', n=16384, r=8, p=1, dklen=64).hex()
	wzScryptHashlib = "scrypt:16384:8:1$saltsalt$c8d24f1de7da17bd7b5482846c0cb0d8e71d13aeca9491fe6f5efd8bdbdf00c0f0b72025129c0a32597cf88eb7043ec8f936ac595a1464ee139aaf28b4a7e3c2"
)

// SEC-31: legacy hashes verify, always with needsRehash.
func TestWerkzeugVerify(t *testing.T) {
	h := NewHasher(fastParams(), 0)
	tests := []struct {
		name, stored, pw string
		ok               bool
	}{
		{"werkzeug default scrypt", wzScryptDefault, "secret-pw", true},
		{"werkzeug default scrypt, wrong", wzScryptDefault, "secret-pW", false},
		{"werkzeug pbkdf2", wzPBKDF2, "secret-pw", true},
		{"werkzeug pbkdf2, wrong", wzPBKDF2, "secret-p", false},
		{"werkzeug scrypt, non-ASCII password", wzScryptUnicode, "pässwörd-1", true},
		{"decomposed input still matches (NFKC retried)", wzScryptUnicode, "pa\u0308sswo\u0308rd-1", true},
		{"fullwidth as typed", wzPBKDF2Fullwidth, "Ｐａｓｓword1", true},
		{"fullwidth hash, NFKC input", wzPBKDF2Fullwidth, "Password1", false},
		{"hashlib pbkdf2", wzPBKDF2Hashlib, "secret-pw", true},
		{"no iteration count = 260000", wzPBKDF2NoIter, "secret-pw", true},
		{"pbkdf2 sha1", wzPBKDF2SHA1, "pässwörd", true},
		{"hashlib scrypt", wzScryptHashlib, "secret-pw", true},
		{"hashlib scrypt, wrong", wzScryptHashlib, "secret-pw ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // scrypt and 260000 rounds are slow under -race
			if !IsSupportedHash(tt.stored) {
				t.Fatalf("IsSupportedHash = false")
			}
			ok, rehash, err := h.Verify(context.Background(), tt.pw, tt.stored)
			if err != nil || ok != tt.ok || rehash != tt.ok {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, nil", ok, rehash, err, tt.ok, tt.ok)
			}
		})
	}
}

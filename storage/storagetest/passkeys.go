package storagetest

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"user-registry/storage"
)

// testPasskeys covers the WebAuthn credentials (SPEC §10).
func testPasskeys(t *testing.T, s Stores) {
	t.Run("create-list-get", func(t *testing.T) { testPasskeyCreateList(t, s) })
	t.Run("credential-id-unique", func(t *testing.T) { testPasskeyUnique(t, s) })
	t.Run("bytes-round-trip", func(t *testing.T) { testPasskeyBytes(t, s) })
	t.Run("use", func(t *testing.T) { testPasskeyUse(t, s) })
	t.Run("use-concurrent", func(t *testing.T) { testPasskeyUseConcurrent(t, s) })
	t.Run("delete", func(t *testing.T) { testPasskeyDelete(t, s) })
}

// newTestPasskey returns a passkey of uid whose credential id and blob
// are derived from id, created at the suite's clock plus age, with
// sub-second digits a backend must not lose to the second.
func newTestPasskey(s Stores, uid, id string, age time.Duration) storage.Passkey {
	return storage.Passkey{
		ID:             id,
		UserID:         uid,
		CredentialID:   []byte("cred-" + id),
		Name:           "key " + id,
		Credential:     []byte(`{"id":"` + id + `","publicKey":"pQECAyYgASFYIA"}`),
		SignCount:      7,
		BackupEligible: true,
		BackupState:    false,
		CreatedAt:      s.Clock.Now().Add(age + 250*time.Millisecond),
	}
}

// pkSame fails t unless got is want: bytes exactly, times to the second
// (recTime), in UTC.
func pkSame(t *testing.T, what string, got, want storage.Passkey) {
	t.Helper()
	recTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	switch {
	case (got.LastUsedAt == nil) != (want.LastUsedAt == nil):
		t.Fatalf("%s.LastUsedAt = %v, want %v", what, got.LastUsedAt, want.LastUsedAt)
	case got.LastUsedAt != nil:
		recTime(t, what+".LastUsedAt", *got.LastUsedAt, *want.LastUsedAt)
	}
	if !bytes.Equal(got.CredentialID, want.CredentialID) {
		t.Fatalf("%s.CredentialID = %x, want %x", what, got.CredentialID, want.CredentialID)
	}
	if !bytes.Equal(got.Credential, want.Credential) {
		t.Fatalf("%s.Credential = %x, want %x", what, got.Credential, want.Credential)
	}
	if got.ID != want.ID || got.UserID != want.UserID || got.Name != want.Name || got.SignCount != want.SignCount ||
		got.BackupEligible != want.BackupEligible || got.BackupState != want.BackupState {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// pkIDs lists the ids of ps in order.
func pkIDs(ps []storage.Passkey) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// pkCount fails t unless uid has want passkeys, by count and by list.
func pkCount(t *testing.T, s Stores, uid string, want int) {
	t.Helper()
	n, err := s.Passkeys.CountPasskeys(t.Context(), uid)
	recErr(t, "CountPasskeys", err, nil)
	list, err := s.Passkeys.Passkeys(t.Context(), uid)
	recErr(t, "Passkeys", err, nil)
	if n != want || len(list) != want {
		t.Fatalf("user %s: CountPasskeys = %d, len(Passkeys) = %d, want %d", uid, n, len(list), want)
	}
}

func testPasskeyCreateList(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid, other = "7a0c0000-0000-4000-8000-000000000001", "7a0c0000-0000-4000-8000-000000000002"
	pkCount(t, s, uid, 0)
	// Inserted out of order: the list is by CreatedAt, then by ID on a
	// tie (pk-b and pk-c share one instant).
	third := newTestPasskey(s, uid, "pk-d", 3*time.Second)
	tieB := newTestPasskey(s, uid, "pk-b", time.Second)
	tieC := newTestPasskey(s, uid, "pk-c", time.Second)
	first := newTestPasskey(s, uid, "pk-z", 0)
	first.SignCount, first.BackupEligible, first.BackupState = 0, false, false
	tieC.BackupState = true
	at := s.Clock.Now().Add(-time.Hour)
	third.LastUsedAt = &at // a key imported with a known last use keeps it
	mine := []storage.Passkey{third, tieC, first, tieB}
	for _, p := range mine {
		recErr(t, "CreatePasskey "+p.ID, s.Passkeys.CreatePasskey(ctx, p), nil)
	}
	otherKey := newTestPasskey(s, other, "pk-a", -time.Minute)
	recErr(t, "CreatePasskey of another user", s.Passkeys.CreatePasskey(ctx, otherKey), nil)

	list, err := s.Passkeys.Passkeys(ctx, uid)
	recErr(t, "Passkeys", err, nil)
	want := []storage.Passkey{first, tieB, tieC, third}
	if fmt.Sprint(pkIDs(list)) != fmt.Sprint(pkIDs(want)) {
		t.Fatalf("Passkeys order = %v, want %v", pkIDs(list), pkIDs(want))
	}
	for i := range want {
		pkSame(t, "Passkeys["+want[i].ID+"]", list[i], want[i])
	}
	pkCount(t, s, uid, 4)
	pkCount(t, s, other, 1)
	pkCount(t, s, "7a0c0000-0000-4000-8000-00000000ffff", 0)

	for _, p := range append(want, otherKey) {
		got, err := s.Passkeys.PasskeyByCredentialID(ctx, p.CredentialID)
		recErr(t, "PasskeyByCredentialID "+p.ID, err, nil)
		pkSame(t, "PasskeyByCredentialID "+p.ID, got, p)
	}
	misses := [][]byte{[]byte("cred-unknown"), []byte("CRED-PK-B"), []byte("cred-pk-b\x00"), []byte("cred-pk-"), {}}
	for _, m := range misses {
		_, err := s.Passkeys.PasskeyByCredentialID(ctx, m)
		recErr(t, fmt.Sprintf("PasskeyByCredentialID(%q)", m), err, storage.ErrNotFound)
	}

	// What a caller holds is its own: changing it, after a read or after
	// the create, changes nothing stored.
	list[0].CredentialID[0] ^= 0xff
	list[0].Credential[0] ^= 0xff
	got, err := s.Passkeys.PasskeyByCredentialID(ctx, first.CredentialID)
	recErr(t, "PasskeyByCredentialID after changing a listed copy", err, nil)
	pkSame(t, "PasskeyByCredentialID after changing a listed copy", got, first)
	lent := newTestPasskey(s, other, "pk-lent", 0)
	want0 := newTestPasskey(s, other, "pk-lent", 0)
	recErr(t, "CreatePasskey pk-lent", s.Passkeys.CreatePasskey(ctx, lent), nil)
	copy(lent.CredentialID, "XXXX")
	copy(lent.Credential, "XXXX")
	got, err = s.Passkeys.PasskeyByCredentialID(ctx, want0.CredentialID)
	recErr(t, "PasskeyByCredentialID after changing the created copy", err, nil)
	pkSame(t, "PasskeyByCredentialID after changing the created copy", got, want0)
}

func testPasskeyUnique(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid, other = "7a0c0000-0000-4000-8000-000000000011", "7a0c0000-0000-4000-8000-000000000012"
	orig := newTestPasskey(s, uid, "pk-orig", 0)
	recErr(t, "CreatePasskey", s.Passkeys.CreatePasskey(ctx, orig), nil)
	cases := []struct {
		name string
		p    storage.Passkey
	}{
		{"same credential id, same user", storage.Passkey{ID: "pk-dup1", UserID: uid, CredentialID: orig.CredentialID, Credential: []byte("x"), CreatedAt: orig.CreatedAt}},
		{"same credential id, another user", storage.Passkey{ID: "pk-dup2", UserID: other, CredentialID: orig.CredentialID, Credential: []byte("y"), CreatedAt: orig.CreatedAt}},
		{"same id", storage.Passkey{ID: orig.ID, UserID: other, CredentialID: []byte("cred-fresh"), Credential: []byte("z"), CreatedAt: orig.CreatedAt}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recErr(t, "CreatePasskey", s.Passkeys.CreatePasskey(ctx, c.p), storage.ErrExists)
		})
	}
	pkCount(t, s, uid, 1)
	pkCount(t, s, other, 0)
	got, err := s.Passkeys.PasskeyByCredentialID(ctx, orig.CredentialID)
	recErr(t, "PasskeyByCredentialID", err, nil)
	pkSame(t, "the first passkey, after the refused ones", got, orig)
}

// testPasskeyBytes stores credential ids and blobs that a text column, a
// trimming or case-folding collation, or a short column would change. The
// 1023-byte id is the longest WebAuthn allows (Level 3, credential id).
func testPasskeyBytes(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid = "7a0c0000-0000-4000-8000-000000000021"
	ramp := func(n int, start byte) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = start + byte(i)
		}
		return b
	}
	blob := bytes.Repeat(ramp(256, 0), 16) // every byte value, 4 KiB
	ids := []struct {
		name string
		id   []byte
	}{
		{"leading zero byte", []byte{0x00, 0x01, 0x02}},
		{"one zero byte", []byte{0x00}},
		{"trailing zero byte", []byte{0x01, 0x02, 0x00}},
		{"no trailing zero byte", []byte{0x01, 0x02}},
		{"trailing space", []byte("abc ")},
		{"no trailing space", []byte("abc")},
		{"upper case", []byte("ABC")},
		{"not utf-8", []byte{0xff, 0xfe, 0xc3, 0x28}},
		{"255 bytes", ramp(255, 1)},
		{"1023 bytes", ramp(1023, 0)},
		{"1023 bytes, last differs", append(ramp(1022, 0), 0xff)},
	}
	var want []storage.Passkey
	for i, c := range ids {
		p := newTestPasskey(s, uid, fmt.Sprintf("pk-bytes-%02d", i), time.Duration(i)*time.Second)
		p.CredentialID, p.Credential = c.id, blob
		p.Name = "Clé de sécurité 🔑 " + c.name
		p.SignCount = 1<<32 - 2 // a uint32 above int32's range
		recErr(t, "CreatePasskey "+c.name, s.Passkeys.CreatePasskey(ctx, p), nil)
		want = append(want, p)
	}
	for i, c := range ids {
		got, err := s.Passkeys.PasskeyByCredentialID(ctx, c.id)
		recErr(t, "PasskeyByCredentialID "+c.name, err, nil)
		pkSame(t, "PasskeyByCredentialID "+c.name, got, want[i])
	}
	list, err := s.Passkeys.Passkeys(ctx, uid)
	recErr(t, "Passkeys", err, nil)
	if len(list) != len(want) {
		t.Fatalf("Passkeys: %d, want %d", len(list), len(want))
	}
	for i := range want {
		pkSame(t, "Passkeys "+ids[i].name, list[i], want[i])
	}
	recErr(t, "UsePasskey to the top count", s.Passkeys.UsePasskey(ctx, want[0].ID, 1<<32-1, true, s.Clock.Now()), nil)
	got, err := s.Passkeys.PasskeyByCredentialID(ctx, want[0].CredentialID)
	recErr(t, "PasskeyByCredentialID", err, nil)
	if got.SignCount != 1<<32-1 {
		t.Fatalf("SignCount = %d, want %d", got.SignCount, uint32(1<<32-1))
	}
}

func testPasskeyUse(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid = "7a0c0000-0000-4000-8000-000000000031"
	counting := newTestPasskey(s, uid, "pk-counting", 0) // SignCount 7
	zero := newTestPasskey(s, uid, "pk-zero", time.Second)
	zero.SignCount, zero.BackupState = 0, true
	for _, p := range []storage.Passkey{counting, zero} {
		recErr(t, "CreatePasskey "+p.ID, s.Passkeys.CreatePasskey(ctx, p), nil)
	}
	recErr(t, "UsePasskey of an unknown id", s.Passkeys.UsePasskey(ctx, "pk-unknown", 100, false, s.Clock.Now()), storage.ErrNotFound)

	// Each step starts from what the steps before it left.
	steps := []struct {
		name   string
		p      *storage.Passkey
		count  uint32
		backup bool
		want   error
	}{
		{"higher count", &counting, 8, true, nil},
		{"same count", &counting, 8, false, storage.ErrConflict},
		{"lower count", &counting, 3, false, storage.ErrConflict},
		{"zero after a count", &counting, 0, false, storage.ErrConflict},
		{"much higher count", &counting, 1000, false, nil},
		{"zero with zero stored", &zero, 0, false, nil},
		{"zero with zero stored again", &zero, 0, true, nil},
		{"zero with zero stored a third time", &zero, 0, false, nil},
		{"counting starts", &zero, 1, true, nil},
		{"zero after counting started", &zero, 0, false, storage.ErrConflict},
	}
	for i, st := range steps {
		s.Clock.Advance(time.Minute)
		at := s.Clock.Now().Add(time.Duration(i) * time.Millisecond)
		err := s.Passkeys.UsePasskey(ctx, st.p.ID, st.count, st.backup, at)
		recErr(t, st.name, err, st.want)
		if st.want == nil {
			st.p.SignCount, st.p.BackupState, st.p.LastUsedAt = st.count, st.backup, &at
		}
		got, err := s.Passkeys.PasskeyByCredentialID(ctx, st.p.CredentialID)
		recErr(t, st.name+": PasskeyByCredentialID", err, nil)
		pkSame(t, st.name, got, *st.p)
	}
}

func testPasskeyUseConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid = "7a0c0000-0000-4000-8000-000000000041"
	cases := []struct {
		name         string
		stored, used uint32
	}{
		{"counting", 5, 6},
		{"zero stored, higher count", 0, 1},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newTestPasskey(s, uid, fmt.Sprintf("pk-conc-%d", i), 0)
			p.SignCount = c.stored
			recErr(t, "CreatePasskey", s.Passkeys.CreatePasskey(ctx, p), nil)
			const n = 8
			var wins, conflicts atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					switch err := s.Passkeys.UsePasskey(ctx, p.ID, c.used, true, s.Clock.Now()); err {
					case nil:
						wins.Add(1)
					case storage.ErrConflict:
						conflicts.Add(1)
					default:
						t.Errorf("UsePasskey: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			if wins.Load() != 1 || conflicts.Load() != n-1 {
				t.Fatalf("%d concurrent sign-ins with count %d: %d accepted, %d refused; want 1 and %d",
					n, c.used, wins.Load(), conflicts.Load(), n-1)
			}
			got, err := s.Passkeys.PasskeyByCredentialID(ctx, p.CredentialID)
			recErr(t, "PasskeyByCredentialID", err, nil)
			if got.SignCount != c.used || got.LastUsedAt == nil {
				t.Fatalf("after the sign-ins: SignCount %d, LastUsedAt %v; want %d, set", got.SignCount, got.LastUsedAt, c.used)
			}
		})
	}
}

func testPasskeyDelete(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid, other = "7a0c0000-0000-4000-8000-000000000051", "7a0c0000-0000-4000-8000-000000000052"
	a := newTestPasskey(s, uid, "pk-del-a", 0)
	b := newTestPasskey(s, uid, "pk-del-b", time.Second)
	c := newTestPasskey(s, uid, "pk-del-c", 2*time.Second)
	o := newTestPasskey(s, other, "pk-del-o", 0)
	for _, p := range []storage.Passkey{a, b, c, o} {
		recErr(t, "CreatePasskey "+p.ID, s.Passkeys.CreatePasskey(ctx, p), nil)
	}
	recErr(t, "DeletePasskey of another user's id", s.Passkeys.DeletePasskey(ctx, uid, o.ID), storage.ErrNotFound)
	recErr(t, "DeletePasskey of an unknown id", s.Passkeys.DeletePasskey(ctx, uid, "pk-unknown"), storage.ErrNotFound)
	got, err := s.Passkeys.PasskeyByCredentialID(ctx, o.CredentialID)
	recErr(t, "the other user's passkey after the refused delete", err, nil)
	pkSame(t, "the other user's passkey after the refused delete", got, o)

	recErr(t, "DeletePasskey", s.Passkeys.DeletePasskey(ctx, uid, b.ID), nil)
	recErr(t, "DeletePasskey again", s.Passkeys.DeletePasskey(ctx, uid, b.ID), storage.ErrNotFound)
	_, err = s.Passkeys.PasskeyByCredentialID(ctx, b.CredentialID)
	recErr(t, "PasskeyByCredentialID of the deleted one", err, storage.ErrNotFound)
	list, err := s.Passkeys.Passkeys(ctx, uid)
	recErr(t, "Passkeys", err, nil)
	if fmt.Sprint(pkIDs(list)) != fmt.Sprint([]string{a.ID, c.ID}) {
		t.Fatalf("Passkeys after a delete = %v, want [%s %s]", pkIDs(list), a.ID, c.ID)
	}
	// A deleted credential can be registered again.
	recErr(t, "CreatePasskey of the deleted credential", s.Passkeys.CreatePasskey(ctx, b), nil)

	recErr(t, "DeletePasskeys", s.Passkeys.DeletePasskeys(ctx, uid), nil)
	recErr(t, "DeletePasskeys again", s.Passkeys.DeletePasskeys(ctx, uid), nil)
	recErr(t, "DeletePasskeys of a user without any", s.Passkeys.DeletePasskeys(ctx, "7a0c0000-0000-4000-8000-00000000ffff"), nil)
	pkCount(t, s, uid, 0)
	for _, p := range []storage.Passkey{a, b, c} {
		_, err := s.Passkeys.PasskeyByCredentialID(ctx, p.CredentialID)
		recErr(t, "PasskeyByCredentialID after DeletePasskeys "+p.ID, err, storage.ErrNotFound)
	}
	pkCount(t, s, other, 1)
	got, err = s.Passkeys.PasskeyByCredentialID(ctx, o.CredentialID)
	recErr(t, "the other user's passkey after DeletePasskeys", err, nil)
	pkSame(t, "the other user's passkey after DeletePasskeys", got, o)
}

// testPasskeysDeletedWithUser checks DeleteUser takes the user's passkeys
// and only theirs.
func testPasskeysDeletedWithUser(t *testing.T, s Stores) {
	ctx := t.Context()
	gone := newTestUser(s, "7a0c0000-0000-4000-8000-000000000061", "passkeys-gone")
	kept := newTestUser(s, "7a0c0000-0000-4000-8000-000000000062", "passkeys-kept")
	for _, u := range []*storage.User{&gone, &kept} {
		recErr(t, "CreateUser", s.Users.CreateUser(ctx, u), nil)
	}
	mine := []storage.Passkey{
		newTestPasskey(s, gone.ID, "pk-gone-1", 0),
		newTestPasskey(s, gone.ID, "pk-gone-2", time.Second),
	}
	theirs := newTestPasskey(s, kept.ID, "pk-kept", 0)
	for _, p := range append(mine, theirs) {
		recErr(t, "CreatePasskey "+p.ID, s.Passkeys.CreatePasskey(ctx, p), nil)
	}
	pkCount(t, s, gone.ID, 2)
	recErr(t, "DeleteUser", s.Users.DeleteUser(ctx, gone.ID), nil)
	pkCount(t, s, gone.ID, 0)
	for _, p := range mine {
		_, err := s.Passkeys.PasskeyByCredentialID(ctx, p.CredentialID)
		recErr(t, "PasskeyByCredentialID after DeleteUser "+p.ID, err, storage.ErrNotFound)
		recErr(t, "UsePasskey after DeleteUser "+p.ID, s.Passkeys.UsePasskey(ctx, p.ID, 100, false, s.Clock.Now()), storage.ErrNotFound)
	}
	pkCount(t, s, kept.ID, 1)
	got, err := s.Passkeys.PasskeyByCredentialID(ctx, theirs.CredentialID)
	recErr(t, "another user's passkey after DeleteUser", err, nil)
	pkSame(t, "another user's passkey after DeleteUser", got, theirs)
}

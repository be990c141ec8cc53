package storagetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"user-registry/storage"
)

// testMFA covers the TOTP factor and recovery codes (SPEC §10, SEC-55/56).
func testMFA(t *testing.T, s Stores) {
	t.Run("totp-lifecycle", func(t *testing.T) { testTOTPLifecycle(t, s) })
	t.Run("totp-step-once-concurrent", func(t *testing.T) { testTOTPStepConcurrent(t, s) })
	t.Run("recovery-codes", func(t *testing.T) { testRecoveryCodes(t, s) })
	t.Run("recovery-code-once-concurrent", func(t *testing.T) { testRecoveryConcurrent(t, s) })
}

func testTOTPLifecycle(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid = "3f1c5a7e-0000-4000-8000-000000000001"
	_, err := s.MFA.TOTP(ctx, uid)
	recErr(t, "TOTP of a user without one", err, storage.ErrNotFound)
	recErr(t, "UseTOTPStep without a factor", s.MFA.UseTOTPStep(ctx, uid, 5), storage.ErrNotFound)

	pending := storage.TOTPFactor{UserID: uid, Secret: []byte("sealed-1"), CreatedAt: s.Clock.Now()}
	recErr(t, "CreateTOTP", s.MFA.CreateTOTP(ctx, pending), nil)
	// A second enrolment before confirming replaces the pending secret.
	pending.Secret = []byte("sealed-2")
	recErr(t, "CreateTOTP again while pending", s.MFA.CreateTOTP(ctx, pending), nil)
	got, err := s.MFA.TOTP(ctx, uid)
	recErr(t, "TOTP", err, nil)
	if string(got.Secret) != "sealed-2" || got.Confirmed || got.LastStep != 0 {
		t.Fatalf("pending factor = %+v", got)
	}
	recErr(t, "UseTOTPStep on a pending factor", s.MFA.UseTOTPStep(ctx, uid, 100), storage.ErrNotFound)

	recErr(t, "ConfirmTOTP", s.MFA.ConfirmTOTP(ctx, uid, 100), nil)
	recErr(t, "ConfirmTOTP twice", s.MFA.ConfirmTOTP(ctx, uid, 101), storage.ErrNotFound)
	recErr(t, "CreateTOTP over a confirmed one", s.MFA.CreateTOTP(ctx, pending), storage.ErrExists)
	got, err = s.MFA.TOTP(ctx, uid)
	recErr(t, "TOTP", err, nil)
	if !got.Confirmed || got.LastStep != 100 || string(got.Secret) != "sealed-2" {
		t.Fatalf("confirmed factor = %+v", got)
	}
	// The enrolment step, and any before it, is taken.
	recErr(t, "UseTOTPStep of the enrolment step", s.MFA.UseTOTPStep(ctx, uid, 100), storage.ErrConflict)
	recErr(t, "UseTOTPStep of an older step", s.MFA.UseTOTPStep(ctx, uid, 99), storage.ErrConflict)
	recErr(t, "UseTOTPStep of the next step", s.MFA.UseTOTPStep(ctx, uid, 101), nil)
	recErr(t, "UseTOTPStep of it again", s.MFA.UseTOTPStep(ctx, uid, 101), storage.ErrConflict)

	recErr(t, "DeleteTOTP", s.MFA.DeleteTOTP(ctx, uid), nil)
	recErr(t, "DeleteTOTP again", s.MFA.DeleteTOTP(ctx, uid), storage.ErrNotFound)
	_, err = s.MFA.TOTP(ctx, uid)
	recErr(t, "TOTP after delete", err, storage.ErrNotFound)
}

func testTOTPStepConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid = "3f1c5a7e-0000-4000-8000-000000000002"
	recErr(t, "CreateTOTP", s.MFA.CreateTOTP(ctx, storage.TOTPFactor{UserID: uid, Secret: []byte("x"), CreatedAt: s.Clock.Now()}), nil)
	recErr(t, "ConfirmTOTP", s.MFA.ConfirmTOTP(ctx, uid, 10), nil)
	const n = 16
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			switch err := s.MFA.UseTOTPStep(ctx, uid, 11); {
			case err == nil:
				wins.Add(1)
			case err == storage.ErrConflict:
				conflicts.Add(1)
			default:
				t.Errorf("UseTOTPStep: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != n-1 {
		t.Fatalf("%d concurrent uses of one step: %d accepted, %d refused; want 1 and %d", n, wins.Load(), conflicts.Load(), n-1)
	}
}

func recoveryHashes(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}

func testRecoveryCodes(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid, other = "3f1c5a7e-0000-4000-8000-000000000003", "3f1c5a7e-0000-4000-8000-000000000004"
	left := func(want int) {
		t.Helper()
		n, err := s.MFA.RecoveryCodesLeft(ctx, uid)
		recErr(t, "RecoveryCodesLeft", err, nil)
		if n != want {
			t.Fatalf("RecoveryCodesLeft = %d, want %d", n, want)
		}
	}
	left(0)
	first := recoveryHashes("set1", 10)
	recErr(t, "ReplaceRecoveryCodes", s.MFA.ReplaceRecoveryCodes(ctx, uid, first), nil)
	recErr(t, "ReplaceRecoveryCodes other user", s.MFA.ReplaceRecoveryCodes(ctx, other, recoveryHashes("oth", 10)), nil)
	left(10)
	recErr(t, "UseRecoveryCode", s.MFA.UseRecoveryCode(ctx, uid, first[3]), nil)
	recErr(t, "UseRecoveryCode again", s.MFA.UseRecoveryCode(ctx, uid, first[3]), storage.ErrNotFound)
	recErr(t, "another user's code", s.MFA.UseRecoveryCode(ctx, uid, "oth-01"), storage.ErrNotFound)
	left(9)

	second := recoveryHashes("set2", 10)
	recErr(t, "ReplaceRecoveryCodes", s.MFA.ReplaceRecoveryCodes(ctx, uid, second), nil)
	left(10)
	recErr(t, "a code of the voided set", s.MFA.UseRecoveryCode(ctx, uid, first[0]), storage.ErrNotFound)
	recErr(t, "a code of the new set", s.MFA.UseRecoveryCode(ctx, uid, second[0]), nil)

	recErr(t, "DeleteRecoveryCodes", s.MFA.DeleteRecoveryCodes(ctx, uid), nil)
	recErr(t, "DeleteRecoveryCodes again", s.MFA.DeleteRecoveryCodes(ctx, uid), nil)
	left(0)
	n, err := s.MFA.RecoveryCodesLeft(ctx, other)
	recErr(t, "other user's codes", err, nil)
	if n != 10 {
		t.Fatalf("another user's codes left = %d, want 10", n)
	}
}

func testRecoveryConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	const uid = "3f1c5a7e-0000-4000-8000-000000000005"
	codes := recoveryHashes("conc", 10)
	recErr(t, "ReplaceRecoveryCodes", s.MFA.ReplaceRecoveryCodes(ctx, uid, codes), nil)
	const n = 16
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			switch err := s.MFA.UseRecoveryCode(ctx, uid, codes[5]); {
			case err == nil:
				wins.Add(1)
			case err != storage.ErrNotFound:
				t.Errorf("UseRecoveryCode: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent uses of one recovery code: %d accepted, want 1", n, wins.Load())
	}
}

// testMFAChallenges covers the mfa_token challenge (SEC-59).
func testMFAChallenges(t *testing.T, s Stores) {
	ctx := t.Context()
	now := s.Clock.Now()
	c := storage.MFAChallenge{Hash: "ch-1", UserID: "u1", ExpiresAt: now.Add(5 * time.Minute)}
	ephErr(t, "SaveMFAChallenge", s.Challenges.SaveMFAChallenge(ctx, c), nil)
	got, err := s.Challenges.MFAChallenge(ctx, c.Hash)
	ephErr(t, "MFAChallenge", err, nil)
	ephSame(t, "MFAChallenge", got, c)
	_, err = s.Challenges.MFAChallenge(ctx, "unknown")
	ephErr(t, "unknown challenge", err, storage.ErrNotFound)

	for i := 1; i <= 4; i++ {
		n, err := s.Challenges.FailMFAChallenge(ctx, c.Hash, 5)
		ephErr(t, "FailMFAChallenge", err, nil)
		if n != i {
			t.Fatalf("failure %d counted as %d", i, n)
		}
	}
	got, err = s.Challenges.MFAChallenge(ctx, c.Hash)
	ephErr(t, "MFAChallenge after 4 failures", err, nil)
	if got.Failures != 4 {
		t.Fatalf("Failures = %d, want 4", got.Failures)
	}
	n, err := s.Challenges.FailMFAChallenge(ctx, c.Hash, 5)
	ephErr(t, "fifth failure", err, nil)
	if n != 5 {
		t.Fatalf("fifth failure counted as %d", n)
	}
	_, err = s.Challenges.MFAChallenge(ctx, c.Hash)
	ephErr(t, "challenge after 5 failures", err, storage.ErrNotFound)
	_, err = s.Challenges.FailMFAChallenge(ctx, c.Hash, 5)
	ephErr(t, "failure on a dead challenge", err, storage.ErrNotFound)

	// Consumed once, concurrently too.
	d := storage.MFAChallenge{Hash: "ch-2", UserID: "u2", ExpiresAt: now.Add(5 * time.Minute)}
	ephErr(t, "SaveMFAChallenge", s.Challenges.SaveMFAChallenge(ctx, d), nil)
	const k = 12
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range k {
		wg.Go(func() {
			got, err := s.Challenges.ConsumeMFAChallenge(ctx, d.Hash)
			switch {
			case err == nil && got.UserID == "u2":
				wins.Add(1)
			case err != nil && err != storage.ErrNotFound:
				t.Errorf("ConsumeMFAChallenge: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent consumes: %d succeeded, want 1", k, wins.Load())
	}

	// Expiry.
	e := storage.MFAChallenge{Hash: "ch-3", UserID: "u3", ExpiresAt: now.Add(5 * time.Minute)}
	ephErr(t, "SaveMFAChallenge", s.Challenges.SaveMFAChallenge(ctx, e), nil)
	s.Clock.Advance(5*time.Minute - time.Second)
	_, err = s.Challenges.MFAChallenge(ctx, e.Hash)
	ephErr(t, "challenge before expiry", err, nil)
	s.Clock.Advance(time.Second)
	_, err = s.Challenges.MFAChallenge(ctx, e.Hash)
	ephErr(t, "challenge at expiry", err, storage.ErrNotFound)
	_, err = s.Challenges.ConsumeMFAChallenge(ctx, e.Hash)
	ephErr(t, "consume at expiry", err, storage.ErrNotFound)
	_, err = s.Challenges.FailMFAChallenge(ctx, e.Hash, 5)
	ephErr(t, "fail at expiry", err, storage.ErrNotFound)
}

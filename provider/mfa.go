package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"user-registry/storage"
)

// MFAChallengeTTL is how long an mfa_token lives, and MFAMaxFailures how
// many wrong codes it takes (SPEC §10, SEC-59).
const (
	MFAChallengeTTL = 5 * time.Minute
	MFAMaxFailures  = 5
)

// mfaTokenBytes is the entropy of an mfa_token: 256 bits, stored hashed.
const mfaTokenBytes = 32

// maxMFATokenLen and maxCodeLen bound what is hashed or parsed.
const (
	maxMFATokenLen = 64
	maxCodeLen     = 64
)

// PasskeyFactor is what MFA needs to know of passkeys; nil in MFADeps
// means passkeys are off.
type PasskeyFactor interface {
	Count(ctx context.Context, userID string) (int, error)
	RemoveAll(ctx context.Context, userID string) error
}

// mailQueue queues a mail off the request path (*MailQueue).
type mailQueue interface {
	Enqueue(m Mail) bool
}

// MFADeps are what MFA is built from. Accounts, Store, Challenges and
// Secret are required.
type MFADeps struct {
	Accounts *Accounts
	// Store keeps TOTP factors and recovery codes (the database).
	Store storage.MFAStore
	// Challenges keeps the mfa_token challenges (the session store), so
	// any node can finish a sign-in another one started.
	Challenges storage.MFAChallengeStore
	// Secret is the key-encryption key (--key-secret): TOTP secrets are
	// sealed under it with the user id as additional data (SEC-57).
	Secret []byte
	// Issuer names the service in authenticator apps (otpauth issuer).
	Issuer string
	// Passkeys, when set, counts and removes a user's passkeys.
	Passkeys PasskeyFactor
	// Mail, when set, tells users about added and removed factors and
	// used recovery codes.
	Mail  mailQueue
	Audit Auditor
	Now   func() time.Time // nil means time.Now
	Log   *slog.Logger     // nil discards
}

// MFA owns second factors (SPEC §10): TOTP and recovery codes, their
// management, and the second step of a sign-in. Safe for concurrent use.
type MFA struct {
	a          *Accounts
	store      storage.MFAStore
	challenges storage.MFAChallengeStore
	secret     []byte
	issuer     string
	passkeys   PasskeyFactor
	mail       mailQueue
	audit      Auditor
	now        func() time.Time
	log        *slog.Logger
}

// NewMFA wires the second-factor service.
func NewMFA(d MFADeps) (*MFA, error) {
	if d.Accounts == nil || d.Store == nil || d.Challenges == nil {
		return nil, errors.New("provider: mfa: missing dependency")
	}
	if len(d.Secret) != 32 {
		return nil, errors.New("provider: mfa: key secret must be 32 bytes")
	}
	m := &MFA{
		a: d.Accounts, store: d.Store, challenges: d.Challenges, secret: d.Secret, issuer: d.Issuer,
		passkeys: d.Passkeys, mail: d.Mail, audit: auditorOr(d.Audit), now: d.Now, log: d.Log,
	}
	if m.issuer == "" {
		m.issuer = "user-registry"
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

// PasskeysEnabled reports whether passkeys are on.
func (m *MFA) PasskeysEnabled() bool { return m.passkeys != nil }

// Login is the password step of a sign-in (SPEC §10): Authenticate, then
//   - a user with a second factor gets an *MFARequiredError (ErrMFARequired)
//     carrying a fresh mfa_token;
//   - a user without one whose domain requires one gets ErrMFASetupRequired;
//   - anyone else gets tokens with amr ["pwd"], bound to jkt when set.
//
// Returns the errors of Authenticate too.
func (m *MFA) Login(ctx context.Context, email, password, jkt string) (TokenPair, error) {
	u, err := m.a.Authenticate(ctx, email, password)
	if err != nil {
		return TokenPair{}, err
	}
	if err := m.SecondStep(ctx, u); err != nil {
		return TokenPair{}, err
	}
	return m.a.IssueTokensAMR(ctx, u, jkt, amrPasswordOnly())
}

// SecondStep decides what follows a right password for u: nil when the
// password is enough; an *MFARequiredError with a new challenge when u has
// a factor; ErrMFASetupRequired when u has none and the domain requires
// one. The pages use it too.
func (m *MFA) SecondStep(ctx context.Context, u storage.User) error {
	methods, err := m.Methods(ctx, u.ID)
	if err != nil {
		return err
	}
	if len(methods) == 0 {
		required, err := m.a.policy.RequireMFA(ctx, u.Domain)
		if err != nil {
			return fmt.Errorf("provider: mfa: %w", err)
		}
		if required {
			return ErrMFASetupRequired
		}
		return nil
	}
	tok, err := m.StartChallenge(ctx, u)
	if err != nil {
		return err
	}
	return &MFARequiredError{Token: tok, Methods: methods}
}

// StartChallenge stores a new sign-in challenge for u and returns its
// mfa_token.
func (m *MFA) StartChallenge(ctx context.Context, u storage.User) (string, error) {
	tok, hash := NewSecret(mfaTokenBytes)
	c := storage.MFAChallenge{Hash: hash, UserID: u.ID, ExpiresAt: m.now().Add(MFAChallengeTTL)}
	if err := m.challenges.SaveMFAChallenge(ctx, c); err != nil {
		return "", fmt.Errorf("provider: mfa: save challenge: %w", err)
	}
	return tok, nil
}

// Methods lists the user's sign-in methods: "totp" for a confirmed TOTP
// factor, "passkey" when passkeys are on and the user has one,
// "recovery_code" when codes are left and a factor exists. Empty: no
// second factor.
func (m *MFA) Methods(ctx context.Context, userID string) ([]string, error) {
	var out []string
	totp, err := m.hasTOTP(ctx, userID)
	if err != nil {
		return nil, err
	}
	if totp {
		out = append(out, MethodTOTP)
	}
	n, err := m.passkeyCount(ctx, userID)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		out = append(out, MethodPasskey)
	}
	if len(out) == 0 {
		return nil, nil
	}
	left, err := m.store.RecoveryCodesLeft(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("provider: mfa: %w", err)
	}
	if left > 0 {
		out = append(out, MethodRecoveryCode)
	}
	return out, nil
}

func (m *MFA) hasTOTP(ctx context.Context, userID string) (bool, error) {
	f, err := m.store.TOTP(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("provider: mfa: %w", err)
	}
	return f.Confirmed, nil
}

func (m *MFA) passkeyCount(ctx context.Context, userID string) (int, error) {
	if m.passkeys == nil {
		return 0, nil
	}
	n, err := m.passkeys.Count(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("provider: mfa: passkeys: %w", err)
	}
	return n, nil
}

// challengeHash loads the live challenge whose token hashes to hash;
// ErrMFAExpired otherwise.
func (m *MFA) challengeHash(ctx context.Context, hash string) (storage.MFAChallenge, error) {
	c, err := m.challenges.MFAChallenge(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.MFAChallenge{}, ErrMFAExpired
	}
	if err != nil {
		return storage.MFAChallenge{}, fmt.Errorf("provider: mfa: %w", err)
	}
	return c, nil
}

// PendingUser returns the user a live mfa_token names. ErrMFAExpired when
// the token is dead or unknown, or its user gone or disabled.
func (m *MFA) PendingUser(ctx context.Context, mfaToken string) (storage.User, error) {
	if mfaToken == "" || len(mfaToken) > maxMFATokenLen {
		return storage.User{}, ErrMFAExpired
	}
	return m.pendingUserHash(ctx, HashSecret(mfaToken))
}

// pendingUserHash is PendingUser by the token's hash.
func (m *MFA) pendingUserHash(ctx context.Context, hash string) (storage.User, error) {
	c, err := m.challengeHash(ctx, hash)
	if err != nil {
		return storage.User{}, err
	}
	u, err := m.a.user(ctx, c.UserID)
	if errors.Is(err, ErrUnauthenticated) {
		return storage.User{}, ErrMFAExpired
	}
	return u, err
}

// Complete ends the challenge of mfaToken (of concurrent calls one wins;
// the others get ErrMFAExpired) and issues the /login tokens with amr,
// bound to jkt when set.
func (m *MFA) Complete(ctx context.Context, mfaToken string, amr []string, jkt string) (TokenPair, error) {
	if mfaToken == "" || len(mfaToken) > maxMFATokenLen {
		return TokenPair{}, ErrMFAExpired
	}
	c, err := m.challenges.ConsumeMFAChallenge(ctx, HashSecret(mfaToken))
	if errors.Is(err, storage.ErrNotFound) {
		return TokenPair{}, ErrMFAExpired
	}
	if err != nil {
		return TokenPair{}, fmt.Errorf("provider: mfa: %w", err)
	}
	u, err := m.a.user(ctx, c.UserID)
	if errors.Is(err, ErrUnauthenticated) {
		return TokenPair{}, ErrMFAExpired
	}
	if err != nil {
		return TokenPair{}, err
	}
	return m.a.IssueTokensAMR(ctx, u, jkt, amr)
}

// Fail counts a wrong attempt on the challenge; the fifth kills it.
// Returns ErrMFAExpired for a dead one.
func (m *MFA) Fail(ctx context.Context, mfaToken string) error {
	if mfaToken == "" || len(mfaToken) > maxMFATokenLen {
		return ErrMFAExpired
	}
	return m.failHash(ctx, HashSecret(mfaToken))
}

// failHash is Fail by the token's hash.
func (m *MFA) failHash(ctx context.Context, hash string) error {
	_, err := m.challenges.FailMFAChallenge(ctx, hash, MFAMaxFailures)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrMFAExpired
	}
	if err != nil {
		return fmt.Errorf("provider: mfa: %w", err)
	}
	return nil
}

// VerifyLogin is POST /login/mfa: the code (a TOTP code, or a recovery
// code) for the challenge of mfaToken. Every attempt counts against the
// account's login limit (refunded on success, like a password, SEC-55);
// a wrong code also counts against the challenge. On success the
// challenge ends and tokens are issued with amr ["pwd","otp","mfa"].
//
// Returns ErrMFAExpired, ErrWrongCode, *RateLimitError, or an error
// wrapping storage.ErrUnavailable.
func (m *MFA) VerifyLogin(ctx context.Context, mfaToken, code, jkt string) (TokenPair, error) {
	if err := m.verifyCode(ctx, mfaToken, code); err != nil {
		return TokenPair{}, err
	}
	return m.Complete(ctx, mfaToken, amrPasswordOTP(), jkt)
}

// VerifyCode is the pages' second step: VerifyLogin without tokens. On
// success the challenge ends and its user is returned, to start a browser
// session with amr ["pwd","otp","mfa"] (AMRWithCode).
func (m *MFA) VerifyCode(ctx context.Context, mfaToken, code string) (storage.User, error) {
	if err := m.verifyCode(ctx, mfaToken, code); err != nil {
		return storage.User{}, err
	}
	return m.consume(ctx, mfaToken)
}

// AMRWithCode is the amr of a password and a TOTP or recovery code.
func AMRWithCode() []string { return amrPasswordOTP() }

// consume ends the challenge of mfaToken and returns its user.
func (m *MFA) consume(ctx context.Context, mfaToken string) (storage.User, error) {
	if mfaToken == "" || len(mfaToken) > maxMFATokenLen {
		return storage.User{}, ErrMFAExpired
	}
	return m.consumeHash(ctx, HashSecret(mfaToken))
}

// consumeHash is consume by the token's hash: a passkey ceremony keeps
// only the hash of the mfa_token it continues, never the token.
func (m *MFA) consumeHash(ctx context.Context, hash string) (storage.User, error) {
	c, err := m.challenges.ConsumeMFAChallenge(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, ErrMFAExpired
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("provider: mfa: %w", err)
	}
	u, err := m.a.user(ctx, c.UserID)
	if errors.Is(err, ErrUnauthenticated) {
		return storage.User{}, ErrMFAExpired
	}
	return u, err
}

// verifyCode checks code for the challenge of mfaToken, under the
// account's login limit, counting a wrong one against the challenge.
func (m *MFA) verifyCode(ctx context.Context, mfaToken, code string) error {
	u, err := m.PendingUser(ctx, mfaToken)
	if err != nil {
		return err
	}
	key := loginKeyPrefix + u.EmailCanonical
	if _, err := m.a.loginRL.Allow(ctx, key); err != nil {
		return err
	}
	ok, err := m.CheckCode(ctx, u, code)
	if err != nil {
		return err
	}
	if !ok {
		if err := m.Fail(ctx, mfaToken); err != nil && !errors.Is(err, ErrMFAExpired) {
			return err
		}
		m.audit.Record(ctx, AuditEvent{Event: EventLoginFailed, UserID: u.ID, Domain: u.Domain, Actor: ActorUser, Detail: "wrong second factor code"})
		return ErrWrongCode
	}
	if rerr := m.a.loginRL.Refund(ctx, key); rerr != nil {
		m.log.WarnContext(ctx, "login limit: refund not stored", "err", rerr)
	}
	return nil
}

// CheckCode checks a second-factor code of u: six digits are a TOTP code
// (accepted once per time step, SEC-55), anything else a recovery code
// (used up by the check, SEC-56). It reports whether the code was right;
// a used recovery code is mailed and audited.
func (m *MFA) CheckCode(ctx context.Context, u storage.User, code string) (bool, error) {
	code = strings.TrimSpace(code)
	if code == "" || len(code) > maxCodeLen {
		return false, nil
	}
	if isTOTPCode(code) {
		return m.checkTOTP(ctx, u, code)
	}
	return m.useRecoveryCode(ctx, u, code)
}

package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"user-registry/storage"
)

// PasskeyCeremonyTTL is how long a WebAuthn ceremony (a registration or a
// sign-in begun and not finished) lives (SPEC §10).
const PasskeyCeremonyTTL = 5 * time.Minute

// Passkey names are short labels the user gives; longer ones are refused.
const (
	maxPasskeyName     = 64
	defaultPasskeyName = "Passkey"
	// maxCredentialJSON bounds the browser's response we parse.
	maxCredentialJSON = 64 << 10
	// loginIDBytes is the entropy of a login_id: it names a ceremony, and
	// is stored hashed like every other bearer secret.
	loginIDBytes = 32
)

// Ceremony keys in the session store: a registration is the user's (a
// new one replaces an unfinished one), a sign-in its login_id's hash.
const (
	ceremonyRegister = "passkey-reg:"
	ceremonyLogin    = "passkey-login:"
)

// PasskeyRecords is the passkey side MFA needs (PasskeyFactor,
// PasskeyLister): count, list and remove a user's passkeys. It needs the
// database alone, so the CLI builds it without the WebAuthn machinery.
type PasskeyRecords struct {
	Store storage.PasskeyStore
}

var (
	_ PasskeyFactor = PasskeyRecords{}
	_ PasskeyLister = PasskeyRecords{}
	_ PasskeyFactor = (*Passkeys)(nil)
	_ PasskeyLister = (*Passkeys)(nil)
)

// Count counts the user's passkeys.
func (r PasskeyRecords) Count(ctx context.Context, userID string) (int, error) {
	return r.Store.CountPasskeys(ctx, userID)
}

// RemoveAll removes every passkey of the user (users mfa-reset).
func (r PasskeyRecords) RemoveAll(ctx context.Context, userID string) error {
	return r.Store.DeletePasskeys(ctx, userID)
}

// List lists the user's passkeys for GET /mfa, oldest first.
func (r PasskeyRecords) List(ctx context.Context, userID string) ([]PasskeyInfo, error) {
	ps, err := r.Store.Passkeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]PasskeyInfo, 0, len(ps))
	for _, p := range ps {
		out = append(out, passkeyInfo(p))
	}
	return out, nil
}

func passkeyInfo(p storage.Passkey) PasskeyInfo {
	return PasskeyInfo{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt}
}

// PasskeysDeps are what Passkeys is built from. Accounts, MFA, Store,
// Challenges, RPID and Origins are required.
type PasskeysDeps struct {
	Accounts *Accounts
	// MFA owns the rules every factor shares: the mfa_token a second
	// factor continues, the last-factor guard, and the mail and audit
	// event of an added or removed factor.
	MFA *MFA
	// Store keeps the passkeys (the database).
	Store storage.PasskeyStore
	// Challenges keeps the ceremonies in progress (the session store), so
	// one node may begin and another finish.
	Challenges storage.PasskeyChallengeStore
	// RPID (--webauthn-rp-id) and Origins (--webauthn-origin) come from
	// configuration only, never from a request (SEC-58).
	RPID    string
	Origins []string
	RPName  string // shown by authenticators; "" means RPID
	Audit   Auditor
	Now     func() time.Time // nil means time.Now
	Log     *slog.Logger     // nil discards
}

// Passkeys owns WebAuthn credentials (SPEC §10): their registration and
// removal, and sign-ins with them, passwordless or as a second factor.
// Safe for concurrent use.
type Passkeys struct {
	PasskeyRecords
	a          *Accounts
	mfa        *MFA
	challenges storage.PasskeyChallengeStore
	wa         *webauthn.WebAuthn
	audit      Auditor
	now        func() time.Time
	log        *slog.Logger
}

// NewPasskeys wires the passkey service. The RP ID must be a domain name
// (an IP address is refused: see PasskeyRPID).
func NewPasskeys(d PasskeysDeps) (*Passkeys, error) {
	if d.Accounts == nil || d.MFA == nil || d.Store == nil || d.Challenges == nil {
		return nil, errors.New("provider: passkeys: missing dependency")
	}
	if d.RPID == "" || net.ParseIP(d.RPID) != nil {
		return nil, fmt.Errorf("provider: passkeys: RP ID %q is not a domain name", d.RPID)
	}
	if len(d.Origins) == 0 {
		return nil, errors.New("provider: passkeys: no origin")
	}
	name := d.RPName
	if name == "" {
		name = d.RPID
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID: d.RPID, RPDisplayName: name, RPOrigins: d.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
	})
	if err != nil {
		return nil, fmt.Errorf("provider: passkeys: %w", err)
	}
	p := &Passkeys{
		PasskeyRecords: PasskeyRecords{Store: d.Store}, a: d.Accounts, mfa: d.MFA, challenges: d.Challenges, wa: wa,
		audit: auditorOr(d.Audit), now: d.Now, log: d.Log,
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// PasskeyRPID is the RP ID and origins passkeys use with the issuer and
// the configured values (SPEC §10): rpID defaults to the issuer's host,
// origins to the issuer's origin. off is non-empty, saying why, when
// passkeys cannot work: an RP ID must be a domain name, so an IP-address
// issuer without an explicit RP ID turns them off.
func PasskeyRPID(issuer, rpID string, origins []string) (id string, orig []string, off string) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return "", nil, "the issuer is not a URL"
	}
	if rpID == "" {
		rpID = u.Hostname()
		if net.ParseIP(rpID) != nil {
			return "", nil, "the issuer's host " + rpID + " is an IP address and no --webauthn-rp-id is set"
		}
	}
	rpID = strings.ToLower(strings.TrimSuffix(rpID, "."))
	if net.ParseIP(rpID) != nil {
		return "", nil, "--webauthn-rp-id " + rpID + " is an IP address, not a domain name"
	}
	if len(origins) == 0 {
		origins = []string{u.Scheme + "://" + u.Host}
	}
	return rpID, origins, ""
}

// waUser is a user as the WebAuthn library sees it. The user handle is
// the user id's bytes (no personal data on the authenticator).
type waUser struct {
	u     storage.User
	creds []webauthn.Credential
}

func (w *waUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w *waUser) WebAuthnName() string                       { return w.u.Email }
func (w *waUser) WebAuthnDisplayName() string                { return w.u.Email }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// credential decodes a stored passkey for the library. The sign count and
// backup flags come from their own columns, which every sign-in updates
// (the serialized copy is the one of the registration). CloneWarning is
// never fed back (dex#4884): the count is checked by UsePasskey's
// conditional write instead.
func credential(p storage.Passkey) (webauthn.Credential, error) {
	var c webauthn.Credential
	if err := json.Unmarshal(p.Credential, &c); err != nil {
		return webauthn.Credential{}, fmt.Errorf("provider: passkey %s does not decode: %w", p.ID, err)
	}
	c.Authenticator.SignCount = p.SignCount
	c.Authenticator.CloneWarning = false
	c.Flags.BackupEligible = p.BackupEligible
	c.Flags.BackupState = p.BackupState
	return c, nil
}

// userWithPasskeys loads u's passkeys for the library, and the stored
// records by credential id.
func (p *Passkeys) userWithPasskeys(ctx context.Context, u storage.User) (*waUser, map[string]storage.Passkey, error) {
	ps, err := p.Store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("provider: passkeys: %w", err)
	}
	wu := &waUser{u: u}
	byID := make(map[string]storage.Passkey, len(ps))
	for _, rec := range ps {
		c, err := credential(rec)
		if err != nil {
			return nil, nil, err
		}
		wu.creds = append(wu.creds, c)
		byID[string(rec.CredentialID)] = rec
	}
	return wu, byID, nil
}

// saveCeremony stores the library's whole session data under key.
func (p *Passkeys) saveCeremony(ctx context.Context, key, userID, mfaHash string, sd *webauthn.SessionData) error {
	b, err := json.Marshal(sd)
	if err != nil {
		return fmt.Errorf("provider: passkeys: %w", err)
	}
	c := storage.PasskeyChallenge{Key: key, UserID: userID, MFAHash: mfaHash, Session: b, ExpiresAt: p.now().Add(PasskeyCeremonyTTL)}
	if err := p.challenges.SavePasskeyChallenge(ctx, c); err != nil {
		return fmt.Errorf("provider: passkeys: save ceremony: %w", err)
	}
	return nil
}

// takeCeremony ends the ceremony under key and returns it, or gone for an
// unknown, used or expired one. Of concurrent finishes one gets it.
func (p *Passkeys) takeCeremony(ctx context.Context, key string, gone error) (storage.PasskeyChallenge, webauthn.SessionData, error) {
	c, err := p.challenges.TakePasskeyChallenge(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return c, webauthn.SessionData{}, gone
	}
	if err != nil {
		return c, webauthn.SessionData{}, fmt.Errorf("provider: passkeys: %w", err)
	}
	// The store expires too; this holds the line on our clock as well.
	if !p.now().Before(c.ExpiresAt) {
		return c, webauthn.SessionData{}, gone
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Session, &sd); err != nil {
		return c, webauthn.SessionData{}, fmt.Errorf("provider: passkeys: ceremony does not decode: %w", err)
	}
	return c, sd, nil
}

// passkeyName checks a user-given name: trimmed, at most 64 characters,
// no control characters; empty means the default.
func passkeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return defaultPasskeyName, nil
	}
	if len([]rune(name)) > maxPasskeyName {
		return "", InvalidInput("The passkey name is too long (at most 64 characters)")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", InvalidInput("The passkey name has control characters")
		}
	}
	return name, nil
}

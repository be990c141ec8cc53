package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"user-registry/storage"
)

// PasskeyLogin is a sign-in ceremony begun (POST /login/passkey/begin):
// LoginID names it at finish; Options are the browser's
// PublicKeyCredentialRequestOptionsJSON.
type PasskeyLogin struct {
	LoginID string
	Options protocol.PublicKeyCredentialRequestOptions
}

// BeginLogin starts a sign-in with a passkey (SPEC §10). Without an
// mfaToken it is passwordless: any discoverable credential, user
// verification required. With one it is the second factor of the user the
// token names: only that user's passkeys are allowed. The ceremony lives in
// the session store for 5 minutes, under the hash of its login_id.
// Returns ErrMFAExpired (a dead mfa_token), ErrPasskeySignIn (that user
// has no passkey), or an error wrapping storage.ErrUnavailable.
func (p *Passkeys) BeginLogin(ctx context.Context, mfaToken string) (PasskeyLogin, error) {
	var (
		assertion *protocol.CredentialAssertion
		sd        *webauthn.SessionData
		userID    string
		mfaHash   string
		err       error
	)
	if mfaToken == "" {
		assertion, sd, err = p.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	} else {
		u, uerr := p.mfa.PendingUser(ctx, mfaToken)
		if uerr != nil {
			return PasskeyLogin{}, uerr
		}
		wu, _, uerr := p.userWithPasskeys(ctx, u)
		if uerr != nil {
			return PasskeyLogin{}, uerr
		}
		if len(wu.creds) == 0 {
			return PasskeyLogin{}, ErrPasskeySignIn
		}
		userID, mfaHash = u.ID, HashSecret(mfaToken)
		assertion, sd, err = p.wa.BeginLogin(wu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	}
	if err != nil {
		return PasskeyLogin{}, fmt.Errorf("provider: passkeys: begin login: %w", err)
	}
	id, hash := NewSecret(loginIDBytes)
	if err := p.saveCeremony(ctx, ceremonyLogin+hash, userID, mfaHash, sd); err != nil {
		return PasskeyLogin{}, err
	}
	return PasskeyLogin{LoginID: id, Options: assertion.Response}, nil
}

// FinishLogin completes the sign-in loginID names with the browser's
// AuthenticationResponseJSON (POST /login/passkey/finish) and issues the
// /login body's tokens, bound to jkt when set: amr ["hwk","user","mfa"]
// passwordless, ["pwd","hwk","mfa"] as a second factor, whose mfa_token
// then dies. Returns ErrPasskeySignIn, ErrMFAExpired, or an error wrapping
// storage.ErrUnavailable. See SignIn for the checks.
func (p *Passkeys) FinishLogin(ctx context.Context, loginID string, response []byte, jkt string) (TokenPair, error) {
	u, amr, err := p.SignIn(ctx, loginID, response)
	if err != nil {
		return TokenPair{}, err
	}
	return p.a.IssueTokensAMR(ctx, u, jkt, amr)
}

// SignIn is FinishLogin without tokens, for the pages, which start a
// browser session with the user and amr returned. The ceremony is used up
// whatever the outcome, so a response is accepted once. Refused with
// ErrPasskeySignIn: an unknown, used or expired login_id; a response for
// another origin or RP ID, or another challenge; a bad signature; no user
// verification where it is required; a credential of another user than
// the mfa_token's (SEC-58); a disabled or deleted user; a non-zero sign
// count not above the stored one (logged: a cloned authenticator, or a
// replay). A second-factor sign-in whose mfa_token died meanwhile gets
// ErrMFAExpired; a refused response counts against that mfa_token like a
// wrong code.
func (p *Passkeys) SignIn(ctx context.Context, loginID string, response []byte) (storage.User, []string, error) {
	if loginID == "" || len(loginID) > maxMFATokenLen || len(response) == 0 || len(response) > maxCredentialJSON {
		return storage.User{}, nil, ErrPasskeySignIn
	}
	c, sd, err := p.takeCeremony(ctx, ceremonyLogin+HashSecret(loginID), ErrPasskeySignIn)
	if err != nil {
		return storage.User{}, nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return storage.User{}, nil, p.loginRefused(ctx, c, storage.User{}, "response does not parse", err)
	}
	if c.MFAHash == "" {
		return p.passwordless(ctx, c, sd, parsed)
	}
	return p.secondFactor(ctx, c, sd, parsed)
}

// passwordless verifies a discoverable credential: its user handle names
// the user, who must own the credential.
func (p *Passkeys) passwordless(ctx context.Context, c storage.PasskeyChallenge, sd webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData) (storage.User, []string, error) {
	var (
		owner storage.User
		recs  map[string]storage.Passkey
	)
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		rec, err := p.Store.PasskeyByCredentialID(ctx, rawID)
		if err != nil {
			return nil, fmt.Errorf("credential: %w", err)
		}
		if !bytes.Equal(userHandle, []byte(rec.UserID)) {
			return nil, errors.New("user handle is not the credential's owner")
		}
		u, err := p.a.user(ctx, rec.UserID) // a disabled user is refused here
		if err != nil {
			return nil, err
		}
		if p.a.cfg.RequireVerified && !u.IsActivated {
			return nil, errors.New("email not verified") // as at /login (--require-verified-email)
		}
		wu, byID, err := p.userWithPasskeys(ctx, u)
		if err != nil {
			return nil, err
		}
		owner, recs = u, byID
		return wu, nil
	}
	_, cred, err := p.wa.ValidatePasskeyLogin(handler, sd, parsed)
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return storage.User{}, nil, fmt.Errorf("provider: passkeys: %w", err)
		}
		return storage.User{}, nil, p.loginRefused(ctx, c, owner, "passwordless response refused", err)
	}
	if err := p.use(ctx, owner, recs, cred, parsed); err != nil {
		return storage.User{}, nil, p.loginRefused(ctx, c, owner, "passwordless sign-in refused", err)
	}
	p.a.noteLogin(ctx, &owner)
	p.audit.Record(ctx, AuditEvent{Event: EventLoginSucceeded, UserID: owner.ID, Domain: owner.Domain, Actor: ActorUser, Detail: "passkey"})
	return owner, AMRPasswordless(), nil
}

// secondFactor verifies one of the pending user's passkeys and ends the
// mfa_token's challenge.
func (p *Passkeys) secondFactor(ctx context.Context, c storage.PasskeyChallenge, sd webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData) (storage.User, []string, error) {
	u, err := p.mfa.pendingUserHash(ctx, c.MFAHash)
	if err != nil {
		return storage.User{}, nil, err
	}
	if u.ID != c.UserID {
		return storage.User{}, nil, ErrMFAExpired // cannot happen: the token names one user
	}
	// Only u's credentials are loaded, so another user's credential is
	// unknown here whatever its user handle says (SEC-58).
	wu, recs, err := p.userWithPasskeys(ctx, u)
	if err != nil {
		return storage.User{}, nil, err
	}
	cred, err := p.wa.ValidateLogin(wu, sd, parsed)
	if err == nil {
		err = p.use(ctx, u, recs, cred, parsed)
	}
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return storage.User{}, nil, fmt.Errorf("provider: passkeys: %w", err)
		}
		if ferr := p.mfa.failHash(ctx, c.MFAHash); ferr != nil && !errors.Is(ferr, ErrMFAExpired) {
			return storage.User{}, nil, ferr
		}
		return storage.User{}, nil, p.loginRefused(ctx, c, u, "second-factor response refused", err)
	}
	u, err = p.mfa.consumeHash(ctx, c.MFAHash) // the mfa_token dies on success
	if err != nil {
		return storage.User{}, nil, err
	}
	return u, AMRWithPasskey(), nil
}

// errSignCount is a sign count that did not go up: UsePasskey's
// conditional write refused it.
var errSignCount = errors.New("sign count not above the stored one")

// use records a verified sign-in with cred: the reported sign count and
// backup state, in one conditional write that refuses a count not above
// the stored one unless both are zero (authenticators that do not count).
// The library's own clone warning is not consulted: its count came from
// our column, and the store's write is the check that holds across nodes.
func (p *Passkeys) use(ctx context.Context, u storage.User, recs map[string]storage.Passkey, cred *webauthn.Credential, parsed *protocol.ParsedCredentialAssertionData) error {
	rec, ok := recs[string(cred.ID)]
	if !ok || rec.UserID != u.ID {
		return errors.New("credential not among the user's")
	}
	ad := parsed.Response.AuthenticatorData
	err := p.Store.UsePasskey(ctx, rec.ID, ad.Counter, ad.Flags.HasBackupState(), p.now().UTC())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrConflict):
		p.log.WarnContext(ctx, "passkey: sign count did not go up: a cloned authenticator or a replay",
			"user_id", u.ID, "passkey_id", rec.ID, "stored", rec.SignCount, "reported", ad.Counter)
		return errSignCount
	case errors.Is(err, storage.ErrNotFound):
		return errors.New("passkey removed meanwhile")
	default:
		return fmt.Errorf("provider: passkeys: %w", err)
	}
}

// loginRefused logs and audits a refused sign-in and returns
// ErrPasskeySignIn; the reason is for the log, never the client.
func (p *Passkeys) loginRefused(ctx context.Context, c storage.PasskeyChallenge, u storage.User, what string, err error) error {
	attrs := []any{"err", err, "second_factor", c.MFAHash != ""}
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.DevInfo != "" {
		attrs = append(attrs, "detail", perr.DevInfo)
	}
	if u.ID != "" {
		attrs = append(attrs, "user_id", u.ID)
		p.audit.Record(ctx, AuditEvent{Event: EventLoginFailed, UserID: u.ID, Domain: u.Domain, Actor: ActorUser, Detail: "passkey refused"})
	}
	p.log.InfoContext(ctx, "passkey: "+what, attrs...)
	return ErrPasskeySignIn
}

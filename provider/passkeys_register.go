package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"user-registry/storage"
)

// passkeyIDBytes is the size of our id of a passkey (DELETE
// /mfa/passkeys/{id}); it names a row, it is no secret.
const passkeyIDBytes = 16

// BeginRegistration starts adding a passkey after checking the password
// (POST /mfa/passkeys/begin): it returns the creation options for the
// browser ({"publicKey":{…}}) and keeps the ceremony in the session store
// for 5 minutes; a new one replaces an unfinished one. The options ask for
// a discoverable credential and no attestation, and exclude the user's
// passkeys. Returns ErrWrongPassword, *RateLimitError, ErrUnauthenticated,
// or an error wrapping storage.ErrUnavailable.
func (p *Passkeys) BeginRegistration(ctx context.Context, userID, password string) (*protocol.CredentialCreation, error) {
	u, err := p.a.checkOwnPassword(ctx, userID, password)
	if err != nil {
		return nil, err
	}
	return p.beginRegistration(ctx, u)
}

// beginRegistration is BeginRegistration once the password is checked.
func (p *Passkeys) beginRegistration(ctx context.Context, u storage.User) (*protocol.CredentialCreation, error) {
	wu, _, err := p.userWithPasskeys(ctx, u)
	if err != nil {
		return nil, err
	}
	excl := make([]protocol.CredentialDescriptor, 0, len(wu.creds))
	for _, c := range wu.creds {
		excl = append(excl, c.Descriptor())
	}
	creation, sd, err := p.wa.BeginRegistration(wu,
		webauthn.WithExclusions(excl),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationPreferred,
		}))
	if err != nil {
		return nil, fmt.Errorf("provider: passkeys: begin registration: %w", err)
	}
	if err := p.saveCeremony(ctx, ceremonyRegister+u.ID, u.ID, "", sd); err != nil {
		return nil, err
	}
	return creation, nil
}

// FinishRegistration completes the user's ceremony with the browser's
// RegistrationResponseJSON (POST /mfa/passkeys/finish) and stores the
// passkey under name ("" means "Passkey"), its backup flags and sign
// count included. The ceremony is used up whatever the outcome, so a
// response is accepted once. The user gets a mail and the event is
// audited (passkey_added). Returns ErrPasskeyInvalid (a bad or replayed
// response, no ceremony, a credential registered already),
// ErrInvalidInput (the name), ErrUnauthenticated, or an error wrapping
// storage.ErrUnavailable.
func (p *Passkeys) FinishRegistration(ctx context.Context, userID, name string, response []byte) (PasskeyInfo, error) {
	name, err := passkeyName(name)
	if err != nil {
		return PasskeyInfo{}, err
	}
	u, err := p.a.user(ctx, userID)
	if err != nil {
		return PasskeyInfo{}, err
	}
	if len(response) == 0 || len(response) > maxCredentialJSON {
		return PasskeyInfo{}, ErrPasskeyInvalid
	}
	_, sd, err := p.takeCeremony(ctx, ceremonyRegister+u.ID, ErrPasskeyInvalid)
	if err != nil {
		return PasskeyInfo{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return PasskeyInfo{}, p.refused(ctx, u, "registration response does not parse", err, ErrPasskeyInvalid)
	}
	cred, err := p.wa.CreateCredential(&waUser{u: u}, sd, parsed)
	if err != nil {
		return PasskeyInfo{}, p.refused(ctx, u, "registration response refused", err, ErrPasskeyInvalid)
	}
	blob, err := json.Marshal(cred)
	if err != nil {
		return PasskeyInfo{}, fmt.Errorf("provider: passkeys: %w", err)
	}
	id, _ := NewSecret(passkeyIDBytes)
	rec := storage.Passkey{
		ID: id, UserID: u.ID, CredentialID: cred.ID, Name: name, Credential: blob,
		SignCount: cred.Authenticator.SignCount, BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		CreatedAt: p.now().UTC(),
	}
	err = p.Store.CreatePasskey(ctx, rec)
	if errors.Is(err, storage.ErrExists) {
		return PasskeyInfo{}, p.refused(ctx, u, "credential registered already", err, ErrPasskeyInvalid)
	}
	if err != nil {
		return PasskeyInfo{}, fmt.Errorf("provider: passkeys: %w", err)
	}
	p.mfa.FactorChanged(ctx, u, true, MethodPasskey)
	return passkeyInfo(rec), nil
}

// Remove removes the user's passkey id after checking the password
// (DELETE /mfa/passkeys/{id}). The last factor of a user whose domain
// requires one stays (SEC-59). The user gets a mail and the event is
// audited (passkey_removed); removing the last factor voids the recovery
// codes. Returns ErrWrongPassword, *RateLimitError, ErrPasskeyNotFound
// (also for another user's passkey), ErrLastFactor, ErrUnauthenticated,
// or an error wrapping storage.ErrUnavailable.
func (p *Passkeys) Remove(ctx context.Context, userID, password, id string) error {
	u, err := p.a.checkOwnPassword(ctx, userID, password)
	if err != nil {
		return err
	}
	ps, err := p.Store.Passkeys(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("provider: passkeys: %w", err)
	}
	found := false
	for _, rec := range ps {
		found = found || rec.ID == id
	}
	if !found {
		return ErrPasskeyNotFound
	}
	if err := p.mfa.CheckRemoval(ctx, u, len(ps)-1); err != nil {
		return err
	}
	err = p.Store.DeletePasskey(ctx, u.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrPasskeyNotFound // removed meanwhile
	}
	if err != nil {
		return fmt.Errorf("provider: passkeys: %w", err)
	}
	p.mfa.FactorChanged(ctx, u, false, MethodPasskey)
	return nil
}

// refused logs why a WebAuthn response was refused (the library's reason
// is for the operator, never the client) and returns the user-facing
// sentinel.
func (p *Passkeys) refused(ctx context.Context, u storage.User, what string, err, sentinel error) error {
	attrs := []any{"user_id", u.ID, "err", err}
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.DevInfo != "" {
		attrs = append(attrs, "detail", perr.DevInfo)
	}
	p.log.InfoContext(ctx, "passkey: "+what, attrs...)
	return sentinel
}

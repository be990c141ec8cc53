package web

import (
	"net/http"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/gorilla/mux"
)

// Passkeys (SPEC §10): their JSON management endpoints and the passkey
// sign-in. Registered only when passkeys are on (Config.Passkeys); with
// them off every path here answers 404.

// routesPasskeys registers the passkey rows of SPEC §10.
func (s *server) routesPasskeys(r *mux.Router, limited func(http.Handler) http.Handler) {
	if s.cfg.Passkeys == nil || s.cfg.MFA == nil {
		return
	}
	open := func(h http.HandlerFunc) http.Handler { return noStore(s.audited(h)) }
	bearer := func(h http.HandlerFunc) http.Handler { return noStore(s.requireBearer(s.audited(h))) }
	r.Handle("/mfa/passkeys/begin", bearer(s.apiPasskeyBegin)).Methods(http.MethodPost)
	r.Handle("/mfa/passkeys/finish", bearer(s.apiPasskeyFinish)).Methods(http.MethodPost)
	r.Handle("/mfa/passkeys/{id}", bearer(s.apiPasskeyRemove)).Methods(http.MethodDelete)
	r.Handle("/login/passkey/begin", limited(open(s.apiPasskeyLoginBegin))).Methods(http.MethodPost)
	r.Handle("/login/passkey/finish", limited(open(s.apiPasskeyLoginFinish))).Methods(http.MethodPost)
}

// apiPasskeyBegin is POST /mfa/passkeys/begin {"password"}.
func (s *server) apiPasskeyBegin(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	pw, ok := s.mfaPassword(w, r)
	if !ok {
		return
	}
	creation, err := s.cfg.Passkeys.BeginRegistration(r.Context(), c.Subject, pw)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, passkeyCreationResponse{creation.Response})
}

// passkeyCreationResponse is {"publicKey": PublicKeyCredentialCreationOptionsJSON}.
type passkeyCreationResponse struct {
	PublicKey protocol.PublicKeyCredentialCreationOptions `json:"publicKey"`
}

// passkeyFinishRequest is the body of POST /mfa/passkeys/finish. The
// credential is the browser's RegistrationResponseJSON, kept raw: the
// WebAuthn library parses it (it may carry members we do not name, such as
// clientExtensionResults).
type passkeyFinishRequest struct {
	Name       string         `json:"name"`
	Credential jsontext.Value `json:"credential"`
}

// apiPasskeyFinish is POST /mfa/passkeys/finish → 201 {"id","name","created_at"}.
func (s *server) apiPasskeyFinish(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	var req passkeyFinishRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	info, err := s.cfg.Passkeys.FinishRegistration(r.Context(), c.Subject, req.Name, req.Credential)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, passkeyCreated{info.ID, info.Name, info.CreatedAt})
}

// passkeyCreated is the 201 of a finished registration: the passkey as
// GET /mfa lists it, without last_used_at.
type passkeyCreated struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// apiPasskeyRemove is DELETE /mfa/passkeys/{id} {"password"}.
func (s *server) apiPasskeyRemove(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	pw, ok := s.mfaPassword(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Passkeys.Remove(r.Context(), c.Subject, pw, mux.Vars(r)["id"]); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type passkeyLoginBeginRequest struct {
	MFAToken string `json:"mfa_token"`
}

// passkeyLoginBeginResponse is {"login_id","publicKey": PublicKeyCredentialRequestOptionsJSON}.
type passkeyLoginBeginResponse struct {
	LoginID   string                                     `json:"login_id"`
	PublicKey protocol.PublicKeyCredentialRequestOptions `json:"publicKey"`
}

// apiPasskeyLoginBegin is POST /login/passkey/begin {"mfa_token"?}. The
// pages' scripts call it too.
func (s *server) apiPasskeyLoginBegin(w http.ResponseWriter, r *http.Request) {
	var req passkeyLoginBeginRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	l, err := s.cfg.Passkeys.BeginLogin(r.Context(), req.MFAToken)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, passkeyLoginBeginResponse{l.LoginID, l.Options})
}

// passkeyLoginFinishRequest is the body of POST /login/passkey/finish (and
// of the pages' /login/passkey/session): the credential is the browser's
// AuthenticationResponseJSON, kept raw for the library.
type passkeyLoginFinishRequest struct {
	LoginID    string         `json:"login_id"`
	Credential jsontext.Value `json:"credential"`
}

// apiPasskeyLoginFinish is POST /login/passkey/finish → 200 the /login
// body. A DPoP proof binds the tokens, as at /login (SPEC §11).
func (s *server) apiPasskeyLoginFinish(w http.ResponseWriter, r *http.Request) {
	var req passkeyLoginFinishRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	jkt, err := s.firstPartyProof(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	pair, err := s.cfg.Passkeys.FinishLogin(r.Context(), req.LoginID, req.Credential, jkt)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(pair))
}

package web

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// Second factors (SPEC §10): the second step of /login and the JSON
// management endpoints. The passkey rows live in api_passkeys.go.

// mfaRequiredResponse is the 401 of /login for a user with a second
// factor.
type mfaRequiredResponse struct {
	Message  string   `json:"message"`
	MFAToken string   `json:"mfa_token"`
	Methods  []string `json:"methods"`
}

// writeLoginError answers a failed /login: a second factor due is a 401
// carrying the mfa_token; everything else goes through the error table.
func (s *server) writeLoginError(w http.ResponseWriter, r *http.Request, err error) {
	var need *provider.MFARequiredError
	if errors.As(err, &need) {
		writeJSON(w, http.StatusUnauthorized, mfaRequiredResponse{need.UserMessage(), need.Token, need.Methods})
		return
	}
	writeError(w, r, s.log, s.loginError(err))
}

// routesMFA registers /login/mfa and the management endpoints when second
// factors are configured.
func (s *server) routesMFA(r *mux.Router, limited func(http.Handler) http.Handler) {
	if s.cfg.MFA == nil {
		return
	}
	open := func(h http.HandlerFunc) http.Handler { return noStore(s.audited(h)) }
	bearer := func(h http.HandlerFunc) http.Handler { return noStore(s.requireBearer(s.audited(h))) }
	r.Handle("/login/mfa", limited(open(s.apiLoginMFA))).Methods(http.MethodPost).MatcherFunc(isJSONRequest) // forms: page_mfa.go
	r.Handle("/mfa", bearer(s.apiMFAStatus)).Methods(http.MethodGet)
	r.Handle("/mfa/totp", bearer(s.apiTOTPStart)).Methods(http.MethodPost)
	r.Handle("/mfa/totp", bearer(s.apiTOTPDisable)).Methods(http.MethodDelete)
	r.Handle("/mfa/totp/confirm", bearer(s.apiTOTPConfirm)).Methods(http.MethodPost)
	r.Handle("/mfa/recovery-codes", bearer(s.apiRecoveryCodes)).Methods(http.MethodPost)
	s.routesPasskeys(r, limited) // api_passkeys.go
}

type loginMFARequest struct {
	MFAToken string `json:"mfa_token"`
	Code     string `json:"code"`
}

// apiLoginMFA is POST /login/mfa: a TOTP or recovery code for an
// mfa_token. A DPoP proof binds the tokens, as at /login.
func (s *server) apiLoginMFA(w http.ResponseWriter, r *http.Request) {
	var req loginMFARequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.MFAToken == "" {
		writeError(w, r, s.log, provider.ErrMFAExpired)
		return
	}
	if req.Code == "" {
		writeError(w, r, s.log, provider.InvalidInput("Please provide the code"))
		return
	}
	jkt, err := s.firstPartyProof(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	pair, err := s.cfg.MFA.VerifyLogin(r.Context(), req.MFAToken, req.Code, jkt)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(pair))
}

// apiMFAStatus is GET /mfa.
func (s *server) apiMFAStatus(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	st, err := s.cfg.MFA.Status(r.Context(), c.Subject)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

type mfaPasswordRequest struct {
	Password string `json:"password"`
}

// mfaPassword decodes the {"password"} body the starting and removing
// endpoints need; a missing password is a wrong one (401).
func (s *server) mfaPassword(w http.ResponseWriter, r *http.Request) (string, bool) {
	var req mfaPasswordRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return "", false
	}
	if req.Password == "" {
		writeError(w, r, s.log, provider.ErrWrongPassword)
		return "", false
	}
	return req.Password, true
}

// apiTOTPStart is POST /mfa/totp.
func (s *server) apiTOTPStart(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	pw, ok := s.mfaPassword(w, r)
	if !ok {
		return
	}
	e, err := s.cfg.MFA.StartTOTP(r.Context(), c.Subject, pw)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

type totpConfirmRequest struct {
	Code string `json:"code"`
}

type totpConfirmResponse struct {
	Message       string   `json:"message"`
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

// apiTOTPConfirm is POST /mfa/totp/confirm.
func (s *server) apiTOTPConfirm(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	var req totpConfirmRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	codes, err := s.cfg.MFA.ConfirmTOTP(r.Context(), c.Subject, req.Code)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, totpConfirmResponse{"Two-factor authentication enabled", codes})
}

// apiTOTPDisable is DELETE /mfa/totp.
func (s *server) apiTOTPDisable(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	pw, ok := s.mfaPassword(w, r)
	if !ok {
		return
	}
	if err := s.cfg.MFA.DisableTOTP(r.Context(), c.Subject, pw); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type recoveryCodesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// apiRecoveryCodes is POST /mfa/recovery-codes.
func (s *server) apiRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	pw, ok := s.mfaPassword(w, r)
	if !ok {
		return
	}
	codes, err := s.cfg.MFA.RegenerateRecoveryCodes(r.Context(), c.Subject, pw)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, recoveryCodesResponse{codes})
}

package web

import (
	"errors"
	"net/http"
	"strings"

	"user-registry/provider"
)

// Messages of the anonymous endpoints that SPEC §3 leaves to us.
const (
	msgUserCreated      = "User created successfully"
	msgLoginFieldsMiss  = "Please provide email and password"
	msgRefreshTokenMiss = "Please provide a refresh_token"
)

// errGenericLogin replaces both login failures in `generic` mode (SEC-27);
// the error table gives it 401 and provider.GenericLoginMessage.
var errGenericLogin = errors.New("login failed")

type signupRequest struct {
	Email        string  `json:"email"`
	Password     string  `json:"password"`
	ConfirmPass  *string `json:"confirm_pass"`
	Phone        *string `json:"phone_num"` // null or "" means none
	Discoverable *bool   `json:"discoverable"`
}

type signupResponse struct {
	Message string `json:"message"`
	UserID  string `json:"user_id"`
}

// apiSignup is POST /signup (SPEC §3): 201 with the new user's id; 202 for
// a taken address, 401 for a blocked domain, 400 for bad input.
func (s *server) apiSignup(w http.ResponseWriter, r *http.Request) {
	var req signupRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, err := s.cfg.Accounts.Signup(r.Context(), provider.SignupInput{
		Email:        req.Email,
		Password:     req.Password,
		ConfirmPass:  req.ConfirmPass,
		Phone:        req.Phone,
		Discoverable: req.Discoverable,
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, signupResponse{msgUserCreated, u.ID})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// tokenResponse is the body of /login and /refresh (SPEC §3).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

func newTokenResponse(p provider.TokenPair) tokenResponse {
	return tokenResponse{p.AccessToken, p.RefreshToken, p.TokenType, p.ExpiresIn}
}

// apiLogin is POST /login and its alias POST / (SPEC §3). Missing fields
// are refused before the provider sees them, so they neither cost a hash
// nor count as a failed login of some account.
func (s *server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if strings.TrimSpace(req.Email) == "" || req.Password == "" {
		writeError(w, r, s.log, provider.InvalidInput(msgLoginFieldsMiss))
		return
	}
	jkt, err := s.firstPartyProof(r) // before the password: a bad proof costs no hash
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var pair provider.TokenPair
	if s.cfg.MFA != nil {
		pair, err = s.cfg.MFA.Login(r.Context(), req.Email, req.Password, jkt)
	} else {
		pair, err = s.cfg.Accounts.LoginBound(r.Context(), req.Email, req.Password, jkt)
	}
	if err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(pair))
}

// loginError hides which of "unknown user" and "wrong password" happened
// when Config.GenericLoginErrors is set; other errors pass unchanged.
func (s *server) loginError(err error) error {
	if s.cfg.GenericLoginErrors && (errors.Is(err, provider.ErrUnknownUser) || errors.Is(err, provider.ErrWrongPassword)) {
		return errGenericLogin
	}
	return err
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// apiRefresh is POST /refresh (SPEC §3): rotates a /login refresh token.
// An unknown, expired or reused token is 401 (reuse also ends the session,
// see provider.RefreshFor); a missing one is 400 like login's fields.
func (s *server) apiRefresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.RefreshToken == "" {
		writeError(w, r, s.log, provider.InvalidInput(msgRefreshTokenMiss))
		return
	}
	jkt, err := s.firstPartyProof(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	pair, err := s.cfg.Accounts.RefreshBound(r.Context(), req.RefreshToken, jkt)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, newTokenResponse(pair))
}

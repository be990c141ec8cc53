package web

import (
	"net/http"
	"time"

	"user-registry/keys"
	"user-registry/provider"
)

// Messages of the account endpoints (SPEC §3, §3a).
const (
	msgLoggedOut        = "Successfully logged out"
	msgLoggedOutAll     = "Logged out everywhere"
	msgPasswordUpdated  = "Password updated"
	msgPasswordFieldsMi = "Please provide current_password and new_password"
	msgPasswordMissing  = "Please provide your password"
)

// accountClaims returns the verified claims of a first-party (/login,
// /refresh) token, or answers 403 (provider.ErrForeignToken: see
// Accounts.FirstParty) and returns false.
func (s *server) accountClaims(w http.ResponseWriter, r *http.Request) (keys.AccessClaims, bool) {
	c, ok := claimsFrom(r.Context())
	if !ok {
		writeError(w, r, s.log, errNoToken)
		return keys.AccessClaims{}, false
	}
	if err := s.cfg.Accounts.FirstParty(c); err != nil {
		writeError(w, r, s.log, err)
		return keys.AccessClaims{}, false
	}
	return c, true
}

// apiLogout is POST|GET|DELETE /logout (SEC-12): revokes the presented
// token and its session's refresh tokens. Any valid token may end itself,
// third-party ones included. A body, if any, is ignored.
func (s *server) apiLogout(w http.ResponseWriter, r *http.Request) {
	c, ok := claimsFrom(r.Context())
	if !ok {
		writeError(w, r, s.log, errNoToken)
		return
	}
	if err := s.cfg.Accounts.Logout(r.Context(), c); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, message{msgLoggedOut})
}

// apiLogoutAll is POST /logout/all (SEC-13).
func (s *server) apiLogoutAll(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Accounts.LogoutAll(r.Context(), c.Subject); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, message{msgLoggedOutAll})
}

// updateRequest holds the only fields /update accepts (SEC-29): strict
// decoding refuses email, password, id, role and anything else with 400.
type updateRequest struct {
	Phone        *string `json:"phone_num"` // null: unchanged; "": cleared
	Discoverable *bool   `json:"discoverable"`
}

// apiUpdate is POST|PATCH /update: 202 with the joined change messages, 200
// "Nothing to be updated" when nothing differs.
func (s *server) apiUpdate(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	var req updateRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	msg, changed, err := s.cfg.Accounts.Update(r.Context(), c.Subject, provider.UpdateInput{
		Phone: req.Phone, Discoverable: req.Discoverable,
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	status := http.StatusOK
	if changed {
		status = http.StatusAccepted
	}
	writeJSON(w, status, message{msg})
}

// meResponse is GET /me. PhoneNum is a pointer so that "none" is null.
type meResponse struct {
	UserID       string  `json:"user_id"`
	Email        string  `json:"email"`
	PhoneNum     *string `json:"phone_num"`
	Domain       string  `json:"domain"`
	Discoverable bool    `json:"discoverable"`
	IsActivated  bool    `json:"is_activated"`
	CreatedAt    string  `json:"created_at"` // RFC 3339, UTC
}

// apiMe is GET /me.
func (s *server) apiMe(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	u, err := s.cfg.Accounts.Me(r.Context(), c.Subject)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	resp := meResponse{
		UserID: u.ID, Email: u.Email, Domain: u.Domain,
		Discoverable: u.Discoverable, IsActivated: u.IsActivated,
		CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339),
	}
	if u.PhoneNum != "" {
		resp.PhoneNum = &u.PhoneNum
	}
	writeJSON(w, http.StatusOK, resp)
}

type passwordRequest struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// apiChangePassword is POST /password (SPEC §3a, SEC-54).
func (s *server) apiChangePassword(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	var req passwordRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Current == "" || req.New == "" {
		writeError(w, r, s.log, provider.InvalidInput(msgPasswordFieldsMi))
		return
	}
	// The calling token and its session keep working; every other session
	// of the user ends (SPEC §3a).
	if err := s.cfg.Accounts.ChangePassword(r.Context(), c, req.Current, req.New); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, message{msgPasswordUpdated})
}

type deleteRequest struct {
	Password string `json:"password"`
}

// apiDeleteAccount is DELETE /me (SPEC §3a): 204 once the user is gone and
// every token revoked (Accounts.DeleteAccount, which also removes the
// user's consents).
func (s *server) apiDeleteAccount(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accountClaims(w, r)
	if !ok {
		return
	}
	var req deleteRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Password == "" {
		writeError(w, r, s.log, provider.InvalidInput(msgPasswordMissing))
		return
	}
	if err := s.cfg.Accounts.DeleteAccount(r.Context(), c.Subject, req.Password); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

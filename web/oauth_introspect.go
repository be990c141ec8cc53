package web

import (
	"net/http"

	"user-registry/provider"
)

// introspection is the RFC 7662 §2.2 answer for an active token. An
// inactive one is exactly {"active":false} (inactiveBody): nothing else
// may tell a caller why (SEC-15).
type introspection struct {
	Active    bool     `json:"active"`
	TokenType string   `json:"token_type"`
	Subject   string   `json:"sub"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope"`
	Domain    string   `json:"domain,omitempty"`
	Username  string   `json:"username,omitempty"`
	Issuer    string   `json:"iss"`
	Audience  []string `json:"aud,omitempty"`
	JTI       string   `json:"jti,omitempty"`
	IssuedAt  int64    `json:"iat"`
	ExpiresAt int64    `json:"exp"`
	Cnf       *cnf     `json:"cnf,omitempty"` // a DPoP-bound token's key (RFC 9449 §6.2)
}

// cnf is the confirmation claim of a DPoP-bound token.
type cnf struct {
	JKT string `json:"jkt"`
}

// inactiveBody is the whole answer for any token that is not active.
const inactiveBody = `{"active":false}` + "\n"

// introspect is POST /oauth2/introspect (RFC 7662). Only confidential
// clients may call it (public clients have no credentials to protect the
// endpoint with: 401 invalid_client); which tokens each may see is the
// provider's rule (a client a user registered: its own only). A token is
// active only after its revocation state was read: an unreachable store
// answers 503, never a guess (SEC-18).
func (e *tokenInfoEndpoints) introspect(w http.ResponseWriter, r *http.Request) {
	f, err := readTokenForm(r)
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	caller, err := e.auth.Authenticate(r.Context(), f.client, provider.UseIntrospect)
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	if f.token == "" {
		writeOAuthError(w, r, e.log, provider.InvalidRequest("token is required"))
		return
	}
	info, active, err := e.accounts.IntrospectToken(r.Context(), caller, f.token)
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if !active {
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(inactiveBody))
		return
	}
	var bound *cnf
	if info.JKT != "" {
		bound = &cnf{info.JKT}
	}
	writeJSON(w, http.StatusOK, introspection{
		Cnf:       bound,
		Active:    true,
		TokenType: info.TokenType,
		Subject:   info.Subject,
		ClientID:  info.ClientID,
		Scope:     info.Scope,
		Domain:    info.Domain,
		Username:  info.Username,
		Issuer:    e.issuer,
		Audience:  info.Audience,
		JTI:       info.JTI,
		IssuedAt:  info.IssuedAt.Unix(),
		ExpiresAt: info.ExpiresAt.Unix(),
	})
}

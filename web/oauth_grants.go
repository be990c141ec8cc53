package web

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"user-registry/provider"
)

// codeGrants serves the authorization_code and refresh_token grants of
// POST /oauth2/token (SPEC §7). They do not go through go-oauth2: its code
// and refresh models keep state we keep in provider.CodeFlow (hashed
// single-use codes, refresh families with reuse detection).
type codeGrants struct {
	flow *provider.CodeFlow
	auth *provider.ClientAuth
	s    *server // requestInfo, for the audit events of these grants
}

// newCodeGrants returns nil when the code flow is not configured; the
// token endpoint then answers unsupported_grant_type for both grants.
func (s *server) newCodeGrants() *codeGrants {
	if s.cfg.CodeFlow == nil || s.cfg.ClientAuth == nil {
		return nil
	}
	return &codeGrants{flow: s.cfg.CodeFlow, auth: s.cfg.ClientAuth, s: s}
}

// serve runs one grant and writes the answer.
func (g *codeGrants) serve(w http.ResponseWriter, r *http.Request, log *slog.Logger, req *tokenRequest) {
	// Not the client_credentials grant's hot path: these grants may
	// record refresh_reuse_detected and rate_limited.
	ctx := r.Context()
	if g.s.cfg.Audit != nil {
		ctx = provider.WithRequestInfo(ctx, g.s.requestInfo(r, ""))
	}
	c, err := g.auth.Authenticate(ctx, req.client, provider.UseCodeGrant)
	var jkt string
	if err == nil {
		jkt, err = g.auth.Bind(ctx, c, tokenEndpointProof(r, req.proof))
	}
	var out provider.CodeTokens
	if err == nil {
		if req.grantType == provider.GrantAuthorizationCode {
			out, err = g.flow.Exchange(ctx, c, provider.CodeExchange{
				Code: req.code, RedirectURI: req.redirectURI, CodeVerifier: req.codeVerifier, JKT: jkt,
			})
		} else {
			out, err = g.flow.RefreshGrant(ctx, c, req.refreshToken, req.scope, jkt)
		}
	}
	if err != nil {
		writeOAuthError(w, r, log, err)
		return
	}
	writeCodeTokens(w, out)
}

// codeTokenResponse is the RFC 6749 §5.1 / OIDC Core §3.1.3.3 body.
type codeTokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
}

func writeCodeTokens(w http.ResponseWriter, t provider.CodeTokens) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(codeTokenResponse{
		AccessToken: t.AccessToken, TokenType: t.TokenType, ExpiresIn: t.ExpiresIn,
		RefreshToken: t.RefreshToken, IDToken: t.IDToken, Scope: t.Scope,
	})
}

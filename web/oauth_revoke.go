package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"user-registry/provider"
)

// routesTokenInfo registers /userinfo and, when clients are configured,
// /oauth2/revoke and /oauth2/introspect (SPEC §7).
func (s *server) routesTokenInfo(r *mux.Router) {
	if s.cfg.Accounts == nil || s.tokens == nil {
		return
	}
	r.Handle("/userinfo", &userinfoEndpoint{log: s.log, tokens: s.tokens, accounts: s.cfg.Accounts, confirm: s.confirmPresentation}).
		Methods(http.MethodGet, http.MethodPost)
	if s.cfg.ClientAuth == nil {
		return
	}
	ti := &tokenInfoEndpoints{log: s.log, auth: s.cfg.ClientAuth, accounts: s.cfg.Accounts, issuer: s.cfg.Issuer}
	r.HandleFunc("/oauth2/revoke", ti.revoke).Methods(http.MethodPost)
	r.HandleFunc("/oauth2/introspect", ti.introspect).Methods(http.MethodPost)
	s.oauthWrongMethod(r, "POST", "/oauth2/revoke", "/oauth2/introspect")
}

// tokenInfoEndpoints serves POST /oauth2/revoke (RFC 7009) and POST
// /oauth2/introspect (RFC 7662). Both read the form body only — never the
// query string (SEC-22) — and authenticate the calling client first.
type tokenInfoEndpoints struct {
	log      *slog.Logger
	auth     *provider.ClientAuth
	accounts *provider.Accounts
	issuer   string // iss of every token we issue (refresh tokens carry none)
}

// tokenForm is a parsed revocation or introspection request.
type tokenForm struct {
	token string
	// hint is token_type_hint. It is accepted and ignored: the two kinds
	// are told apart by their shape (a JWS has two dots, a refresh token
	// one), and RFC 7009 §2.1 / RFC 7662 §2.1 let the server search every
	// type whatever the hint says.
	hint   string
	client provider.ClientCredentials // as on the token endpoint
}

// readTokenForm parses the body of a revocation or introspection request.
// The client credentials (client_secret_basic or client_secret_post, one
// method only) are read exactly as on the token endpoint, by
// readTokenRequest over the same body bytes. A missing token is
// invalid_request.
func readTokenForm(r *http.Request) (tokenForm, error) {
	var f tokenForm
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
	if err != nil {
		return f, provider.InvalidRequest("Unreadable request body")
	}
	// readTokenRequest checks the Content-Type, the size, the form syntax,
	// repeated credentials and the Basic header; it reads the body again.
	r.Body = io.NopCloser(bytes.NewReader(body))
	req, err := readTokenRequest(r, false)
	if err != nil {
		return f, err
	}
	f.client = req.client
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return f, provider.InvalidRequest("Malformed form body")
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"token", &f.token}, {"token_type_hint", &f.hint}} {
		switch v := form[p.name]; len(v) {
		case 0:
		case 1:
			*p.dst = v[0]
		default:
			return f, provider.InvalidRequest("Parameter " + p.name + " is repeated")
		}
	}
	return f, nil
}

// revoke is POST /oauth2/revoke (RFC 7009, SEC-14). Every token the client
// may not or need not revoke — unknown, malformed, expired, already
// revoked, another client's — gets the same 200 with an empty body; only
// a failed client authentication (401), a malformed request (400) or an
// unreachable revocation store (503) differ.
func (e *tokenInfoEndpoints) revoke(w http.ResponseWriter, r *http.Request) {
	f, err := readTokenForm(r)
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	c, err := e.auth.Authenticate(r.Context(), f.client, provider.UseRevoke)
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	if f.token == "" {
		writeOAuthError(w, r, e.log, provider.InvalidRequest("token is required"))
		return
	}
	if err := e.accounts.RevokeToken(r.Context(), f.token, c.ID); err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
}

package web

import (
	"encoding/json"
	"net/http"

	"user-registry/provider"
)

// exchangeParams are the token-exchange parameters of a token request
// (RFC 8693 §2.1).
type exchangeParams struct {
	subjectToken, subjectTokenType, requestedTokenType, actorToken, actorTokenType string
}

// readExchangeParams reads them from a form through single (each at most
// once).
func readExchangeParams(single func(string) (string, error)) (exchangeParams, error) {
	var p exchangeParams
	for _, f := range []struct {
		name string
		dst  *string
	}{{"subject_token", &p.subjectToken}, {"subject_token_type", &p.subjectTokenType},
		{"requested_token_type", &p.requestedTokenType}, {"actor_token", &p.actorToken},
		{"actor_token_type", &p.actorTokenType}} {
		v, err := single(f.name)
		if err != nil {
			return p, err
		}
		*f.dst = v
	}
	return p, nil
}

// exchangeResponse is the RFC 8693 §2.2.1 body plus our domain (SPEC §11).
type exchangeResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int    `json:"expires_in"`
	Scope           string `json:"scope"`
	Domain          string `json:"domain"`
}

// serveExchange runs the token-exchange grant of POST /oauth2/token. It
// authenticates no client: the subject token is the credential, checked by
// provider.Federation.Exchange.
func (e *tokenEndpoint) serveExchange(w http.ResponseWriter, r *http.Request, req *tokenRequest) {
	if e.exchange == nil {
		writeOAuthError(w, r, e.log, provider.ErrUnsupportedGrant)
		return
	}
	p := req.exchange
	actor := p.actorToken
	if actor == "" {
		actor = p.actorTokenType // a type without a token is delegation asked for too
	}
	t, err := e.exchange.Exchange(r.Context(), provider.ExchangeRequest{
		SubjectToken: p.subjectToken, SubjectTokenType: p.subjectTokenType,
		RequestedTokenType: p.requestedTokenType, ActorToken: actor,
		Scope: req.scope, Domain: req.domain, Audience: req.audience,
	})
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(exchangeResponse{
		AccessToken: t.AccessToken, IssuedTokenType: provider.TokenTypeAccessToken, TokenType: "Bearer",
		ExpiresIn: int(t.ExpiresIn.Seconds()), Scope: t.Scope, Domain: t.Domain,
	})
}

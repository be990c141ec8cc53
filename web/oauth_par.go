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

// Pushed authorization requests (RFC 9126, SPEC §12): POST /oauth2/par,
// and the request_uri side of /oauth2/authorize and the consent form. The
// rules (validation, single use, binding to the client, lifetimes) are
// provider.CodeFlow's (provider/par.go); this file reads and writes HTTP.

// routesPAR registers POST /oauth2/par. It needs client authentication
// (ClientAuth) besides the code flow.
func (s *server) routesPAR(r *mux.Router) {
	if s.cfg.ClientAuth == nil {
		return
	}
	r.Handle("/oauth2/par", &parEndpoint{log: s.log, auth: s.cfg.ClientAuth, flow: s.cfg.CodeFlow}).Methods(http.MethodPost)
	s.oauthWrongMethod(r, "POST", "/oauth2/par")
}

// parEndpoint serves POST /oauth2/par. The client authenticates exactly as
// at the token endpoint (the same parsing, provider.ClientAuth, and so
// the same per-client rate limit and body limit); the rest of the form
// is the authorization request. Every answer is JSON, never a redirect.
type parEndpoint struct {
	log  *slog.Logger
	auth *provider.ClientAuth
	flow *provider.CodeFlow
}

// parResponse is the 201 body of RFC 9126 §2.2.
type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

func (e *parEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, creds, err := readPushRequest(r)
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	c, err := e.auth.Authenticate(r.Context(), creds, provider.UsePushedAuthorization)
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	pushed, err := e.flow.Push(r.Context(), c, authorizeParams(form), form)
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusCreated, parResponse{RequestURI: pushed.RequestURI, ExpiresIn: int(pushed.ExpiresIn.Seconds())})
}

// readPushRequest reads the form body of a push and its client
// credentials. The credentials are read by readTokenRequest over the same
// bytes, so a push authenticates exactly like a token request (its
// Content-Type, size limit and one-method rule included).
func readPushRequest(r *http.Request) (url.Values, provider.ClientCredentials, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
	if err != nil {
		return nil, provider.ClientCredentials{}, provider.InvalidRequest("Unreadable request body")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	req, err := readTokenRequest(r, false)
	if err != nil {
		return nil, provider.ClientCredentials{}, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, provider.ClientCredentials{}, provider.InvalidRequest("Malformed form body")
	}
	return form, req.client, nil
}

// pushedQuery returns the parameters of an authorization request: for one
// with a request_uri, the pushed ones (the URL's others are ignored, RFC
// 9126 §4), taken when take is set; else q itself. Errors are
// provider.CodeFlow.PushedParams's (an error page, or a store failure).
func (s *server) pushedQuery(r *http.Request, q url.Values, take bool) (url.Values, error) {
	uri := q.Get("request_uri")
	if uri == "" {
		return q, nil
	}
	if len(q["request_uri"]) > 1 || len(q["client_id"]) > 1 {
		return nil, &provider.AuthorizeError{Code: "invalid_request", Description: "The request repeats request_uri or client_id."}
	}
	return s.cfg.CodeFlow.PushedParams(r.Context(), q.Get("client_id"), uri, take)
}

// continuationQuery is the query the login page and the consent form
// carry to continue the authorization request q: the request's own query,
// or for a pushed request (whose request_uri is used up) a continuation
// (provider.CodeFlow.ContinuePushed).
func (s *server) continuationQuery(r *http.Request, q url.Values) (string, error) {
	if q.Get("request_uri") == "" {
		return r.URL.RawQuery, nil
	}
	return s.cfg.CodeFlow.ContinuePushed(r.Context(), q)
}

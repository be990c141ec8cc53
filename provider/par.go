package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"user-registry/storage"
)

// Pushed authorization requests (RFC 9126, SPEC §12, SEC-68). A client
// posts its authorization parameters to /oauth2/par, authenticated as at
// the token endpoint; they are validated as /oauth2/authorize would and
// stored in the session store under a random request_uri, which the
// browser then brings to /oauth2/authorize with the client_id. It works
// once, for that client only, for PushedRequestTTL.
//
// The browser may still have to sign in and consent after that single
// use. The flow continues under a continuation: the same parameters,
// stored again under a fresh request_uri for ContinuationTTL, which the
// login page's next and the consent form carry instead of the parameters
// themselves. A continuation is single use too and bound to the same
// client, and it never reaches the client: it lives only in our own pages.

const (
	// PushedRequestTTL is the lifetime of a pushed request's request_uri
	// (expires_in of the /oauth2/par answer).
	PushedRequestTTL = 60 * time.Second
	// ContinuationTTL is the lifetime of a continuation: the time a user
	// has to sign in, or to decide on the consent page.
	ContinuationTTL = 10 * time.Minute
	// RequestURIPrefix starts every request_uri (RFC 9126 §2.2).
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
)

// requestURIBytes is the entropy of a request_uri: 256 bits.
const requestURIBytes = 32

// ErrUnsupportedResponseType: a pushed request with a response_type other
// than code (unsupported_response_type, 400).
var ErrUnsupportedResponseType error = &clientError{msg: "Only response_type=code is supported"}

// Pushed is the answer to a pushed authorization request.
type Pushed struct {
	RequestURI string
	ExpiresIn  time.Duration
}

// credentialParams are the parameters of a push that authenticate the
// client: never stored with the request.
var credentialParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// Push validates the authorization request p of client c (authenticated
// by the caller, as at the token endpoint) exactly as ValidateAuthorize
// would, and stores query, the parameters as sent (p is parsed from it),
// under a new request_uri for PushedRequestTTL. p.ClientID, when given,
// must name c. The client's credentials in query are not stored.
//
// Errors are for a JSON answer, never a redirect (RFC 9126 §2.3): a
// variant of ErrInvalidRequest (a request_uri in the push, another
// client_id, an unregistered redirect URI, bad PKCE, ...), ErrInvalidScope,
// ErrUnauthorizedClient (no authorization_code grant),
// ErrUnsupportedResponseType; others wrap storage.ErrUnavailable.
func (f *CodeFlow) Push(ctx context.Context, c storage.Client, p AuthorizeParams, query url.Values) (Pushed, error) {
	switch {
	case p.RequestURI != "":
		return Pushed{}, InvalidRequest("request_uri is not allowed in a pushed authorization request")
	case p.ClientID != "" && p.ClientID != c.ID:
		return Pushed{}, InvalidRequest("client_id does not name the authenticated client")
	}
	p.ClientID = c.ID
	if _, err := f.validateAuthorize(ctx, p, true); err != nil {
		return Pushed{}, pushError(err)
	}
	stored := url.Values{}
	for k, v := range query {
		stored[k] = v
	}
	for _, k := range credentialParams {
		delete(stored, k)
	}
	stored.Set("client_id", c.ID)
	uri, err := f.savePushed(ctx, c.ID, stored, PushedRequestTTL)
	if err != nil {
		return Pushed{}, err
	}
	return Pushed{RequestURI: uri, ExpiresIn: PushedRequestTTL}, nil
}

// pushError turns a refusal of ValidateAuthorize into the JSON error of
// the push endpoint, with the same code and description.
func pushError(err error) error {
	var ae *AuthorizeError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.Code {
	case "invalid_scope":
		return clientErrorf(ErrInvalidScope, ae.Description)
	case "unauthorized_client":
		return clientErrorf(ErrUnauthorizedClient, ae.Description)
	case "unsupported_response_type":
		return clientErrorf(ErrUnsupportedResponseType, ae.Description)
	}
	return InvalidRequest(ae.Description)
}

// savePushed stores q for client clientID under a new request_uri, for
// ttl, and returns the request_uri.
func (f *CodeFlow) savePushed(ctx context.Context, clientID string, q url.Values, ttl time.Duration) (string, error) {
	uri := RequestURIPrefix + randomText(requestURIBytes)
	err := f.sessions.SavePushedRequest(ctx, storage.PushedRequest{
		Hash: HashSecret(uri), ClientID: clientID, Query: q.Encode(), ExpiresAt: f.now().Add(ttl),
	})
	if err != nil {
		return "", fmt.Errorf("provider: save pushed request: %w", err)
	}
	return uri, nil
}

// errUnknownRequestURI is the error page of a request_uri that is
// unknown, expired, used, or another client's: the redirect URI of the
// request is unknown, so the browser cannot be sent back (RFC 9101 §6.2).
func errUnknownRequestURI() error {
	return pageError("invalid_request_uri",
		"The sign-in request has expired or was already used. Please go back to the application and try again.")
}

// PushedParams returns the parameters of the pushed request (or the
// continuation) requestURI of client clientID, in place of the
// authorization request's own (RFC 9126 §4: the request's other
// parameters are ignored), with request_uri set so that ValidateAuthorize
// knows they were pushed. take consumes it (the authorization endpoint,
// the consent form); without take it is only read (a page that needs to
// know where the flow goes).
//
// Returns an *AuthorizeError for the error page when the request_uri is
// unknown, expired, used or another client's; other errors wrap
// storage.ErrUnavailable.
func (f *CodeFlow) PushedParams(ctx context.Context, clientID, requestURI string, take bool) (url.Values, error) {
	if clientID == "" {
		return nil, pageError("invalid_request", "The request has no client_id.")
	}
	if !strings.HasPrefix(requestURI, RequestURIPrefix) || len(requestURI) > 256 {
		return nil, errUnknownRequestURI()
	}
	get := f.sessions.PushedRequest
	if take {
		get = f.sessions.TakePushedRequest
	}
	r, err := get(ctx, HashSecret(requestURI), clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errUnknownRequestURI()
	}
	if err != nil {
		return nil, fmt.Errorf("provider: pushed request: %w", err)
	}
	q, err := url.ParseQuery(r.Query)
	if err != nil { // we encoded it; cannot happen
		return nil, errUnknownRequestURI()
	}
	q.Set("request_uri", requestURI)
	return q, nil
}

// ContinuePushed stores the parameters q of a pushed request again (those
// PushedParams returned) under a new request_uri for ContinuationTTL, and
// returns the query that continues the flow with it:
// client_id=…&request_uri=…. Errors wrap storage.ErrUnavailable.
func (f *CodeFlow) ContinuePushed(ctx context.Context, q url.Values) (string, error) {
	stored := url.Values{}
	for k, v := range q {
		stored[k] = v
	}
	stored.Del("request_uri")
	clientID := stored.Get("client_id")
	uri, err := f.savePushed(ctx, clientID, stored, ContinuationTTL)
	if err != nil {
		return "", err
	}
	return url.Values{"client_id": {clientID}, "request_uri": {uri}}.Encode(), nil
}

package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"user-registry/storage"
)

// Scopes of the authorization code flow (SPEC §7). A client that registered
// scopes may ask only for those; one that registered none may ask for any of
// these.
const (
	ScopeOpenID        = "openid"
	ScopeEmail         = "email"
	ScopePhone         = "phone"
	ScopeProfile       = "profile"
	ScopeOfflineAccess = "offline_access"
)

// userScopes are the scopes a user can grant a third-party app, in the
// order the consent page lists them.
var userScopes = []string{ScopeOpenID, ScopeEmail, ScopePhone, ScopeProfile, ScopeOfflineAccess}

// maxMaxAge caps max_age (a century) so it converts to a Duration.
const maxMaxAge = 100 * 365 * 24 * 3600

// AuthorizeParams are the parameters of GET /oauth2/authorize as sent.
// Repeated names the first parameter that appeared more than once (RFC 6749
// §3.1: parameters must not be repeated), "" when none did.
type AuthorizeParams struct {
	ResponseType        string
	ClientID            string
	RedirectURI         string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	ResponseMode        string
	Prompt              string
	// ACRValues and MaxAge ask for a sign-in of a class or age (OIDC
	// Core §3.1.2.1, SPEC §10): "mfa" asks for a second factor; MaxAge
	// is whole seconds as sent ("" = none).
	ACRValues string
	MaxAge    string
	Repeated  string
	// RequestURI is set when the parameters are those of a pushed request
	// (CodeFlow.PushedParams, par.go).
	RequestURI string
}

// AuthorizeRequest is a validated authorization request.
type AuthorizeRequest struct {
	Client        storage.Client
	RedirectURI   string   // as sent (for a loopback URI, with its port)
	Scopes        []string // requested scopes, deduplicated, in userScopes order
	State         string
	Nonce         string
	CodeChallenge string // S256 challenge; "" when the client sent none
	Prompt        string // "none" asks for no UI (OIDC Core §3.1.2.1)
	// WantMFA: acr_values asked for "mfa", a second factor (SPEC §10).
	WantMFA bool
	// MaxAge is the oldest sign-in, in seconds, the client accepts; -1
	// when it set none.
	MaxAge int64
}

// Scope returns the space-separated scope string.
func (r AuthorizeRequest) Scope() string { return strings.Join(r.Scopes, " ") }

// SuccessURL is where the browser goes with a code: the redirect URI with
// code and state appended to its own query (RFC 6749 §4.1.2).
func (r AuthorizeRequest) SuccessURL(code string) string {
	return appendQuery(r.RedirectURI, url.Values{"code": {code}}, r.State)
}

// DenyURL is where the browser goes when the user refuses (access_denied).
func (r AuthorizeRequest) DenyURL() string {
	return (&AuthorizeError{Code: "access_denied", Description: "The user denied the request",
		RedirectURI: r.RedirectURI, State: r.State}).URL()
}

// AuthorizeError is a failed authorization request (RFC 6749 §4.1.2.1).
// With RedirectURI set it is sent back to the client (URL); without, the
// client or redirect URI could not be trusted and the user must see it on
// an error page instead: never redirect to an unverified URI.
type AuthorizeError struct {
	Code        string // RFC 6749 error code: invalid_request, invalid_scope, ...
	Description string // safe to show and to send
	RedirectURI string // "" → error page
	State       string
}

func (e *AuthorizeError) Error() string { return "authorize: " + e.Code + ": " + e.Description }

// UserMessage returns the description, for pages.
func (e *AuthorizeError) UserMessage() string { return e.Description }

// URL returns the redirect URI with error, error_description and state.
func (e *AuthorizeError) URL() string {
	return appendQuery(e.RedirectURI, url.Values{"error": {e.Code}, "error_description": {e.Description}}, e.State)
}

// appendQuery adds v (and state, when not empty, exactly as received) to
// uri, keeping the registered URI's own query parameters.
func appendQuery(uri string, v url.Values, state string) string {
	u, err := url.Parse(uri)
	if err != nil { // validated before; cannot happen
		return uri
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// pageError is an AuthorizeError for the error page.
func pageError(code, desc string) error { return &AuthorizeError{Code: code, Description: desc} }

// maxParamLen bounds state and nonce: they are echoed into URLs and tokens.
const maxParamLen = 1024

// ValidateAuthorize checks an authorization request in the order of RFC
// 6749 §4.1.2.1: first the client and the redirect URI (failures are
// *AuthorizeError without RedirectURI: show a page), then the rest
// (*AuthorizeError with RedirectURI: send the browser back). Rules:
//
//   - response_type must be "code"; response_mode, if given, "query".
//   - redirect_uri is required and must equal a registered URI exactly,
//     except that for a public client a loopback IP URI (http://127.0.0.1,
//     http://[::1]) matches on any port (RFC 8252 §7.3).
//   - the client must have the authorization_code grant.
//   - scope: each of openid, email, phone, profile, offline_access, and
//     only scopes the client registered if it registered any; empty means
//     the client's registered user scopes, or "openid" when it registered
//     none. offline_access needs the refresh_token grant.
//   - PKCE: code_challenge_method S256 only (plain is refused), the
//     challenge 43 base64url characters; public clients must send one.
//
// A client registered with RequirePAR must have pushed the request
// (RequestURI set), else invalid_request (RFC 9126 §5).
//
// Other errors wrap storage.ErrUnavailable.
func (f *CodeFlow) ValidateAuthorize(ctx context.Context, p AuthorizeParams) (AuthorizeRequest, error) {
	return f.validateAuthorize(ctx, p, false)
}

// validateAuthorize is ValidateAuthorize; push is set while the request
// is being pushed (par.go), which RequirePAR allows.
func (f *CodeFlow) validateAuthorize(ctx context.Context, p AuthorizeParams, push bool) (AuthorizeRequest, error) {
	if p.ClientID == "" {
		return AuthorizeRequest{}, pageError("invalid_request", "The request has no client_id.")
	}
	c, err := f.clients.Lookup(ctx, p.ClientID)
	if errors.Is(err, ErrBadClient) {
		return AuthorizeRequest{}, pageError("invalid_client", "The application asking you to sign in is not registered here.")
	}
	if err != nil {
		return AuthorizeRequest{}, fmt.Errorf("provider: authorize: %w", err)
	}
	if p.RedirectURI == "" {
		return AuthorizeRequest{}, pageError("invalid_request", "The request has no redirect_uri.")
	}
	if p.Repeated == "client_id" || p.Repeated == "redirect_uri" {
		return AuthorizeRequest{}, pageError("invalid_request", "The request repeats "+p.Repeated+".")
	}
	if !redirectURIMatches(c, p.RedirectURI) {
		return AuthorizeRequest{}, pageError("invalid_request", "The redirect URI is not registered for this application.")
	}
	// From here on the redirect URI is trusted: errors go back to it.
	state := p.State
	if len(state) > maxParamLen {
		state = ""
	}
	fail := func(code, desc string) (AuthorizeRequest, error) {
		return AuthorizeRequest{}, &AuthorizeError{Code: code, Description: desc, RedirectURI: p.RedirectURI, State: state}
	}
	switch {
	case p.Repeated != "":
		return fail("invalid_request", "Parameter "+p.Repeated+" is repeated")
	case len(p.State) > maxParamLen || len(p.Nonce) > maxParamLen:
		return fail("invalid_request", "state and nonce must be at most 1024 characters")
	case p.ResponseType == "":
		return fail("invalid_request", "response_type is required")
	case p.ResponseType != "code":
		return fail("unsupported_response_type", "Only response_type=code is supported")
	case p.ResponseMode != "" && p.ResponseMode != "query":
		return fail("invalid_request", "Only response_mode=query is supported")
	case !slices.Contains(c.GrantTypes, GrantAuthorizationCode):
		return fail("unauthorized_client", "The client is not allowed to use the authorization code flow")
	case c.RequirePAR && !push && p.RequestURI == "":
		return fail("invalid_request", "This client must push its authorization requests to the pushed authorization request endpoint")
	}
	scopes, msg := f.requestedScopes(c, p.Scope)
	if msg != "" {
		return fail("invalid_scope", msg)
	}
	switch {
	case p.CodeChallengeMethod == "plain":
		return fail("invalid_request", "PKCE method plain is not supported; use S256")
	case p.CodeChallengeMethod != "" && p.CodeChallengeMethod != "S256":
		return fail("invalid_request", "Unsupported code_challenge_method; use S256")
	case p.CodeChallenge == "" && p.CodeChallengeMethod != "":
		return fail("invalid_request", "code_challenge_method without code_challenge")
	case p.CodeChallenge != "" && p.CodeChallengeMethod == "":
		// RFC 7636 defaults a missing method to plain, which we refuse.
		return fail("invalid_request", "code_challenge_method=S256 is required (plain is not supported)")
	case p.CodeChallenge != "" && !validS256Challenge(p.CodeChallenge):
		return fail("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
	case p.CodeChallenge == "" && c.Public:
		return fail("invalid_request", "PKCE (code_challenge with S256) is required for public clients")
	}
	switch p.Prompt {
	case "", "none", "login", "consent", "select_account":
	default:
		return fail("invalid_request", "Unsupported prompt value")
	}
	maxAge := int64(-1)
	if p.MaxAge != "" {
		n, err := strconv.ParseInt(p.MaxAge, 10, 64)
		if err != nil || n < 0 {
			return fail("invalid_request", "max_age must be a whole number of seconds")
		}
		maxAge = min(n, maxMaxAge)
	}
	// acr_values are voluntary (OIDC Core §5.5.1.1): an unknown class is
	// not an error, only "mfa" asks for more than a password.
	wantMFA := slices.Contains(strings.Fields(p.ACRValues), ACRMFA)
	return AuthorizeRequest{
		Client: c, RedirectURI: p.RedirectURI, Scopes: scopes, State: p.State, Nonce: p.Nonce,
		CodeChallenge: p.CodeChallenge, Prompt: p.Prompt, WantMFA: wantMFA, MaxAge: maxAge,
	}, nil
}

// requestedScopes parses scope for client c; msg is the invalid_scope
// description when the request is refused.
func (f *CodeFlow) requestedScopes(c storage.Client, scope string) (scopes []string, msg string) {
	asked := strings.Fields(scope)
	if len(asked) == 0 {
		for _, s := range c.Scopes {
			if slices.Contains(userScopes, s) && (s != ScopeOfflineAccess || slices.Contains(c.GrantTypes, GrantRefreshToken)) {
				asked = append(asked, s)
			}
		}
		if len(asked) == 0 {
			asked = []string{ScopeOpenID}
		}
	}
	for _, s := range asked {
		if !slices.Contains(userScopes, s) {
			return nil, fmt.Sprintf("Unknown scope %.64q (openid, email, phone, profile, offline_access)", s)
		}
		if len(c.Scopes) > 0 && !slices.Contains(c.Scopes, s) {
			return nil, fmt.Sprintf("Scope %q is not registered for this client", s)
		}
		if s == ScopeOfflineAccess && !slices.Contains(c.GrantTypes, GrantRefreshToken) {
			return nil, "offline_access needs the refresh_token grant, which this client does not have"
		}
	}
	for _, s := range userScopes { // canonical order, duplicates dropped
		if slices.Contains(asked, s) {
			scopes = append(scopes, s)
		}
	}
	return scopes, ""
}

// redirectURIMatches reports whether got is one of c's redirect URIs:
// string equality, or for a public client a loopback IP URI differing only
// in its port (RFC 8252 §7.3: native apps listen on an ephemeral port).
func redirectURIMatches(c storage.Client, got string) bool {
	if slices.Contains(c.RedirectURIs, got) {
		return true
	}
	if !c.Public {
		return false
	}
	g, err := url.Parse(got)
	if err != nil || g.Scheme != "http" || !isLoopbackIP(g.Hostname()) || g.User != nil || g.Fragment != "" ||
		strings.Contains(got, "#") {
		return false
	}
	for _, reg := range c.RedirectURIs {
		r, err := url.Parse(reg)
		if err != nil || r.Scheme != "http" || !isLoopbackIP(r.Hostname()) {
			continue
		}
		if r.Hostname() == g.Hostname() && r.EscapedPath() == g.EscapedPath() && r.RawQuery == g.RawQuery &&
			r.ForceQuery == g.ForceQuery && validPort(g.Port()) {
			return true
		}
	}
	return false
}

// isLoopbackIP accepts the loopback literals RFC 8252 §7.3 names; not
// "localhost", whose resolution the app does not control (§8.3).
func isLoopbackIP(host string) bool {
	return host == "127.0.0.1" || host == "::1"
}

func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535 && strings.Trim(p, "0123456789") == ""
}

// validS256Challenge: BASE64URL(SHA-256(verifier)) is 43 characters.
func validS256Challenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBase64URL(s[i]) {
			return false
		}
	}
	return true
}

func isBase64URL(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

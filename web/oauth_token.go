package web

import (
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"user-registry/provider"
)

// tokenRequest is a parsed token request. Only the POST body and the
// Authorization header are read — never the query string (SEC-22).
type tokenRequest struct {
	grantType string
	client    provider.ClientCredentials
	scope     string
	domain    string   // optional; must be the client's own (SEC-21)
	audience  []string // audience and resource (RFC 8707) values
	// authorization_code and refresh_token grants (oauth_grants.go).
	code, redirectURI, codeVerifier, refreshToken string
	// the token-exchange grant (oauth_exchange.go).
	exchange exchangeParams
	// the device_code grant (oauth_device.go).
	deviceCode string
	proof      string // the DPoP header; "" for none (web/dpop.go)
}

// tokenEndpoint serves POST /oauth2/token and POST /authority-token.
type tokenEndpoint struct {
	log      *slog.Logger
	auth     *provider.ClientAuth
	jsonBody bool                 // /authority-token also takes a JSON body
	grants   *codeGrants          // authorization_code and refresh_token; nil: unsupported
	exchange *provider.Federation // token exchange (oauth_exchange.go); nil: unsupported
	device   *provider.DeviceFlow // the device_code grant (oauth_device.go); nil: unsupported
}

func (e *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := readTokenRequest(r, e.jsonBody)
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	if req.grantType == "" && e.jsonBody {
		req.grantType = provider.GrantClientCredentials
	}
	var tok provider.AuthorityToken
	switch req.grantType {
	case "":
		err = provider.InvalidRequest("grant_type is required")
	case provider.GrantClientCredentials:
		tok, err = e.auth.ClientCredentialsGrant(r.Context(), req.client,
			provider.AuthorityRequest{Scope: req.scope, Domain: req.domain, Audience: req.audience,
				Proof: tokenEndpointProof(r, req.proof)})
	case provider.GrantAuthorizationCode, provider.GrantRefreshToken:
		if e.grants != nil {
			e.grants.serve(w, r, e.log, &req)
			return
		}
		err = provider.ErrUnsupportedGrant
	case provider.GrantTokenExchange:
		e.serveExchange(w, r, &req)
		return
	case provider.GrantDeviceCode:
		e.serveDevice(w, r, &req)
		return
	// password and implicit are never supported (SEC-22).
	default:
		err = provider.ErrUnsupportedGrant
	}
	if err != nil {
		writeOAuthError(w, r, e.log, err)
		return
	}
	writeTokenResponse(w, tok)
}

// writeTokenResponse writes the RFC 6749 §5.1 success body. It is built by
// hand: every value is ASCII that needs no JSON escaping (a JWS is
// base64url and dots, scope tokens exclude '"' and '\', domains are
// punycode), and this is the hottest response of the server.
func writeTokenResponse(w http.ResponseWriter, t provider.AuthorityToken) {
	b := make([]byte, 0, len(t.AccessToken)+len(t.Scope)+len(t.Domain)+96)
	b = append(b, `{"access_token":"`...)
	b = append(b, t.AccessToken...)
	b = append(b, `","token_type":"`...)
	if t.TokenType == provider.TokenTypeDPoP {
		b = append(b, provider.TokenTypeDPoP...)
	} else {
		b = append(b, provider.TokenTypeBearer...)
	}
	b = append(b, `","expires_in":`...)
	b = strconv.AppendInt(b, int64(t.ExpiresIn.Seconds()), 10)
	b = append(b, `,"scope":"`...)
	b = append(b, t.Scope...)
	b = append(b, `","domain":"`...)
	b = append(b, t.Domain...)
	b = append(b, "\"}\n"...)
	h := w.Header()
	h["Content-Type"] = hdrJSON // shared values: see setSecurityHeaders
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// authorityJSON is the JSON body /authority-token accepts (SPEC §5).
type authorityJSON struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scope        string `json:"scope"`
	Audience     string `json:"audience"`
	Resource     string `json:"resource"`
	Domain       string `json:"domain"`
	// private_key_jwt (SPEC §11).
	ClientAssertionType string `json:"client_assertion_type"`
	ClientAssertion     string `json:"client_assertion"`
}

const formMediaType = "application/x-www-form-urlencoded"

// maxFormBody bounds a token request body like a JSON body (SEC-36).
const maxFormBody = maxJSONBody

// readTokenRequest parses the body (form, or JSON when allowed) and the
// client credentials (clientCredentials).
func readTokenRequest(r *http.Request, allowJSON bool) (tokenRequest, error) {
	var req tokenRequest
	var bodyID, bodySecret, assertType, assertion string
	ct := r.Header.Get("Content-Type")
	mt := ct
	if ct != formMediaType { // the common case needs no parsing
		mt, _, _ = mime.ParseMediaType(ct)
	}
	switch {
	case mt == "application/json" && allowJSON:
		var j authorityJSON
		if err := decodeJSON(r, &j); err != nil {
			return req, err // invalid_request (400) via the error table
		}
		req = tokenRequest{grantType: j.GrantType, scope: j.Scope, domain: j.Domain}
		bodyID, bodySecret = j.ClientID, j.ClientSecret
		assertType, assertion = j.ClientAssertionType, j.ClientAssertion
		for _, a := range []string{j.Audience, j.Resource} {
			if a != "" {
				req.audience = append(req.audience, a)
			}
		}
	case mt == formMediaType || (ct == "" && r.ContentLength <= 0):
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
		if err != nil {
			return req, provider.InvalidRequest("Unreadable request body")
		}
		if len(body) > maxFormBody {
			return req, provider.InvalidRequest("Request body too large")
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return req, provider.InvalidRequest("Malformed form body")
		}
		single := func(name string) (string, error) {
			v := form[name]
			if len(v) > 1 {
				return "", provider.InvalidRequest("Parameter " + name + " is repeated")
			}
			if len(v) == 0 {
				return "", nil
			}
			return v[0], nil
		}
		for _, p := range []struct {
			name string
			dst  *string
		}{{"grant_type", &req.grantType}, {"scope", &req.scope}, {"domain", &req.domain},
			{"client_id", &bodyID}, {"client_secret", &bodySecret},
			{"code", &req.code}, {"redirect_uri", &req.redirectURI}, {"code_verifier", &req.codeVerifier},
			{"refresh_token", &req.refreshToken}, {"device_code", &req.deviceCode},
			{"client_assertion_type", &assertType}, {"client_assertion", &assertion}} {
			if *p.dst, err = single(p.name); err != nil {
				return req, err
			}
		}
		req.audience = append(form["audience"], form["resource"]...)
		if req.exchange, err = readExchangeParams(single); err != nil {
			return req, err
		}
	default:
		return req, provider.InvalidRequest("Content-Type must be application/x-www-form-urlencoded")
	}

	var creds provider.ClientCredentials
	var err error
	if assertType != "" || assertion != "" {
		creds, err = assertionCredentials(r, bodyID, bodySecret, assertType, assertion)
	} else {
		creds, err = clientCredentials(r, bodyID, bodySecret)
	}
	if err != nil {
		return req, err
	}
	req.client = creds
	req.proof, err = dpopHeader(r)
	return req, err
}

// clientCredentials extracts the client credentials of a token,
// revocation or introspection request, for provider.ClientAuth to check:
// client_secret_basic (the Authorization header) or client_secret_post
// (client_id and client_secret in the body), never both (RFC 6749 §2.3: one
// method per request); a client_id without a secret is method none. A new
// method's parameters are read here, and checked in provider.ClientAuth.
func clientCredentials(r *http.Request, bodyID, bodySecret string) (provider.ClientCredentials, error) {
	id, secret, basic, err := basicCredentials(r)
	if err != nil {
		return provider.ClientCredentials{}, err
	}
	switch {
	case basic && bodySecret != "":
		return provider.ClientCredentials{}, provider.InvalidRequest("Use one client authentication method: Basic or client_secret in the body, not both")
	case basic && bodyID != "" && bodyID != id:
		return provider.ClientCredentials{}, provider.InvalidRequest("client_id does not match the Basic credentials")
	case basic && secret != "":
		return provider.ClientCredentials{ID: id, Secret: secret, Method: provider.AuthSecretBasic}, nil
	case basic:
		return provider.ClientCredentials{ID: id, Method: provider.AuthNone}, nil
	case bodySecret != "":
		return provider.ClientCredentials{ID: bodyID, Secret: bodySecret, Method: provider.AuthSecretPost}, nil
	default:
		return provider.ClientCredentials{ID: bodyID, Method: provider.AuthNone}, nil
	}
}

// assertionCredentials reads private_key_jwt (RFC 7523 §2.2): the
// assertion is the one credential of the request (a Basic header or a
// client_secret besides it is two methods at once), client_id is optional,
// and the type must be jwt-bearer (anything else fails the client
// authentication, SPEC §11). The path goes along: the assertion's aud may
// name the endpoint's URL.
func assertionCredentials(r *http.Request, bodyID, bodySecret, assertType, assertion string) (provider.ClientCredentials, error) {
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "basic ") || bodySecret != "" {
		return provider.ClientCredentials{}, provider.InvalidRequest("Use one client authentication method: a client assertion or a secret, not both")
	}
	if assertType != provider.ClientAssertionType || assertion == "" {
		return provider.ClientCredentials{}, provider.ErrBadClient
	}
	return provider.ClientCredentials{ID: bodyID, Method: provider.AuthPrivateKeyJWT, Assertion: assertion, Endpoint: r.URL.Path}, nil
}

// basicCredentials reads client_secret_basic: the id and secret are
// form-urlencoded before the Base64 step (RFC 6749 §2.3.1), which
// net/http's BasicAuth does not undo. A malformed Basic header is a failed
// client authentication.
func basicCredentials(r *http.Request) (id, secret string, ok bool, err error) {
	h := r.Header.Get("Authorization")
	if len(h) < 6 || !strings.EqualFold(h[:6], "basic ") {
		return "", "", false, nil
	}
	rawID, rawSecret, ok := r.BasicAuth()
	if !ok {
		return "", "", false, provider.ErrBadClient
	}
	if id, err = url.QueryUnescape(rawID); err != nil {
		return "", "", false, provider.ErrBadClient
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", false, provider.ErrBadClient
	}
	return id, secret, true, nil
}

package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"user-registry/provider"
)

// tokenErrorCodes are the error codes the token endpoints may answer (RFC
// 6749 §5.2, RFC 8707 §2).
var tokenErrorCodes = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
	"unsupported_grant_type", "invalid_scope", "invalid_target"}

// FuzzTokenRequest posts arbitrary bodies, content types and Basic
// credentials to POST /oauth2/token and /authority-token through the real
// handler. In the body and the credentials "{id}"/"{secret}" stand for a
// client_credentials client, "{code_id}"/"{code_secret}" for a code-flow
// client, and "{refresh}"/"{code}" for its refresh token and a code, so
// the fuzzer gets past client authentication. Every answer is JSON and
// no-store, and:
//   - a refusal is {"error", "error_description"?} with a known code,
//     401 exactly for invalid_client (with WWW-Authenticate), else 400;
//   - a token is only issued to a client whose secret the request carried,
//     and it verifies;
//   - credentials in the query string never turn a refusal into anything
//     else (SEC-22: the query is never read).
func FuzzTokenRequest(f *testing.F) {
	form := "application/x-www-form-urlencoded"
	verifier, _ := pkce()
	for _, s := range []struct {
		authority bool
		ct        string
		body      string
		basic     string
	}{
		{false, form, "grant_type=client_credentials", "{id}:{secret}"},
		{false, form, "grant_type=client_credentials&client_id={id}&client_secret={secret}&scope=read", ""},
		{true, "application/json", `{"client_id":"{id}","client_secret":"{secret}","audience":"https://api.example"}`, ""},
		{true, "application/json; charset=utf-8", `{"grant_type":"client_credentials","domain":"example.com"}`, "{id}:{secret}"},
		{false, form, "grant_type=refresh_token&refresh_token={refresh}", "{code_id}:{code_secret}"},
		{false, form, "grant_type=authorization_code&code={code}&redirect_uri=" + url.QueryEscape(flowRedirect) + "&code_verifier=" + verifier, "{code_id}:{code_secret}"},
		{false, form, "grant_type=client_credentials&client_id={id}", "{id}:{secret}"},
		{false, form, "grant_type=client_credentials&grant_type=password", "{id}:{secret}"},
		{false, form, "grant_type=password&username=a&password=b", "{id}:{secret}"},
		{false, "text/plain", "grant_type=client_credentials", "{id}:{secret}"},
		{false, "", "", ""},
		{false, form, "%zz", "%zz:%"},
		{true, "application/json", `{"client_id":1}`, ""},
		{true, "application/json", `{"grant_type":"client_credentials"}{}`, "{id}:{secret}"},
	} {
		f.Add(s.authority, s.ct, s.body, s.basic)
	}
	e := newFlowEnv(f, "sqlite+memory")
	id, secret := e.client(f, provider.ClientSpec{Domain: "example.com", Scopes: []string{"read", "write"}, Audiences: []string{"https://api.example"}})
	codeID, codeSecret := e.codeClient(f, provider.ClientSpec{Trusted: true})
	b := e.browser(f)
	params := authParams(codeID, flowRedirect, verifier)
	tokens := e.exchange(f, codeID, codeSecret, url.Values{"code": {b.getCode(params)},
		"redirect_uri": {flowRedirect}, "code_verifier": {verifier}})
	refresh, _ := tokens.json["refresh_token"].(string)
	if refresh == "" {
		f.Fatalf("no refresh token: %s", tokens.body)
	}
	fill := strings.NewReplacer("{id}", id, "{secret}", secret, "{code_id}", codeID, "{code_secret}", codeSecret,
		"{refresh}", refresh, "{code}", b.getCode(params))
	post := func(path, ct, body, basic string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if basic != "" {
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(basic)))
		}
		rec := httptest.NewRecorder()
		e.Handler.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, authority bool, ct, body, basic string) {
		if strings.ContainsAny(ct, "\r\n") {
			return // not a header value
		}
		path := "/oauth2/token"
		if authority {
			path = "/authority-token"
		}
		rec := post(path, ct, fill.Replace(body), fill.Replace(basic))
		code := checkTokenAnswer(t, rec)
		if rec.Code == http.StatusOK {
			var ok struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &ok)
			claims, err := e.Tokens.VerifyAccess(context.Background(), ok.AccessToken, "")
			if err != nil || ok.TokenType != "Bearer" || ok.ExpiresIn <= 0 {
				t.Fatalf("200 %s: %v", rec.Body, err)
			}
			sent := body + "\x00" + basic
			if !(claims.ClientID == id && strings.Contains(sent, "{secret}") ||
				claims.ClientID == codeID && strings.Contains(sent, "{code_secret}")) {
				t.Fatalf("token for %q without its secret: body %q, basic %q", claims.ClientID, body, basic)
			}
			return
		}
		q := "?" + url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode()
		again := post(path+q, ct, fill.Replace(body), fill.Replace(basic))
		if again.Code != rec.Code || checkTokenAnswer(t, again) != code {
			t.Fatalf("query credentials changed %d %s into %d %s", rec.Code, rec.Body, again.Code, again.Body)
		}
	})
}

// checkTokenAnswer asserts the shape every token endpoint answer has and
// returns its error code ("" for a 200).
func checkTokenAnswer(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	h := rec.Header()
	if h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d: Content-Type %q, Cache-Control %q", rec.Code, h.Get("Content-Type"), h.Get("Cache-Control"))
	}
	if rec.Code == http.StatusOK {
		return ""
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%d: body %q is not a JSON object", rec.Code, rec.Body)
	}
	code, _ := body["error"].(string)
	_, hasDesc := body["error_description"].(string)
	if !slices.Contains(tokenErrorCodes, code) || len(body) != 1 && !(len(body) == 2 && hasDesc) {
		t.Fatalf("%d: body %s is not an RFC 6749 error", rec.Code, rec.Body)
	}
	want := http.StatusBadRequest
	if code == "invalid_client" {
		want = http.StatusUnauthorized
		if h.Get("WWW-Authenticate") == "" {
			t.Fatalf("401 without WWW-Authenticate")
		}
	}
	if rec.Code != want {
		t.Fatalf("%s answered %d, want %d", code, rec.Code, want)
	}
	return code
}

package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"user-registry/provider"
)

// openAPIDevice runs the device grant (SPEC §12) through the contract: the
// device authorization endpoint's answers, the polls' errors, approval on
// the /device page and the tokens.
func openAPIDevice(t *testing.T, env *mailEnv, api *apiContract, clock *deviceClock, email, pw string) {
	t.Helper()
	tv, _, err := env.Config.Clients.Create(context.Background(), provider.ClientSpec{Domain: "tv.example", Name: "TV",
		Public: true, GrantTypes: []string{provider.GrantDeviceCode, provider.GrantRefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	start := api.do(apiCall{method: "POST", path: "/oauth2/device_authorization",
		form: url.Values{"client_id": {tv.ID}, "scope": {"openid email offline_access"}}, want: 200})
	var a struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	if err := json.Unmarshal(start.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	api.do(apiCall{method: "POST", path: "/oauth2/device_authorization", form: url.Values{"client_id": {"nobody"}}, want: 401})
	api.do(apiCall{method: "POST", path: "/oauth2/device_authorization",
		form: url.Values{"client_id": {tv.ID}, "scope": {"registry:admin"}}, want: 400})

	poll := url.Values{"grant_type": {provider.GrantDeviceCode}, "client_id": {tv.ID}, "device_code": {a.DeviceCode}}
	api.do(apiCall{method: "POST", path: "/oauth2/token", form: poll, want: 400}) // authorization_pending
	api.do(apiCall{method: "POST", path: "/oauth2/token", form: poll, want: 400}) // slow_down
	b := newPageClient(t, env.testEnv)
	b.signIn(email, pw)
	page := b.get("/device?user_code=" + a.UserCode)
	done := b.post("/device/consent", url.Values{csrfField: {scrapeCSRF(t, page.body)}, "user_code": {a.UserCode},
		"action": {"approve"}})
	if done.status != http.StatusOK {
		t.Fatalf("approve = %d:\n%s", done.status, done.body)
	}
	clock.Advance(10 * time.Second)
	api.do(apiCall{method: "POST", path: "/oauth2/token", form: poll, want: 200})
	api.do(apiCall{method: "POST", path: "/oauth2/token", form: poll, want: 400}) // invalid_grant
}

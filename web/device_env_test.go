package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/sqlstore"
)

// deviceClock is the settable clock of a test's DeviceFlow. It starts at
// the real time and only moves forward, so Redis expiries set from it stay
// in the future.
type deviceClock struct {
	mu  sync.Mutex
	now time.Time
}

func newDeviceClock() *deviceClock { return &deviceClock{now: time.Now()} }

func (c *deviceClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *deviceClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// withDevice wires a DeviceFlow into the test server, over the env's
// ephemeral store (memory or Redis), with the wrong-code limit
// wrongCodes per IP and the given clock (nil: the real one). Apply it
// after withClients (it needs the clients) and withAudit. The device flow
// gets a CodeFlow of its own over an Accounts of its own (the env's are
// built after the options); both are stateless over the same stores, as
// on two nodes.
func withDevice(wrongCodes string, clock func() time.Time) envOption {
	return withDeviceDeps(wrongCodes, provider.DeviceDeps{Now: clock})
}

// withDeviceDeps is withDevice with more of the DeviceDeps (Interval,
// TTL, Now); the stores, the code flow, the limit and the issuer are the
// env's.
func withDeviceDeps(wrongCodes string, d provider.DeviceDeps) envOption {
	return func(c *Config, acfg *provider.AccountsConfig) {
		db := c.DomainAdmin.Store.(*sqlstore.Store)
		eph := c.Ready["sessions"].(ephemeralStore)
		deps := testAccountDeps(db, c.Policy, c.Tokens.(*keys.Tokens), eph, *acfg)
		deps.Audit = c.Audit
		accounts, err := provider.NewAccounts(deps)
		if err != nil {
			panic(err)
		}
		flow, err := provider.NewCodeFlow(provider.CodeFlowDeps{
			Accounts: accounts, Clients: c.Clients, Store: eph, Revocations: eph, IDs: c.Tokens.(*keys.Tokens),
		})
		if err != nil {
			panic(err)
		}
		d.CodeFlow, d.Store, d.WrongCodes, d.Issuer, d.Audit = flow, eph.(storage.DeviceStore), envLimiter(c, wrongCodes), c.Issuer, c.Audit
		c.Device, err = provider.NewDeviceFlow(d)
		if err != nil {
			panic(err)
		}
	}
}

// deviceEnv is a test server with clients, the code flow, the device
// grant on a settable clock, and one user.
type deviceEnv struct {
	flowEnv
	clock *deviceClock
}

func newDeviceEnv(t testing.TB, backend, wrongCodes string) deviceEnv {
	t.Helper()
	clock := newDeviceClock()
	e := flowEnv{oauthEnv: newOAuthEnvWith(t, backend, withDevice(wrongCodes, clock.Now)), email: "tv.owner@device.example"}
	pageCreateUser(t, e.testEnv, e.email, pagePassword)
	return deviceEnv{flowEnv: e, clock: clock}
}

// newOAuthEnvWith is newOAuthEnv (no per-client limit) with more options.
func newOAuthEnvWith(t testing.TB, backend string, opts ...envOption) oauthEnv {
	t.Helper()
	env := newTestEnv(t, backend, append([]envOption{withClients("0")}, opts...)...)
	return oauthEnv{env, env.Config.Clients}
}

// deviceClient registers a public client with the device and refresh
// grants.
func (e deviceEnv) deviceClient(t testing.TB) string {
	t.Helper()
	id, _ := e.client(t, provider.ClientSpec{Domain: "tv.example", Name: "Living Room TV", Public: true,
		GrantTypes: []string{provider.GrantDeviceCode, provider.GrantRefreshToken}})
	return id
}

// oauthPost posts a form to an /oauth2 endpoint and decodes the JSON
// answer.
func (e deviceEnv) oauthPost(t testing.TB, path string, form url.Values) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := http.PostForm(e.Server.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, body, resp.Header
}

// startDevice runs the device authorization request of client id.
func (e deviceEnv) startDevice(t testing.TB, id, scope string) (deviceCode, userCode string) {
	t.Helper()
	status, body, _ := e.oauthPost(t, "/oauth2/device_authorization", url.Values{"client_id": {id}, "scope": {scope}})
	if status != http.StatusOK {
		t.Fatalf("device authorization = %d %v", status, body)
	}
	deviceCode, _ = body["device_code"].(string)
	userCode, _ = body["user_code"].(string)
	return deviceCode, userCode
}

// poll asks the token endpoint once for client id's device code.
func (e deviceEnv) poll(t testing.TB, id, deviceCode string) (int, map[string]any) {
	t.Helper()
	status, body, _ := e.oauthPost(t, "/oauth2/token", url.Values{
		"grant_type": {provider.GrantDeviceCode}, "client_id": {id}, "device_code": {deviceCode}})
	return status, body
}

// wantPoll polls and checks the answer's error code ("" for tokens).
func (e deviceEnv) wantPoll(t testing.TB, id, deviceCode, want string) map[string]any {
	t.Helper()
	status, body := e.poll(t, id, deviceCode)
	got, _ := body["error"].(string)
	if got != want || (want == "" && status != http.StatusOK) || (want != "" && status != http.StatusBadRequest) {
		t.Fatalf("poll = %d %v, want %q", status, body, want)
	}
	return body
}

// approve signs b's user in on the /device page with the typed code and
// answers the consent form with action.
func (e deviceEnv) decide(t testing.TB, b *pageClient, typed, action string) pageResp {
	t.Helper()
	page := b.get("/device?user_code=" + url.QueryEscape(typed))
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="device-consent-form"`) {
		t.Fatalf("GET /device?user_code=%s = %d:\n%s", typed, page.status, page.body)
	}
	return b.post("/device/consent", url.Values{csrfField: {scrapeCSRF(t, page.body)},
		"user_code": {scrapeValue(t, page.body, "user_code")}, "action": {action}})
}

// scrapeValue returns the value of the named hidden input of a page.
func scrapeValue(t testing.TB, body, name string) string {
	t.Helper()
	i := strings.Index(body, `name="`+name+`" value="`)
	if i < 0 {
		t.Fatalf("no %s field in:\n%s", name, body)
	}
	rest := body[i+len(`name="`+name+`" value="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// verifyAccess verifies an access token against the env's keys.
func (e deviceEnv) verifyAccess(t testing.TB, tok string) keys.AccessClaims {
	t.Helper()
	c, err := e.Tokens.VerifyAccess(context.Background(), tok, "")
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	return c
}

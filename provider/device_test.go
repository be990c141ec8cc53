package provider_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"user-registry/provider"
	"user-registry/storage"
	"user-registry/storage/redisstore"
)

// deviceEnv is a DeviceFlow over the fake clock of acctEnv, with its
// grants in the device store under test.
type deviceEnv struct {
	flowEnv
	device *provider.DeviceFlow
	client storage.Client
	user   storage.User
}

// deviceStores are the device stores the provider tests run on: the
// memstore of acctEnv always, Redis (on the same fake clock) when
// USER_REGISTRY_TEST_REDIS names one.
func deviceStores(t *testing.T) []string {
	out := []string{"memory"}
	if os.Getenv("USER_REGISTRY_TEST_REDIS") != "" {
		out = append(out, "redis")
	}
	return out
}

func newDeviceEnv(t *testing.T, backend, wrongCodes string) deviceEnv {
	return newDeviceEnvAudit(t, backend, wrongCodes, nil)
}

func newDeviceEnvAudit(t *testing.T, backend, wrongCodes string, audit provider.Auditor) deviceEnv {
	t.Helper()
	e := newFlowEnv(t)
	var store storage.DeviceStore = e.store
	if backend == "redis" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		rs, err := redisstore.Open(t.Context(), redisstore.Options{URL: os.Getenv("USER_REGISTRY_TEST_REDIS"),
			Prefix: "urdevtest:" + hex.EncodeToString(b) + ":", Now: e.clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = rs.Close()
			dropRedisPrefix(t, "urdevtest:"+hex.EncodeToString(b)+":")
		})
		store = rs
	}
	limit, err := provider.NewRateLimiter(newClockRate(e.clk.Now), wrongCodes, provider.WithRateClock(e.clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	d, err := provider.NewDeviceFlow(provider.DeviceDeps{CodeFlow: e.flow, Store: store, WrongCodes: limit,
		Issuer: acctIssuer, Now: e.clk.Now, Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(t, provider.ClientSpec{Public: true,
		GrantTypes: []string{provider.GrantDeviceCode, provider.GrantRefreshToken}})
	return deviceEnv{flowEnv: e, device: d, client: c, user: e.signup(t, "tv.owner@example.com", "correct horse battery")}
}

// session is a browser session of the user that signed in now.
func (e deviceEnv) session() storage.Session {
	return storage.Session{ID: "sess-" + e.user.ID, UserID: e.user.ID, CreatedAt: e.clk.Now(), ExpiresAt: e.clk.Now().Add(time.Hour)}
}

// dropRedisPrefix deletes the keys a test wrote under prefix: their
// expiry follows the fake clock, years ahead.
func dropRedisPrefix(t *testing.T, prefix string) {
	opts, err := redis.ParseURL(os.Getenv("USER_REGISTRY_TEST_REDIS"))
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

var userCodeRE = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

func TestDeviceStart(t *testing.T) {
	e := newDeviceEnv(t, "memory", "0")
	ctx := context.Background()
	a, err := e.device.Start(ctx, e.client, "openid email offline_access")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case len(a.DeviceCode) < 43: // ≥ 256 bits, base64url
		t.Errorf("device code %q too short", a.DeviceCode)
	case !userCodeRE.MatchString(a.UserCode):
		t.Errorf("user code %q", a.UserCode)
	case a.VerificationURI != acctIssuer+"/device":
		t.Errorf("verification_uri %q", a.VerificationURI)
	case a.VerificationURIComplete != acctIssuer+"/device?user_code="+a.UserCode:
		t.Errorf("verification_uri_complete %q", a.VerificationURIComplete)
	case a.ExpiresIn != 10*time.Minute || a.Interval != 5*time.Second:
		t.Errorf("expires_in %v interval %v", a.ExpiresIn, a.Interval)
	}
	b, err := e.device.Start(ctx, e.client, "")
	if err != nil || b.DeviceCode == a.DeviceCode || b.UserCode == a.UserCode {
		t.Fatalf("second start %+v %v", b, err)
	}

	noGrant := e.flowEnv.client(t, provider.ClientSpec{Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}})
	if _, err := e.device.Start(ctx, noGrant, ""); !errors.Is(err, provider.ErrUnauthorizedClient) {
		t.Errorf("client without the grant: %v", err)
	}
	if _, err := e.device.Start(ctx, e.client, "openid registry:admin"); !errors.Is(err, provider.ErrInvalidScope) {
		t.Errorf("unknown scope: %v", err)
	}
}

// poll is one step of a device flow: advance the clock, poll, expect.
type poll struct {
	after time.Duration
	want  error // nil: the tokens
}

func (e deviceEnv) polls(t *testing.T, c storage.Client, code string, steps []poll) provider.CodeTokens {
	t.Helper()
	var got provider.CodeTokens
	for i, p := range steps {
		e.clk.Advance(p.after)
		out, err := e.device.DeviceToken(context.Background(), c, code, "")
		if p.want == nil && err != nil || p.want != nil && !errors.Is(err, p.want) {
			t.Fatalf("poll %d (+%v): err = %v, want %v", i, p.after, err, p.want)
		}
		if err == nil {
			got = out
		}
	}
	return got
}

// TestDevicePolling walks the polling answers of SPEC §12 on a fake
// clock: pending first, slow_down with the interval growing by 5 s, then
// the tokens once, then invalid_grant.
func TestDevicePolling(t *testing.T) {
	for _, backend := range deviceStores(t) {
		t.Run(backend, func(t *testing.T) {
			e := newDeviceEnv(t, backend, "0")
			ctx := context.Background()
			a, err := e.device.Start(ctx, e.client, "openid email offline_access")
			if err != nil {
				t.Fatal(err)
			}
			e.polls(t, e.client, a.DeviceCode, []poll{
				{0, provider.ErrAuthorizationPending},
				{time.Second, provider.ErrSlowDown},     // interval now 10 s
				{6 * time.Second, provider.ErrSlowDown}, // 6 s < 10 s: interval now 15 s
				{15 * time.Second, provider.ErrAuthorizationPending},
				{5 * time.Second, provider.ErrSlowDown}, // the grown interval holds: 20 s
				{20 * time.Second, provider.ErrAuthorizationPending},
			})
			other := e.flowEnv.client(t, provider.ClientSpec{Public: true, GrantTypes: []string{provider.GrantDeviceCode}})
			e.polls(t, other, a.DeviceCode, []poll{{0, provider.ErrInvalidGrant}}) // another client's code

			req, err := e.device.Decide(ctx, "198.51.100.7", a.UserCode, e.user, e.session(), true)
			if err != nil || req.Client.ID != e.client.ID || len(req.Scopes) != 3 {
				t.Fatalf("approve: %+v %v", req, err)
			}
			tok := e.polls(t, e.client, a.DeviceCode, []poll{{20 * time.Second, nil}})
			claims := mustVerify(t, e.acctEnv, tok.AccessToken)
			if claims.Subject != e.user.ID || claims.ClientID != e.client.ID || claims.Scope != "openid email offline_access" {
				t.Errorf("access token claims %+v", claims)
			}
			if tok.RefreshToken == "" || tok.IDToken == "" || tok.Scope != "openid email offline_access" {
				t.Errorf("tokens: refresh %q id %q scope %q", tok.RefreshToken, tok.IDToken, tok.Scope)
			}
			e.polls(t, e.client, a.DeviceCode, []poll{{time.Minute, provider.ErrInvalidGrant}, {0, provider.ErrInvalidGrant}})

			// The refresh token works with the refresh grant.
			if _, err := e.flow.RefreshGrant(ctx, e.client, tok.RefreshToken, "", ""); err != nil {
				t.Errorf("refresh: %v", err)
			}
		})
	}
}

func TestDeviceDeniedAndExpired(t *testing.T) {
	for _, backend := range deviceStores(t) {
		t.Run(backend, func(t *testing.T) {
			e := newDeviceEnv(t, backend, "0")
			ctx := context.Background()
			denied, err := e.device.Start(ctx, e.client, "openid")
			if err != nil {
				t.Fatal(err)
			}
			e.polls(t, e.client, denied.DeviceCode, []poll{{0, provider.ErrAuthorizationPending}})
			if _, err := e.device.Decide(ctx, "198.51.100.7", denied.UserCode, e.user, e.session(), false); err != nil {
				t.Fatal(err)
			}
			e.polls(t, e.client, denied.DeviceCode, []poll{{5 * time.Second, provider.ErrDeviceDenied}})
			// Decided once: the code is spent on the page too.
			if _, err := e.device.Decide(ctx, "198.51.100.7", denied.UserCode, e.user, e.session(), true); !errors.Is(err, provider.ErrWrongUserCode) {
				t.Errorf("second decision: %v", err)
			}

			late, err := e.device.Start(ctx, e.client, "openid")
			if err != nil {
				t.Fatal(err)
			}
			e.polls(t, e.client, late.DeviceCode, []poll{
				{0, provider.ErrAuthorizationPending},
				{10 * time.Minute, provider.ErrExpiredToken},
				{time.Second, provider.ErrExpiredToken},
			})
			if _, err := e.device.Lookup(ctx, "198.51.100.7", late.UserCode); !errors.Is(err, provider.ErrWrongUserCode) {
				t.Errorf("expired user code on the page: %v", err)
			}
			if _, err := e.device.Decide(ctx, "198.51.100.7", late.UserCode, e.user, e.session(), true); !errors.Is(err, provider.ErrWrongUserCode) {
				t.Errorf("approving an expired code: %v", err)
			}
		})
	}
}

// TestDeviceApprovalEndsWithSession: a user who signs out everywhere
// between approving and the device's poll ends the approval too.
func TestDeviceApprovalEndsWithSession(t *testing.T) {
	e := newDeviceEnv(t, "memory", "0")
	ctx := context.Background()
	a, err := e.device.Start(ctx, e.client, "openid")
	if err != nil {
		t.Fatal(err)
	}
	e.polls(t, e.client, a.DeviceCode, []poll{{0, provider.ErrAuthorizationPending}})
	if _, err := e.device.Decide(ctx, "198.51.100.7", a.UserCode, e.user, e.session(), true); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Second)
	if err := e.acc.LogoutAll(ctx, e.user.ID); err != nil {
		t.Fatal(err)
	}
	e.polls(t, e.client, a.DeviceCode, []poll{{5 * time.Second, provider.ErrInvalidGrant}})
}

// TestDeviceUserCodeEntry: case, dashes and spaces are ignored on entry.
func TestDeviceUserCodeEntry(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"BCDF-GHJK", "BCDFGHJK", true},
		{"bcdf-ghjk", "BCDFGHJK", true},
		{"bcdfghjk", "BCDFGHJK", true},
		{" BcDf GhJk ", "BCDFGHJK", true},
		{"B-C-D-F-G-H-J-K", "BCDFGHJK", true},
		{"BCDF-GHJ", "", false},   // 7 letters
		{"BCDF-GHJKL", "", false}, // 9
		{"ABCD-EFGH", "", false},  // vowels are not in the alphabet
		{"BCDF_GHJK", "", false},  // only dashes and spaces are ignored
		{"BCDF-GHJ1", "", false},  // digits neither
		{"ＢCDF-GHJK", "", false},  // a full-width letter
		{"BCDFGHJKBCDFGHJKBCDFGHJKBCDFGHJKB", "", false},
	} {
		got, ok := provider.NormalizeUserCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeUserCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}

	e := newDeviceEnv(t, "memory", "0")
	ctx := context.Background()
	a, err := e.device.Start(ctx, e.client, "openid")
	if err != nil {
		t.Fatal(err)
	}
	plain := a.UserCode[:4] + a.UserCode[5:]
	for _, typed := range []string{a.UserCode, plain, lower(plain), lower(a.UserCode[:4]) + " " + a.UserCode[5:]} {
		req, err := e.device.Lookup(ctx, "198.51.100.7", typed)
		if err != nil || req.UserCode != a.UserCode || req.Client.ID != e.client.ID {
			t.Errorf("Lookup(%q) = %+v, %v", typed, req, err)
		}
	}
	if _, err := e.device.Decide(ctx, "198.51.100.7", lower(plain), e.user, e.session(), true); err != nil {
		t.Errorf("approve with %q: %v", lower(plain), err)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestDeviceWrongCodeLimit: wrong user codes are limited per client IP;
// right ones do not count; over the limit even a right code is refused
// from that IP, while another IP goes on.
func TestDeviceWrongCodeLimit(t *testing.T) {
	rec := &auditRecorder{}
	e := newDeviceEnvAudit(t, "memory", "3/15m", rec)
	ctx := context.Background()
	a, err := e.device.Start(ctx, e.client, "openid")
	if err != nil {
		t.Fatal(err)
	}
	const ip = "203.0.113.9"
	for i := range 5 {
		if _, err := e.device.Lookup(ctx, ip, a.UserCode); err != nil {
			t.Fatalf("right code %d: %v", i, err)
		}
	}
	for i, wrong := range []string{"BBBB-BBBB", "not a code", "CCCC-CCCC"} {
		if _, err := e.device.Lookup(ctx, ip, wrong); !errors.Is(err, provider.ErrWrongUserCode) {
			t.Fatalf("wrong code %d: %v", i, err)
		}
	}
	for _, code := range []string{"DDDD-DDDD", a.UserCode} {
		_, err := e.device.Lookup(ctx, ip, code)
		var rl *provider.RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfter <= 0 {
			t.Fatalf("over the limit, %s: %v", code, err)
		}
	}
	if _, err := e.device.Decide(ctx, ip, a.UserCode, e.user, e.session(), true); !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("decision over the limit: %v", err)
	}
	if _, err := e.device.Lookup(ctx, "203.0.113.10", a.UserCode); err != nil {
		t.Fatalf("another IP: %v", err)
	}
	var limited int
	for _, ev := range rec.list() {
		if ev.Event == provider.EventRateLimited && ev.Detail == "device code limit" {
			limited++
		}
	}
	if limited != 3 {
		t.Errorf("%d rate_limited events, want 3 (one per refusal): %+v", limited, rec.list())
	}
	e.clk.Advance(15 * time.Minute)
	b, err := e.device.Start(ctx, e.client, "openid") // a's code has expired by now
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.device.Lookup(ctx, ip, b.UserCode); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// FuzzNormalizeUserCode: whatever is typed, an accepted code is 8 letters
// of the alphabet, and its shown form reads back as itself.
func FuzzNormalizeUserCode(f *testing.F) {
	for _, s := range []string{"BCDF-GHJK", "bcdf ghjk", "ABCD-EFGH", "", "----", "ＢCDF-GHJK"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, ok := provider.NormalizeUserCode(in)
		if !ok {
			return
		}
		if !userCodeRE.MatchString(provider.FormatUserCode(code)) {
			t.Fatalf("%q → %q, not a user code", in, code)
		}
		if again, ok := provider.NormalizeUserCode(provider.FormatUserCode(code)); !ok || again != code {
			t.Fatalf("%q → %q → %q", in, code, again)
		}
	})
}

package provider_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage"
)

// tokenInfoFixture is a user with a /login session and a session of a
// third-party client "app" with its own refresh token.
type tokenInfoFixture struct {
	e     *acctEnv
	user  storage.User
	login provider.TokenPair
	app   provider.TokenPair
}

func newTokenInfoFixture(t *testing.T) tokenInfoFixture {
	t.Helper()
	e := newAcctEnv(t, func(c *provider.AccountsConfig) { c.RefreshTTL = time.Hour })
	u := e.signup(t, "ann@example.com", annPW)
	app, err := e.acc.IssueTokensFor(context.Background(), u, provider.Grant{
		ClientID: "app", Scope: "openid email", Audience: []string{"api"}, WithRefresh: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tokenInfoFixture{e: e, user: u, login: e.login(t, "ann@example.com", annPW), app: app}
}

// resourceServer is a confidential client made by the CLI: it may
// introspect any token.
var resourceServer = storage.Client{ID: "rs", SecretHash: []byte("h"), Domain: "example.com"}

// TestIntrospectTokenCaller: which tokens a client may introspect (SPEC
// §7). A client a user registered through /clients sees its own tokens
// only, a public client none; the rest is exactly inactive.
func TestIntrospectTokenCaller(t *testing.T) {
	ctx := context.Background()
	f := newTokenInfoFixture(t)
	app := storage.Client{ID: "app", SecretHash: []byte("h"), Domain: "example.com", CreatedBy: f.user.ID}
	other := storage.Client{ID: "other", SecretHash: []byte("h"), Domain: "example.com", CreatedBy: f.user.ID}
	publicApp := storage.Client{ID: "app", Domain: "example.com", Public: true}
	for _, tc := range []struct {
		name   string
		caller storage.Client
		token  string
		active bool
	}{
		{"operators' client, login token", resourceServer, f.login.AccessToken, true},
		{"operators' client, app's refresh token", resourceServer, f.app.RefreshToken, true},
		{"user-made client, its own access token", app, f.app.AccessToken, true},
		{"user-made client, its own refresh token", app, f.app.RefreshToken, true},
		{"user-made client, the user's login token", app, f.login.AccessToken, false},
		{"user-made client, the user's login refresh token", app, f.login.RefreshToken, false},
		{"user-made client, another client's token", other, f.app.AccessToken, false},
		{"public client, its own token", publicApp, f.app.AccessToken, false},
		{"no client", storage.Client{}, f.login.AccessToken, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, ok, err := f.e.acc.IntrospectToken(ctx, tc.caller, tc.token)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.active || (!ok && (info.Subject != "" || info.ClientID != "")) {
				t.Fatalf("active = %v (%+v), want %v", ok, info, tc.active)
			}
		})
	}
}

// TestIntrospectToken: active tokens are described; every kind of dead
// token is just inactive, with no error (SEC-15).
func TestIntrospectToken(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		token  func(t *testing.T, f tokenInfoFixture) string
		active bool
	}{
		{"login access token", func(_ *testing.T, f tokenInfoFixture) string { return f.login.AccessToken }, true},
		{"login refresh token", func(_ *testing.T, f tokenInfoFixture) string { return f.login.RefreshToken }, true},
		{"app refresh token", func(_ *testing.T, f tokenInfoFixture) string { return f.app.RefreshToken }, true},
		{"expired access token", func(_ *testing.T, f tokenInfoFixture) string {
			f.e.clk.Advance(provider.DefaultAccessTTL + keys.Skew)
			return f.login.AccessToken
		}, false},
		{"idle-expired refresh token", func(_ *testing.T, f tokenInfoFixture) string {
			f.e.clk.Advance(time.Hour)
			return f.login.RefreshToken
		}, false},
		{"rotated refresh token", func(t *testing.T, f tokenInfoFixture) string {
			if _, err := f.e.acc.Refresh(ctx, f.login.RefreshToken); err != nil {
				t.Fatal(err)
			}
			return f.login.RefreshToken
		}, false},
		{"access token after logout", func(t *testing.T, f tokenInfoFixture) string {
			if err := f.e.acc.Logout(ctx, mustVerify(t, f.e, f.login.AccessToken)); err != nil {
				t.Fatal(err)
			}
			return f.login.AccessToken
		}, false},
		{"refresh token after logout everywhere", func(t *testing.T, f tokenInfoFixture) string {
			f.e.clk.Advance(time.Millisecond) // the fake clock stands still otherwise
			if err := f.e.acc.LogoutAll(ctx, f.user.ID); err != nil {
				t.Fatal(err)
			}
			return f.app.RefreshToken
		}, false},
		{"refresh token whose sid is revoked", func(t *testing.T, f tokenInfoFixture) string {
			if err := f.e.store.Revoke(ctx, f.app.Claims.SID, f.e.clk.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			return f.app.RefreshToken
		}, false},
		{"refresh token of a deleted user", func(t *testing.T, f tokenInfoFixture) string {
			if err := f.e.store.DeleteUser(ctx, f.user.ID); err != nil {
				t.Fatal(err)
			}
			return f.app.RefreshToken
		}, false},
		{"re-encoded access token (SEC-7)", func(_ *testing.T, f tokenInfoFixture) string { return f.login.AccessToken + "=" }, false},
		{"re-encoded refresh token", func(_ *testing.T, f tokenInfoFixture) string { return f.login.RefreshToken + "=" }, false},
		{"ID token", func(t *testing.T, f tokenInfoFixture) string {
			id, err := f.e.tokens.MintID(ctx, keys.IDClaims{Subject: f.user.ID, Audience: "app"})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}, false},
		{"garbage", func(*testing.T, tokenInfoFixture) string { return "not a token" }, false},
		{"empty", func(*testing.T, tokenInfoFixture) string { return "" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTokenInfoFixture(t)
			info, ok, err := f.e.acc.IntrospectToken(ctx, resourceServer, tc.token(t, f))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if ok != tc.active {
				t.Fatalf("active = %v, want %v (%+v)", ok, tc.active, info)
			}
			if !ok && (info.Subject != "" || info.TokenType != "") {
				t.Fatalf("inactive token described: %+v", info)
			}
		})
	}
}

func TestIntrospectTokenFields(t *testing.T) {
	ctx := context.Background()
	f := newTokenInfoFixture(t)
	info, ok, err := f.e.acc.IntrospectToken(ctx, resourceServer, f.login.AccessToken)
	if err != nil || !ok {
		t.Fatalf("access: %v %v", ok, err)
	}
	c := f.login.Claims
	if info.TokenType != provider.TokenTypeAccess || info.Subject != f.user.ID || info.ClientID != "user-registry" ||
		info.Scope != "openid email phone" || info.Domain != "example.com" || info.Username != "ann@example.com" ||
		info.JTI != c.JTI || !info.IssuedAt.Equal(c.IssuedAt) || !info.ExpiresAt.Equal(c.ExpiresAt) ||
		len(info.Audience) != 1 || info.Audience[0] != acctIssuer {
		t.Errorf("access info %+v, claims %+v", info, c)
	}
	info, ok, err = f.e.acc.IntrospectToken(ctx, resourceServer, f.app.RefreshToken)
	if err != nil || !ok {
		t.Fatalf("refresh: %v %v", ok, err)
	}
	now := f.e.clk.Now()
	if info.TokenType != provider.TokenTypeRefresh || info.Subject != f.user.ID || info.ClientID != "app" ||
		info.Scope != "openid email" || info.Domain != "example.com" || info.Username != "ann@example.com" ||
		info.JTI != "" || info.IssuedAt.After(now) || !info.ExpiresAt.Equal(info.IssuedAt.Add(time.Hour)) {
		t.Errorf("refresh info %+v", info)
	}
}

// TestRevokeToken: a client revokes its own tokens only (SEC-14); a refresh
// token takes its session's access tokens with it.
func TestRevokeToken(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		token     func(f tokenInfoFixture) string
		client    string
		deadLogin bool // the /login access token is refused afterwards
		deadApp   bool // the app's access token is refused
		deadAppRT bool // the app's refresh token is inactive
	}{
		{"own access token leaves its refresh token", func(f tokenInfoFixture) string { return f.app.AccessToken }, "app", false, true, false},
		{"own refresh token ends the session", func(f tokenInfoFixture) string { return f.app.RefreshToken }, "app", false, true, true},
		{"another client's access token", func(f tokenInfoFixture) string { return f.login.AccessToken }, "app", false, false, false},
		{"another client's refresh token", func(f tokenInfoFixture) string { return f.app.RefreshToken }, "other", false, false, false},
		{"login client's own token", func(f tokenInfoFixture) string { return f.login.AccessToken }, "user-registry", true, false, false},
		{"unknown token", func(tokenInfoFixture) string { return "garbage" }, "app", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTokenInfoFixture(t)
			if err := f.e.acc.RevokeToken(ctx, tc.token(f), tc.client); err != nil {
				t.Fatalf("RevokeToken: %v", err)
			}
			_, err := f.e.acc.Verify(ctx, f.login.AccessToken)
			if dead := err != nil; dead != tc.deadLogin {
				t.Errorf("login access token dead = %v (%v), want %v", dead, err, tc.deadLogin)
			}
			_, err = f.e.acc.Verify(ctx, f.app.AccessToken)
			if dead := err != nil; dead != tc.deadApp {
				t.Errorf("app access token dead = %v (%v), want %v", dead, err, tc.deadApp)
			}
			_, active, err := f.e.acc.IntrospectToken(ctx, resourceServer, f.app.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if active == tc.deadAppRT {
				t.Errorf("app refresh token active = %v, want %v", active, !tc.deadAppRT)
			}
			// Revoking twice is fine (RFC 7009 §2.2).
			if err := f.e.acc.RevokeToken(ctx, tc.token(f), tc.client); err != nil {
				t.Fatalf("second RevokeToken: %v", err)
			}
		})
	}
}

func TestRevokedRefreshTokenCannotRefresh(t *testing.T) {
	ctx := context.Background()
	f := newTokenInfoFixture(t)
	if err := f.e.acc.RevokeToken(ctx, f.app.RefreshToken, "app"); err != nil {
		t.Fatal(err)
	}
	_, err := f.e.acc.RefreshFor(ctx, f.app.RefreshToken, "app", nil, "")
	wantUnauth(t, err, "refresh after revocation")
}

func TestUserInfoFor(t *testing.T) {
	ctx := context.Background()
	f := newTokenInfoFixture(t)
	if _, _, err := f.e.acc.Update(ctx, f.user.ID, provider.UpdateInput{Phone: acctStr("+44 20 7946 0000")}); err != nil {
		t.Fatal(err)
	}
	base := keys.AccessClaims{Subject: f.user.ID, ClientID: "app", IsActivated: acctBool(true)}
	with := func(scope string) keys.AccessClaims { c := base; c.Scope = scope; return c }
	for _, tc := range []struct {
		name    string
		claims  keys.AccessClaims
		want    provider.UserInfo
		wantErr error
	}{
		{"openid only", with("openid"), provider.UserInfo{Subject: f.user.ID}, nil},
		{"email", with("openid email"), provider.UserInfo{Subject: f.user.ID, Email: "ann@example.com", EmailVerified: acctBool(true)}, nil},
		{"phone", with("phone openid"), provider.UserInfo{Subject: f.user.ID, PhoneNumber: "+442079460000"}, nil},
		{"no openid", with("email phone"), provider.UserInfo{}, provider.ErrInsufficientScope},
		{"openid as a substring only", with("openidx email"), provider.UserInfo{}, provider.ErrInsufficientScope},
		{"authority token", keys.AccessClaims{Subject: "app", ClientID: "app", Scope: "openid"}, provider.UserInfo{}, provider.ErrInsufficientScope},
		{"user gone", keys.AccessClaims{Subject: "00000000-0000-4000-8000-000000000000", ClientID: "app", Scope: "openid", IsActivated: acctBool(true)},
			provider.UserInfo{}, provider.ErrUnauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.e.acc.UserInfoFor(ctx, tc.claims)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got.Subject != tc.want.Subject || got.Email != tc.want.Email || got.PhoneNumber != tc.want.PhoneNumber ||
				(got.EmailVerified == nil) != (tc.want.EmailVerified == nil) ||
				(got.EmailVerified != nil && *got.EmailVerified != *tc.want.EmailVerified) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

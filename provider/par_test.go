package provider_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"user-registry/provider"
	"user-registry/storage"
)

// pushQuery is a valid authorization request of client c, as pushed.
func pushQuery(c storage.Client) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {"https://app.example/cb"},
		"scope": {"openid email"}, "state": {"st"}, "nonce": {"n"},
		"code_challenge": {provider.S256Challenge(flowVerifier)}, "code_challenge_method": {"S256"},
	}
}

// paramsOf parses q as the authorization endpoint does (web's
// authorizeParams, which provider cannot import).
func paramsOf(q url.Values) provider.AuthorizeParams {
	return provider.AuthorizeParams{
		ResponseType: q.Get("response_type"), ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"),
		Scope: q.Get("scope"), State: q.Get("state"), Nonce: q.Get("nonce"), CodeChallenge: q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"), Prompt: q.Get("prompt"), RequestURI: q.Get("request_uri"),
	}
}

// TestPushValidates: a push is validated as an authorization request and
// refused with the RFC 6749 error a JSON answer carries (RFC 9126 §2.3).
func TestPushValidates(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	conf := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"openid", "email"}})
	pub := e.client(t, provider.ClientSpec{Public: true, RedirectURIs: []string{"https://app.example/cb"}})
	machine := e.client(t, provider.ClientSpec{GrantTypes: []string{provider.GrantClientCredentials}, RedirectURIs: []string{"https://app.example/cb"}})
	for _, tc := range []struct {
		name   string
		client storage.Client
		edit   func(url.Values)
		want   error // nil: accepted
	}{
		{"valid", conf, func(url.Values) {}, nil},
		{"client_id omitted", conf, func(q url.Values) { q.Del("client_id") }, nil},
		{"public with PKCE", pub, func(q url.Values) { q.Set("scope", "openid") }, nil},
		{"another client_id", conf, func(q url.Values) { q.Set("client_id", pub.ID) }, provider.ErrInvalidRequest},
		{"request_uri inside", conf, func(q url.Values) { q.Set("request_uri", provider.RequestURIPrefix+"x") }, provider.ErrInvalidRequest},
		{"no redirect_uri", conf, func(q url.Values) { q.Del("redirect_uri") }, provider.ErrInvalidRequest},
		{"unregistered redirect_uri", conf, func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, provider.ErrInvalidRequest},
		{"response_type token", conf, func(q url.Values) { q.Set("response_type", "token") }, provider.ErrUnsupportedResponseType},
		{"unregistered scope", conf, func(q url.Values) { q.Set("scope", "openid phone") }, provider.ErrInvalidScope},
		{"PKCE plain", conf, func(q url.Values) { q.Set("code_challenge_method", "plain") }, provider.ErrInvalidRequest},
		{"public without PKCE", pub, func(q url.Values) {
			q.Set("scope", "openid")
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, provider.ErrInvalidRequest},
		{"no code grant", machine, func(url.Values) {}, provider.ErrUnauthorizedClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := pushQuery(tc.client)
			tc.edit(q)
			got, err := e.flow.Push(ctx, tc.client, paramsOf(q), q)
			if tc.want == nil {
				if err != nil || !strings.HasPrefix(got.RequestURI, provider.RequestURIPrefix) || got.ExpiresIn != time.Minute ||
					len(got.RequestURI) < len(provider.RequestURIPrefix)+43 {
					t.Fatalf("push = %+v, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || provider.Message(err) == "" {
				t.Fatalf("push err = %v, want %v with a description", err, tc.want)
			}
		})
	}
}

// TestPushedRequestRules (SEC-68): a request_uri is used once, by the
// client that pushed it only, within 60 s; the continuation that carries
// it through sign-in follows the same rules for its own lifetime.
func TestPushedRequestRules(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	a := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}})
	b := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}})
	push := func(c storage.Client) string {
		t.Helper()
		q := pushQuery(c)
		q.Set("client_secret", "canary-secret-never-stored")
		p, err := e.flow.Push(ctx, c, paramsOf(q), q)
		if err != nil {
			t.Fatal(err)
		}
		return p.RequestURI
	}
	refused := func(what string, err error) {
		t.Helper()
		var ae *provider.AuthorizeError
		if !errors.As(err, &ae) || ae.RedirectURI != "" || ae.Code != "invalid_request_uri" {
			t.Fatalf("%s: err = %v, want the invalid_request_uri error page", what, err)
		}
	}

	uri := push(a)
	_, err := e.flow.PushedParams(ctx, b.ID, uri, true)
	refused("another client's request_uri", err)
	q, err := e.flow.PushedParams(ctx, a.ID, uri, false)
	if err != nil || q.Get("redirect_uri") != "https://app.example/cb" {
		t.Fatalf("read: %v %v", q, err)
	}
	q, err = e.flow.PushedParams(ctx, a.ID, uri, true)
	if err != nil || q.Get("request_uri") != uri || q.Get("client_id") != a.ID || q.Get("state") != "st" || q.Has("client_secret") {
		t.Fatalf("take: %v %v", q, err)
	}
	if _, err := e.flow.ValidateAuthorize(ctx, paramsOf(q)); err != nil {
		t.Fatalf("pushed parameters do not validate: %v", err)
	}
	_, err = e.flow.PushedParams(ctx, a.ID, uri, true)
	refused("second use", err)
	_, err = e.flow.PushedParams(ctx, a.ID, "urn:example:"+strings.TrimPrefix(uri, provider.RequestURIPrefix), true)
	refused("another prefix", err)

	uri = push(a)
	e.clk.Advance(59 * time.Second)
	if _, err := e.flow.PushedParams(ctx, a.ID, uri, false); err != nil {
		t.Fatalf("at 59 s: %v", err)
	}
	e.clk.Advance(time.Second)
	_, err = e.flow.PushedParams(ctx, a.ID, uri, true)
	refused("expired", err)

	// The continuation: a new request_uri with the same parameters, for
	// ContinuationTTL, single use and bound to the client as well.
	uri = push(a)
	q, err = e.flow.PushedParams(ctx, a.ID, uri, true)
	if err != nil {
		t.Fatal(err)
	}
	next, err := e.flow.ContinuePushed(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	nq, _ := url.ParseQuery(next)
	if len(nq) != 2 || nq.Get("client_id") != a.ID || nq.Get("request_uri") == uri {
		t.Fatalf("continuation query %q", next)
	}
	e.clk.Advance(provider.ContinuationTTL - time.Second)
	_, err = e.flow.PushedParams(ctx, b.ID, nq.Get("request_uri"), true)
	refused("another client's continuation", err)
	cq, err := e.flow.PushedParams(ctx, a.ID, nq.Get("request_uri"), true)
	if err != nil || cq.Get("state") != "st" || cq.Get("code_challenge") != q.Get("code_challenge") {
		t.Fatalf("continuation: %v %v", cq, err)
	}
	_, err = e.flow.PushedParams(ctx, a.ID, nq.Get("request_uri"), true)
	refused("continuation reused", err)
}

// TestRequirePAR: a client registered with RequirePAR is refused plain
// authorization requests (invalid_request, sent back to its registered
// redirect URI: RFC 9126 §5) and served pushed ones; it cannot be
// registered without the code grant.
func TestRequirePAR(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	c := e.client(t, provider.ClientSpec{RedirectURIs: []string{"https://app.example/cb"}, RequirePAR: true})
	if !c.RequirePAR {
		t.Fatal("RequirePAR not kept")
	}
	q := pushQuery(c)
	_, err := e.flow.ValidateAuthorize(ctx, paramsOf(q))
	var ae *provider.AuthorizeError
	if !errors.As(err, &ae) || ae.Code != "invalid_request" || ae.RedirectURI != "https://app.example/cb" || ae.State != "st" {
		t.Fatalf("plain request: %v", err)
	}
	p, err := e.flow.Push(ctx, c, paramsOf(q), q)
	if err != nil {
		t.Fatal(err)
	}
	pq, err := e.flow.PushedParams(ctx, c.ID, p.RequestURI, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.flow.ValidateAuthorize(ctx, paramsOf(pq)); err != nil {
		t.Fatalf("pushed request refused: %v", err)
	}
	_, _, err = e.clients.Create(ctx, provider.ClientSpec{Domain: "app.example", RequirePAR: true})
	if !errors.Is(err, provider.ErrInvalidInput) {
		t.Fatalf("--require-par without the code grant: %v", err)
	}
}

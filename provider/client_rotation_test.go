package provider_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"user-registry/keys"
	"user-registry/provider"
	"user-registry/storage/memstore"
)

// TestSecretRotationGrace: after a rotation both secrets work until the
// previous one's expiry, and from that very instant only the new one
// (SEC-64), on the clock the client cache also runs on. The new secret is
// returned once and never stored: the record holds two keyed hashes.
func TestSecretRotationGrace(t *testing.T) {
	ctx := context.Background()
	cs, st, clk, _ := newClients(t)
	audit := &recordingAuditor{}
	rot, err := provider.NewSecretRotation(provider.SecretRotationDeps{Clients: cs, Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: cs})
	if err != nil {
		t.Fatal(err)
	}
	c, oldSecret, err := cs.Create(ctx, provider.ClientSpec{Domain: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	works := func(secret string) bool {
		_, err := auth.Authenticate(ctx, provider.ClientCredentials{ID: c.ID, Secret: secret, Method: provider.AuthSecretBasic},
			provider.UseClientCredentials)
		if err != nil && !errors.Is(err, provider.ErrBadClient) {
			t.Fatal(err)
		}
		return err == nil
	}
	if !works(oldSecret) {
		t.Fatal("secret does not work before the rotation")
	}
	out, err := rot.Rotate(ctx, c.ID, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := clk.Now().Add(24 * time.Hour)
	if out.ClientID != c.ID || out.Secret == "" || out.Secret == oldSecret || !out.PreviousSecretExpiresAt.Equal(want) {
		t.Fatalf("Rotate = %+v, want a new secret and expiry %v", out, want)
	}
	rec, _ := st.Client(ctx, c.ID)
	for _, h := range [][]byte{rec.SecretHash, rec.PrevSecretHash} {
		if string(h) == out.Secret || string(h) == oldSecret {
			t.Fatal("a secret is stored in clear")
		}
	}

	steps := []struct {
		advance  time.Duration
		old, new bool
	}{
		{0, true, true},
		{24*time.Hour - time.Nanosecond, true, true}, // the last instant of the grace
		{time.Nanosecond, false, true},               // exactly at the expiry: gone
		{time.Hour, false, true},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		if got := works(oldSecret); got != s.old {
			t.Errorf("step %d (%v): old secret works = %v, want %v", i, clk.Now(), got, s.old)
		}
		if got := works(out.Secret); got != s.new {
			t.Errorf("step %d (%v): new secret works = %v, want %v", i, clk.Now(), got, s.new)
		}
	}

	// Grace 0 ends the current secret at once; a second rotation drops
	// the first previous one.
	again, err := rot.Rotate(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if works(out.Secret) || !works(again.Secret) || works(oldSecret) {
		t.Fatal("after a rotation with grace 0 only the newest secret may work")
	}
	if len(audit.events) != 2 || audit.events[0].Event != provider.EventClientSecretRotated || audit.events[0].ClientID != c.ID {
		t.Fatalf("audit events = %+v", audit.events)
	}
}

// TestSecretRotationRules: grace bounds, clients without a secret, and a
// user rotating only the clients they registered (as DELETE /clients).
func TestSecretRotationRules(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	cs := provider.NewClients(st, st, provider.NewDomainPolicy(st, false, nil), &fakeMinter{}, []byte("0123456789abcdef0123456789abcdef"), nil)
	rot, err := provider.NewSecretRotation(provider.SecretRotationDeps{Clients: cs})
	if err != nil {
		t.Fatal(err)
	}
	cli, _, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com"})
	pub, _, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com", Public: true})
	for _, tc := range []struct {
		name        string
		user, id    string
		grace       time.Duration
		err         error
		wantSuccess bool
	}{
		{"operators, any client", "", cli.ID, time.Hour, nil, true},
		{"negative grace", "", cli.ID, -time.Second, provider.ErrInvalidInput, false},
		{"grace over 30 days", "", cli.ID, provider.MaxSecretGrace + time.Second, provider.ErrInvalidInput, false},
		{"public client", "", pub.ID, time.Hour, provider.ErrInvalidInput, false},
		{"unknown client", "", "nobody", time.Hour, provider.ErrClientNotFound, false},
		{"a user, the operators' client", "u1", cli.ID, time.Hour, provider.ErrClientNotFound, false},
	} {
		var err error
		if tc.user == "" {
			_, err = rot.Rotate(ctx, tc.id, tc.grace)
		} else {
			_, err = rot.RotateForUser(ctx, tc.user, tc.id, tc.grace)
		}
		if tc.wantSuccess != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
		}
	}
}

// TestClientAuthDPoPRequired: a client registered with DPoP gets no token
// without a proof (SEC-63); with one, its token is bound to the key and
// typed DPoP; a client without the flag may send one or not.
func TestClientAuthDPoPRequired(t *testing.T) {
	ctx := context.Background()
	cs, _, clk, m := newClients(t)
	d, err := provider.NewDPoP(provider.DPoPDeps{Nonces: memstore.New(memstore.WithClock(clk.Now)), Issuer: dpopIssuer, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := provider.NewClientAuth(provider.ClientAuthDeps{Clients: cs, DPoP: d})
	if err != nil {
		t.Fatal(err)
	}
	bound, boundSecret, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com", DPoP: true})
	plain, plainSecret, _ := cs.Create(ctx, provider.ClientSpec{Domain: "example.com"})
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := keys.NewDPoPSigner(ec, "ES256")
	proof := func() provider.DPoPProof {
		p, err := signer.Proof("POST", dpopIssuer+"/authority-token", "", clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		return provider.DPoPProof{JWT: p, Method: "POST", Path: "/authority-token"}
	}
	grant := func(id, secret string, p provider.DPoPProof) (provider.AuthorityToken, error) {
		return auth.ClientCredentialsGrant(ctx, provider.ClientCredentials{ID: id, Secret: secret, Method: provider.AuthSecretBasic},
			provider.AuthorityRequest{Proof: p})
	}
	if _, err := grant(bound.ID, boundSecret, provider.DPoPProof{Method: "POST", Path: "/authority-token"}); !errors.Is(err, provider.ErrInvalidDPoPProof) {
		t.Fatalf("--dpop client without a proof: %v", err)
	}
	tok, err := grant(bound.ID, boundSecret, proof())
	if err != nil || tok.TokenType != provider.TokenTypeDPoP || m.last.JKT != signer.JKT() {
		t.Fatalf("--dpop client with a proof: %+v %v (minted jkt %q)", tok, err, m.last.JKT)
	}
	tok, err = grant(plain.ID, plainSecret, provider.DPoPProof{})
	if err != nil || tok.TokenType != provider.TokenTypeBearer || m.last.JKT != "" {
		t.Fatalf("plain client without a proof: %+v %v", tok, err)
	}
	tok, err = grant(plain.ID, plainSecret, proof())
	if err != nil || tok.TokenType != provider.TokenTypeDPoP || m.last.JKT != signer.JKT() {
		t.Fatalf("plain client with a proof: %+v %v", tok, err)
	}
	// A wrong secret is invalid_client before any proof is looked at.
	if _, err := grant(bound.ID, "wrong", provider.DPoPProof{}); !errors.Is(err, provider.ErrBadClient) {
		t.Fatalf("wrong secret: %v", err)
	}
}

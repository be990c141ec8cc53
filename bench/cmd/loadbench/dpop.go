package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"user-registry/keys"
)

// The DPoP scenario (SPEC §11): client_credentials with
// client_secret_basic plus a fresh ES256 DPoP proof per request, so every
// token is bound to the client's key. It runs interleaved with the plain
// secret scenario against the same server; the goal is a rate of at
// least 0.6× the secret one. Making the proofs costs the load generator,
// which shares the CPUs with the server; the report's server CPU per
// request is the figure that excludes it.

// dpopTokenPeer is the DPoP peer: tgt, the secret request, with a proof
// for tgt.URL added per request (the server's issuer is that URL's base).
func dpopTokenPeer(tgt vegeta.Target, pid int) peer {
	p := onePeer("dpop", tgt, pid)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.note = err.Error()
		return p
	}
	s, err := keys.NewDPoPSigner(ec, "ES256")
	if err != nil {
		p.note = err.Error()
		return p
	}
	p.gen = func(t *vegeta.Target) error {
		proof, err := s.Proof(http.MethodPost, tgt.URL, "", time.Now())
		if err != nil {
			return err
		}
		*t = tgt
		t.Header = tgt.Header.Clone()
		t.Header.Set("DPoP", proof)
		return nil
	}
	// The preflight request carries a proof of its own too.
	if err := p.gen(&p.tgts[0]); err != nil {
		p.note = err.Error()
	}
	return p
}

package main

import (
	"context"
	"net/http"
	"slices"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The audit scenario (SPEC §13, the operators issue): login and token
// throughput with the audit trail on (our node 1) against a second node on
// the same stores started with --audit=false, interleaved. Every login
// records an event; tokens record none, so their ratio shows that the
// writer costs nothing when idle. Goal: both ≥ 0.95.

// goalAudit is the least on/off throughput ratio.
const goalAudit = 0.95

// auditScenario adds the rows "audit-login" and "audit-tokens", targets
// "on" and "off". login and tokens are node 1's peers of those scenarios.
func auditScenario(ctx context.Context, o options, b bins, tmp string, rep *backendReport, be *backend,
	login, tokens peer, tokenTgt func(string) vegeta.Target) {
	offBackend := *be
	offBackend.args = append(slices.Clone(be.args), "--audit=false")
	loginOn, loginOff := login, peer{name: "off"}
	tokensOn, tokensOff := tokens, peer{name: "off"}
	loginOn.name, tokensOn.name = "on", "on"
	off, err := startOurs(ctx, o, b, tmp, be.name+"-audit-off", &offBackend)
	if err != nil {
		loginOff.note, tokensOff.note = err.Error(), err.Error()
	} else {
		defer off.stop()
		loginOff = onePeer("off", vegeta.Target{Method: http.MethodPost, URL: "http://" + off.addr + "/login",
			Body: loginBody(), Header: http.Header{"Content-Type": {"application/json"}}}, off.pid())
		tokensOff = onePeer("off", tokenTgt(off.addr), off.pid())
	}
	logins := o
	// A 4 s login run holds ~150 logins, too few for a 5 % comparison on a
	// shared machine: twice as long, and at least five rounds.
	logins.workers, logins.duration, logins.rounds = o.loginWorkers, 2*o.loginDuration, max(o.rounds, 5)
	compare(ctx, logins, rep, "audit-login", loginOn, loginOff)
	compare(ctx, o, rep, "audit-tokens", tokensOn, tokensOff)
}

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// bins are the programs a backend session starts.
type bins struct{ ours, stock, self string }

// peer is one side of a comparison: a vegeta target and the pid whose RSS
// is sampled while it is driven.
type peer struct {
	name string
	tgt  vegeta.Target
	pid  int
	note string // set when the peer could not be set up
	// targeter, when set, makes each request (DPoP: a fresh proof each,
	// dpop.go); nil replays tgt.
	targeter vegeta.Targeter
}

// requests is the peer's targeter.
func (p peer) requests() vegeta.Targeter {
	if p.targeter != nil {
		return p.targeter
	}
	return vegeta.NewStaticTargeter(p.tgt)
}

// runBackend starts our server on one backend and runs (a)-(d) against it.
// Failures of one scenario become notes in the table; the rest still runs.
func runBackend(ctx context.Context, o options, b bins, tmp, name string) *backendReport {
	rep := &backendReport{Name: name}
	var be *backend
	switch name {
	case "embedded":
		be = &backend{name: name, args: []string{"--db", "sqlite:" + filepath.Join(tmp, "embedded.db")}}
	case "redis":
		if be, rep.Note = prepareRedisBackend(ctx, o.mysqlURL, o.redisURL); be == nil {
			return rep
		}
	default:
		rep.Note = "unknown backend (want embedded or redis)"
		return rep
	}
	fmt.Printf("\n[%s] setting up ... (load average %s)\n", name, loadavg())

	// The client is created before serve starts, so the server's client
	// cache never holds a "no such client" answer for it.
	creds, clientErr := createClient(ctx, b.ours, be)
	if clientErr != nil {
		creds = clientCreds{ID: "bench-client", Secret: "bench-secret"} // the stock server still runs
	}

	port, err := freePort()
	if err != nil {
		rep.Note = err.Error()
		return rep
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:" + strconv.Itoa(port),
		// Rate limits off: they would turn the measurement into a 429 count.
		"--limit-client", "0", "--limit-ip", "0", "--limit-login-account", "0"}, be.args...)
	ours, err := startProc(ctx, "user-registry", filepath.Join(tmp, name+"-server.log"), b.ours, args...)
	if err != nil {
		rep.Note = err.Error()
		return rep
	}
	defer ours.stop()
	whole := sampleRSS(ours.pid()) // peak over the whole session, for the goal
	defer func() { rep.PeakRSS = whole.stop() }()
	base := "http://" + ours.addr

	stock, err := startProc(ctx, "stockserver", filepath.Join(tmp, name+"-stock.log"), b.stock,
		"--addr", "127.0.0.1:0", "--client-id", creds.ID, "--client-secret", creds.Secret)
	if err != nil {
		rep.Note = err.Error()
		return rep
	}
	defer stock.stop()

	// (a) client_credentials with client_secret_basic on both servers.
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(creds.ID+":"+creds.Secret))
	tokenTgt := func(addr string) vegeta.Target {
		return vegeta.Target{Method: http.MethodPost, URL: "http://" + addr + "/oauth2/token",
			Body:   []byte("grant_type=client_credentials"),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {basic}}}
	}
	oursTok := peer{name: "ours", tgt: tokenTgt(ours.addr), pid: ours.pid()}
	if clientErr != nil {
		oursTok.note = clientErr.Error()
	}
	compare(ctx, o, rep, "tokens", oursTok, peer{name: "stock", tgt: tokenTgt(stock.addr), pid: stock.pid()})
	// (a') the secretless ways next to the secret one (machine.go).
	machineScenarios(ctx, o, rep, b.ours, be, ours.addr, ours.pid(), oursTok)
	secretTok := oursTok
	secretTok.name = "secret"
	compare(ctx, o, rep, "dpop", dpopTokenPeer(tokenTgt(ours.addr), ours.pid()), secretTok) // dpop.go

	// (b) JWKS: ours vs a plain handler replaying our exact response.
	jwksTgt := func(addr string) vegeta.Target {
		return vegeta.Target{Method: http.MethodGet, URL: "http://" + addr + "/.well-known/jwks.json"}
	}
	plainPeer := peer{name: "plain"}
	plain, err := startPlainJWKS(ctx, b.self, tmp, name, base)
	if err != nil {
		plainPeer.note = err.Error()
	} else {
		defer plain.stop()
		plainPeer.tgt, plainPeer.pid = jwksTgt(plain.addr), plain.pid()
	}
	compare(ctx, o, rep, "jwks", peer{name: "ours", tgt: jwksTgt(ours.addr), pid: ours.pid()}, plainPeer)

	// (c) and (d) need the bench user; signup/login failing skips both.
	token, userErr := signupAndLogin(ctx, base)
	login := peer{name: "ours", pid: ours.pid(), tgt: vegeta.Target{Method: http.MethodPost, URL: base + "/login",
		Body: loginBody(), Header: http.Header{"Content-Type": {"application/json"}}}}
	me := peer{name: "ours", pid: ours.pid(), tgt: vegeta.Target{Method: http.MethodGet, URL: base + "/me",
		Header: http.Header{"Authorization": {"Bearer " + token}}}}
	if userErr != nil {
		login.note, me.note = userErr.Error(), userErr.Error()
	}
	lo := o
	lo.duration, lo.workers, lo.rounds = o.loginDuration, o.loginWorkers, 1
	compare(ctx, lo, rep, "login", login)
	o.rounds = 1
	compare(ctx, o, rep, "me", me)
	fmt.Printf("[%s] done (load average %s)\n", name, loadavg())
	return rep
}

// compare runs the peers interleaved (A, B, A, B, ...) for o.rounds so that
// drift on a shared machine (thermal, other tenants, GC state) hits both
// alike, and records the median of each peer.
func compare(ctx context.Context, o options, rep *backendReport, scenario string, peers ...peer) {
	runs := make([][]runStats, len(peers))
	live := make([]bool, len(peers))
	for i, p := range peers {
		live[i] = p.note == "" && preflight(ctx, &peers[i])
		if live[i] && o.warmup > 0 {
			attackTargeter(ctx, p.requests(), o.workers, o.warmup, 0)
		}
	}
	for r := 0; r < o.rounds && ctx.Err() == nil; r++ {
		for i, p := range peers {
			if !live[i] {
				continue
			}
			st := attackTargeter(ctx, p.requests(), o.workers, o.duration, p.pid)
			fmt.Printf("  %-6s %-5s round %d: %8.0f req/s  p50 %-8s p99 %-8s non-2xx %d  server CPU %.1f µs/req\n",
				scenario, p.name, r+1, st.ReqPerSec, ms(st.P50), ms(st.P99), st.Non2xx, us(st.CPUPerReq))
			runs[i] = append(runs[i], st)
		}
	}
	for i, p := range peers {
		if !live[i] {
			rep.Rows = append(rep.Rows, row{Scenario: scenario, Target: p.name, Note: p.note})
			continue
		}
		rep.Rows = append(rep.Rows, row{Scenario: scenario, Target: p.name, Stats: median(runs[i])})
	}
}

// loadavg is printed around each backend: the machine is shared, and a
// high 1-minute load means other work competed with both peers.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// preflight sends one request so a missing endpoint is reported as a skip
// with its status, instead of 8 s of 404s.
func preflight(ctx context.Context, p *peer) bool {
	code, _, body, err := do(ctx, p.tgt.Method, p.tgt.URL, p.tgt.Header, p.tgt.Body)
	switch {
	case err != nil:
		p.note = "preflight: " + err.Error()
	case code < 200 || code > 299:
		p.note = fmt.Sprintf("preflight: HTTP %d %s", code, truncate(string(body), 160))
	default:
		return true
	}
	return false
}

// startPlainJWKS records our JWKS response and starts loadbench itself in
// --serve-static mode to replay it.
func startPlainJWKS(ctx context.Context, self, tmp, name, base string) (*proc, error) {
	code, hdr, body, err := do(ctx, http.MethodGet, base+"/.well-known/jwks.json", nil, nil)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("our JWKS answered %d", code)
	}
	spec := staticSpec{Path: "/.well-known/jwks.json", Body: body, Headers: map[string]string{}}
	for _, k := range []string{"Content-Type", "Cache-Control", "Etag"} {
		if v := hdr.Get(k); v != "" {
			spec.Headers[k] = v
		}
	}
	b, _ := json.Marshal(spec)
	specFile := filepath.Join(tmp, name+"-jwks.json")
	if err := os.WriteFile(specFile, b, 0o600); err != nil {
		return nil, err
	}
	return startProc(ctx, "plain-jwks", filepath.Join(tmp, name+"-plain.log"), self, "--serve-static", specFile)
}

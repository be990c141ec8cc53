package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// bins are the programs a backend session starts.
type bins struct{ ours, stock, self string }

// peer is one side of a comparison: the vegeta targets (several: driven
// round-robin) and the server pids whose CPU and peak RSS are measured.
type peer struct {
	name string
	tgts []vegeta.Target
	pids []int
	note string // set when the peer could not be set up
	// gen, when set, makes each request (DPoP: a fresh proof each,
	// dpop.go) for the one server pids[0]; tgts then holds the preflight.
	gen vegeta.Targeter
}

// run drives p for dur: its targets, or its generator.
func (p peer) run(ctx context.Context, workers int, dur time.Duration, pids []int) runStats {
	if p.gen != nil {
		pid := 0
		if len(pids) > 0 {
			pid = pids[0]
		}
		return attackTargeter(ctx, p.gen, workers, dur, pid)
	}
	return attack(ctx, p.tgts, workers, dur, pids)
}

func onePeer(name string, tgt vegeta.Target, pid int) peer {
	return peer{name: name, tgts: []vegeta.Target{tgt}, pids: []int{pid}}
}

// startOurs starts one `serve` of our server on a free loopback port with
// rate limits off (they would turn the measurement into a 429 count), the
// -server-env additions and, with -profile, a CPU profile file per node.
func startOurs(ctx context.Context, o options, b bins, tmp, label string, be *backend) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:" + strconv.Itoa(port),
		"--limit-client", "0", "--limit-ip", "0", "--limit-login-account", "0"}, be.args...)
	env := slices.Clone(o.serverEnv)
	if o.profileDir != "" {
		env = append(env, "USER_REGISTRY_CPUPROFILE="+filepath.Join(o.profileDir, label+".prof"))
	}
	return startProc(ctx, "user-registry", filepath.Join(tmp, label+"-server.log"), env, b.ours, args...)
}

// runBackend starts our server on one backend and runs the scenarios
// against it. Failures of one scenario become notes in the table; the rest
// still runs.
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
	ours, err := startOurs(ctx, o, b, tmp, name+"-node1", be)
	if err != nil {
		rep.Note = err.Error()
		return rep
	}
	defer ours.stop()
	base := "http://" + ours.addr
	rep.Limit = serverMemLimit(ctx, base)

	// client_credentials with client_secret_basic, on every server.
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(creds.ID+":"+creds.Secret))
	tokenTgt := func(addr string) vegeta.Target {
		return vegeta.Target{Method: http.MethodPost, URL: "http://" + addr + "/oauth2/token",
			Body:   []byte("grant_type=client_credentials"),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {basic}}}
	}
	oursTok := onePeer("ours", tokenTgt(ours.addr), ours.pid())
	if clientErr != nil {
		oursTok.note = clientErr.Error()
	}
	if o.want("tokens") {
		stockPeer := peer{name: "stock"}
		stock, err := startProc(ctx, "stockserver", filepath.Join(tmp, name+"-stock.log"), nil, b.stock,
			"--addr", "127.0.0.1:0", "--client-id", creds.ID, "--client-secret", creds.Secret)
		if err != nil {
			stockPeer.note = err.Error()
		} else {
			stockPeer = onePeer("stock", tokenTgt(stock.addr), stock.pid())
		}
		compare(ctx, o, rep, "tokens", oursTok, stockPeer)
		stock.stop()
	}
	// The secretless ways next to the secret one (SPEC §11): private_key_jwt
	// and token exchange (machine.go), DPoP-bound tokens (dpop.go).
	if o.want("machine") {
		machineScenarios(ctx, o, rep, b.ours, be, ours.addr, ours.pid(), oursTok)
	}
	if o.want("dpop") {
		secretTok := oursTok
		secretTok.name = "secret"
		compare(ctx, o, rep, "dpop", dpopTokenPeer(tokenTgt(ours.addr), ours.pid()), secretTok)
	}

	// The well-known documents: ours vs a plain handler replaying our exact
	// response (bytes and headers).
	for _, wk := range []struct{ scenario, path string }{
		{"jwks", "/.well-known/jwks.json"}, {"discovery", "/.well-known/openid-configuration"},
	} {
		if !o.want(wk.scenario) {
			continue
		}
		get := func(addr string) vegeta.Target {
			return vegeta.Target{Method: http.MethodGet, URL: "http://" + addr + wk.path}
		}
		plainPeer := peer{name: "plain"}
		plain, err := startPlain(ctx, b.self, tmp, name+"-"+wk.scenario, base, wk.path)
		if err != nil {
			plainPeer.note = err.Error()
		} else {
			plainPeer = onePeer("plain", get(plain.addr), plain.pid())
		}
		compare(ctx, o, rep, wk.scenario, onePeer("ours", get(ours.addr), ours.pid()), plainPeer)
		plain.stop()
	}

	// login and me need the bench user; signup/login failing skips both.
	token, userErr := signupAndLogin(ctx, base)
	if o.want("login") {
		login := onePeer("ours", vegeta.Target{Method: http.MethodPost, URL: base + "/login",
			Body: loginBody(), Header: http.Header{"Content-Type": {"application/json"}}}, ours.pid())
		if userErr != nil {
			login.note = userErr.Error()
		}
		loginVsBound(ctx, o, rep, login)
	}
	if o.want("audit") {
		login := onePeer("on", vegeta.Target{Method: http.MethodPost, URL: base + "/login",
			Body: loginBody(), Header: http.Header{"Content-Type": {"application/json"}}}, ours.pid())
		if userErr != nil {
			login.note = userErr.Error()
		}
		auditScenario(ctx, o, b, tmp, rep, be, login, oursTok, tokenTgt)
	}
	if o.want("me") {
		me := onePeer("ours", vegeta.Target{Method: http.MethodGet, URL: base + "/me",
			Header: http.Header{"Authorization": {"Bearer " + token}}}, ours.pid())
		if userErr != nil {
			me.note = userErr.Error()
		}
		one := o
		one.rounds = 1
		compare(ctx, one, rep, "me", me)
	}
	if o.want("domains") && name == "embedded" {
		domainsScenario(ctx, o, b, tmp, rep)
	}
	if o.want("twonode") && be.shared {
		twoNodes(ctx, o, b, tmp, rep, be, ours, oursTok, tokenTgt)
	}
	fmt.Printf("[%s] done (load average %s)\n", name, loadavg())
	return rep
}

// twoNodes starts a second `serve` on the same MySQL + Redis and compares
// client_credentials on node 1 alone with the load spread round-robin over
// both nodes. On a machine whose cores the load generator and both nodes
// share this shows the cost of a second node (two runtimes, two caches), not
// scaling; scaling needs a node per machine.
func twoNodes(ctx context.Context, o options, b bins, tmp string, rep *backendReport, be *backend,
	node1 *proc, one peer, tokenTgt func(string) vegeta.Target) {
	one.name = "1 node"
	two := peer{name: "2 nodes"}
	node2, err := startOurs(ctx, o, b, tmp, be.name+"-node2", be)
	if err != nil {
		two.note = err.Error()
	} else {
		defer node2.stop()
		two.tgts = []vegeta.Target{tokenTgt(node1.addr), tokenTgt(node2.addr)}
		two.pids = []int{node1.pid(), node2.pid()}
	}
	compare(ctx, o, rep, "twonode", one, two)
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
			p.run(ctx, o.workers, o.warmup, nil)
		}
	}
	for r := 0; r < o.rounds && ctx.Err() == nil; r++ {
		for i, p := range peers {
			if !live[i] {
				continue
			}
			st := p.run(ctx, o.workers, o.duration, p.pids)
			printRound(scenario, p.name, r+1, st)
			runs[i] = append(runs[i], st)
		}
	}
	for i, p := range peers {
		if !live[i] {
			rep.Rows = append(rep.Rows, row{Scenario: scenario, Target: p.name, Note: peers[i].note})
			continue
		}
		rep.Rows = append(rep.Rows, row{Scenario: scenario, Target: p.name, Stats: median(runs[i])})
	}
}

func printRound(scenario, name string, round int, st runStats) {
	fmt.Printf("  %-9s %-7s round %d: %8.0f req/s  p50 %-8s p99 %-8s non-2xx %d  server CPU %.1f µs/req  peak RSS %.0f MiB\n",
		scenario, name, round, st.ReqPerSec, ms(st.P50), ms(st.P99), st.Non2xx, us(st.CPUPerReq), st.RSSMiB)
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

// preflight sends one request to each target so a missing endpoint is
// reported as a skip with its status, instead of seconds of 404s.
func preflight(ctx context.Context, p *peer) bool {
	for _, t := range p.tgts {
		code, _, body, err := do(ctx, t.Method, t.URL, t.Header, t.Body)
		switch {
		case err != nil:
			p.note = "preflight: " + err.Error()
		case code < 200 || code > 299:
			p.note = fmt.Sprintf("preflight: HTTP %d %s", code, truncate(string(body), 160))
		default:
			continue
		}
		return false
	}
	return true
}

// startPlain records our response at path (body and headers) and starts
// loadbench itself in --serve-static mode to replay it.
func startPlain(ctx context.Context, self, tmp, label, base, path string) (*proc, error) {
	code, hdr, body, err := do(ctx, http.MethodGet, base+path, nil, nil)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("our %s answered %d", path, code)
	}
	spec := staticSpec{Path: path, Body: body, Headers: map[string]string{}}
	// Every header of ours but those net/http writes itself: the peer
	// sends the same bytes (security headers included), so the comparison
	// is of the serving path, not of the header count.
	for k := range hdr {
		if k != "Date" && k != "Content-Length" {
			spec.Headers[k] = hdr.Get(k)
		}
	}
	b, _ := json.Marshal(spec)
	specFile := filepath.Join(tmp, label+"-static.json")
	if err := os.WriteFile(specFile, b, 0o600); err != nil {
		return nil, err
	}
	return startProc(ctx, "plain", filepath.Join(tmp, label+"-plain.log"), nil, self, "--serve-static", specFile)
}

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The secretless token requests of SPEC §11, measured next to the secret
// one in the same interleaved rounds:
//   - pkjwt: client_credentials with private_key_jwt (ES256). Every request
//     carries a fresh assertion (the server accepts a jti once), signed
//     before the run so the load generator's signing does not compete with
//     the server for the CPUs;
//   - exchange: the token-exchange grant with an outside token of an
//     in-process issuer whose discovery and JWKS the server has cached.
// Goals (issue 11): pkjwt ≥ 0.6× and exchange ≥ 0.5× the secret rate.

// assertionPool hands out pre-signed assertions, signing more inline only
// when the pool runs dry (counted, and reported).
type assertionPool struct {
	key    *ecdsa.PrivateKey
	id     string
	aud    string
	mu     sync.Mutex
	ready  [][]byte
	inline atomic.Int64
}

func (p *assertionPool) sign() []byte {
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	now := time.Now()
	payload, _ := json.Marshal(map[string]any{"iss": p.id, "sub": p.id, "aud": p.aud,
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]), "iat": now.Unix(), "exp": now.Add(4 * time.Minute).Unix()})
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, "bench")
	tok, err := jws.Sign(payload, jws.WithKey(jwa.ES256, p.key, jws.WithProtectedHeaders(h)))
	if err != nil {
		panic(err)
	}
	v := url.Values{"grant_type": {"client_credentials"}, "client_assertion": {string(tok)},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
	return []byte(v.Encode())
}

// fill signs n bodies on every CPU.
func (p *assertionPool) fill(n int) {
	out := make(chan []byte, 1024)
	var wg sync.WaitGroup
	per := n/4 + 1
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				out <- p.sign()
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	for b := range out {
		p.ready = append(p.ready, b)
	}
}

func (p *assertionPool) next() []byte {
	p.mu.Lock()
	if n := len(p.ready); n > 0 {
		b := p.ready[n-1]
		p.ready = p.ready[:n-1]
		p.mu.Unlock()
		return b
	}
	p.mu.Unlock()
	p.inline.Add(1)
	return p.sign()
}

func (p *assertionPool) targeter(u string) vegeta.Targeter {
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	return func(t *vegeta.Target) error {
		t.Method, t.URL, t.Header, t.Body = http.MethodPost, u, hdr, p.next()
		return nil
	}
}

// outsideIssuer is a minimal OIDC issuer (discovery + JWKS) on loopback.
type outsideIssuer struct {
	srv *http.Server
	url string
	key *ecdsa.PrivateKey
}

func startOutsideIssuer() (*outsideIssuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &outsideIssuer{url: "http://" + ln.Addr().String(), key: key}
	jwks, err := publicJWKS(key, "ci")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": o.url, "jwks_uri": o.url + "/jwks"})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(jwks) })
	o.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go o.srv.Serve(ln)
	return o, nil
}

// token is an outside token for sub and audience aud, valid 50 minutes.
func (o *outsideIssuer) token(sub, aud string) (string, error) {
	now := time.Now()
	payload, _ := json.Marshal(map[string]any{"iss": o.url, "sub": sub, "aud": aud,
		"iat": now.Unix(), "exp": now.Add(50 * time.Minute).Unix()})
	h := jws.NewHeaders()
	_ = h.Set(jws.KeyIDKey, "ci")
	tok, err := jws.Sign(payload, jws.WithKey(jwa.ES256, o.key, jws.WithProtectedHeaders(h)))
	return string(tok), err
}

func publicJWKS(key *ecdsa.PrivateKey, kid string) ([]byte, error) {
	pub, err := jwk.FromRaw(key.Public())
	if err != nil {
		return nil, err
	}
	_ = pub.Set(jwk.KeyIDKey, kid)
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	return json.Marshal(set)
}

// cliJSON runs one CLI command of ours against the backend and decodes its
// JSON output.
func cliJSON(ctx context.Context, bin string, be *backend, dst any, args ...string) error {
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, append(args, be.args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args[:2], " "), err, truncate(strings.TrimSpace(stderr.String()), 200))
	}
	return json.Unmarshal(out, dst)
}

// machineScenarios sets up a private_key_jwt client and a federation
// trust, then runs secret, pkjwt and exchange interleaved for o.rounds.
func machineScenarios(ctx context.Context, o options, rep *backendReport, bin string, be *backend, addr string, pid int, secret peer) {
	base := "http://" + addr
	fail := func(err error) {
		for _, s := range []string{"pkjwt", "exchange"} {
			rep.Rows = append(rep.Rows, row{Scenario: "tokens-" + s, Target: "ours", Note: err.Error()})
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fail(err)
		return
	}
	jwks, _ := publicJWKS(key, "bench")
	file := filepath.Join(os.TempDir(), fmt.Sprintf("loadbench-jwks-%d.json", os.Getpid()))
	if err := os.WriteFile(file, jwks, 0o600); err != nil {
		fail(err)
		return
	}
	defer os.Remove(file)
	var c clientCreds
	if err := cliJSON(ctx, bin, be, &c, "clients", "create", "--domain", "bench.example", "--name", "loadbench-pkjwt", "--jwks", file); err != nil {
		fail(err)
		return
	}
	iss, err := startOutsideIssuer()
	if err != nil {
		fail(err)
		return
	}
	defer iss.srv.Close()
	var trust struct{ ID string }
	if err := cliJSON(ctx, bin, be, &trust, "federation", "add", "--domain", "bench.example", "--issuer", iss.url,
		"--subject", "repo:bench/*:ref:refs/heads/main", "--scope", "deploy"); err != nil {
		fail(err)
		return
	}
	subject, err := iss.token("repo:bench/app:ref:refs/heads/main", base)
	if err != nil {
		fail(err)
		return
	}

	pool := &assertionPool{key: key, id: c.ID, aud: base}
	want := 150000
	fmt.Printf("  signing %d client assertions before the runs ...\n", want)
	pool.fill(want)
	exchange := vegeta.Target{Method: http.MethodPost, URL: base + "/oauth2/token",
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body: []byte(url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token": {subject}, "subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}}.Encode())}
	peers := []struct {
		scenario string
		tg       func() vegeta.Targeter
		first    vegeta.Target
	}{
		{"tokens-secret", func() vegeta.Targeter { return vegeta.NewStaticTargeter(secret.tgts[0]) }, secret.tgts[0]},
		{"tokens-pkjwt", func() vegeta.Targeter { return pool.targeter(base + "/oauth2/token") }, vegeta.Target{}},
		{"tokens-exchange", func() vegeta.Targeter { return vegeta.NewStaticTargeter(exchange) }, exchange},
	}
	runs := make([][]runStats, len(peers))
	for i, p := range peers {
		pre := onePeer("ours", p.first, pid)
		if p.scenario == "tokens-pkjwt" {
			_ = pool.targeter(base + "/oauth2/token")(&pre.tgts[0])
		}
		if !preflight(ctx, &pre) {
			rep.Rows = append(rep.Rows, row{Scenario: p.scenario, Target: "ours", Note: pre.note})
			peers[i].tg = nil
			continue
		}
		if o.warmup > 0 {
			attackTargeter(ctx, p.tg(), o.workers, o.warmup, 0)
		}
	}
	for r := 0; r < o.rounds && ctx.Err() == nil; r++ {
		for i, p := range peers {
			if p.tg == nil {
				continue
			}
			st := attackTargeter(ctx, p.tg(), o.workers, o.duration, pid)
			fmt.Printf("  %-15s round %d: %8.0f req/s  p50 %-8s p99 %-8s non-2xx %d  server CPU %.1f µs/req\n",
				p.scenario, r+1, st.ReqPerSec, ms(st.P50), ms(st.P99), st.Non2xx, us(st.CPUPerReq))
			runs[i] = append(runs[i], st)
		}
	}
	med := make([]runStats, len(peers))
	for i, p := range peers {
		if p.tg == nil {
			continue
		}
		med[i] = median(runs[i])
		rep.Rows = append(rep.Rows, row{Scenario: p.scenario, Target: "ours", Stats: med[i]})
	}
	if n := pool.inline.Load(); n > 0 {
		fmt.Printf("  note: the assertion pool ran dry; %d assertions were signed during the runs\n", n)
	}
	if med[0].ReqPerSec > 0 {
		for i, goal := range []float64{0, 0.6, 0.5} {
			if i == 0 || peers[i].tg == nil {
				continue
			}
			ratio := med[i].ReqPerSec / med[0].ReqPerSec
			verdict := "MET"
			if ratio < goal {
				verdict = "NOT MET"
			}
			fmt.Printf("  goal %s ≥ %.1f× secret: %.2f× (%s)\n", peers[i].scenario, goal, ratio, verdict)
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// runStats is one fixed-duration run against one target.
type runStats struct {
	ReqPerSec float64       // 2xx responses per second of wall time
	P50, P99  time.Duration // over all responses
	Requests  uint64
	Non2xx    uint64  // includes transport errors (status 0)
	RSSMiB    float64 // peak resident set (VmHWM) during the run, max over the server processes
	// LifetimePeak: VmHWM could not be reset, RSSMiB is the process's peak so far.
	LifetimePeak bool
	CPUPerReq    time.Duration // server CPU (user+sys) per response
	FirstErr     string        // first non-2xx status or transport error, for the notes
	Rounds       []float64     // req/s of each round, in order (set by median)
}

// attack drives the targets (round-robin when there are several: the
// two-node scenario) as a closed loop of exactly `workers` in-flight
// requests, each worker on its own keep-alive connection per server, for
// `dur`. The load generator shares the machine's cores with the servers,
// so its own CPU per request compresses every ours/peer throughput ratio
// toward 1: Go's http.Client (and vegeta around it) costs ~40 µs per
// request, more than a JWKS answer. The workers therefore write
// pre-serialized HTTP/1.1 requests on raw connections and read the answers
// with http.ReadResponse, like wrk does in C: a few µs per request. The
// server figures (CPU, peak RSS) are summed resp. maxed over pids.
func attack(ctx context.Context, tgts []vegeta.Target, workers int, dur time.Duration, pids []int) runStats {
	reqs := make([]rawRequest, len(tgts))
	for i, t := range tgts {
		r, err := newRawRequest(t)
		if err != nil {
			return runStats{Non2xx: 1, FirstErr: err.Error()}
		}
		reqs[i] = r
	}
	var st runStats
	for _, pid := range pids {
		if !resetPeakRSS(pid) {
			st.LifetimePeak = true
		}
	}
	var next atomic.Uint64 // round-robin over the targets, across workers
	pick := func() (*rawRequest, error) { return &reqs[(next.Add(1)-1)%uint64(len(reqs))], nil }
	return drive(ctx, pick, workers, dur, pids, st)
}

// attackTargeter is attack for requests that differ each time (a fresh
// client assertion or DPoP proof, machine.go and dpop.go): targeter makes
// each one, and it is serialized on the spot. Making them costs the load
// generator, not the server, whose CPU per request stays exact.
func attackTargeter(ctx context.Context, targeter vegeta.Targeter, workers int, dur time.Duration, pid int) runStats {
	var pids []int
	if pid > 0 {
		pids = []int{pid}
	}
	var st runStats
	for _, pid := range pids {
		if !resetPeakRSS(pid) {
			st.LifetimePeak = true
		}
	}
	pick := func() (*rawRequest, error) {
		var t vegeta.Target
		if err := targeter(&t); err != nil {
			return nil, err
		}
		r, err := newRawRequest(t)
		return &r, err
	}
	return drive(ctx, pick, workers, dur, pids, st)
}

// drive runs the closed loop of attack over the requests pick gives.
func drive(ctx context.Context, pick func() (*rawRequest, error), workers int, dur time.Duration, pids []int, st runStats) runStats {
	var cpu0 time.Duration
	for _, pid := range pids {
		cpu0 += procCPU(pid)
	}
	results := make([]workerResult, workers)
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { results[w] = runWorker(ctx, pick, deadline) })
	}
	wg.Wait()
	wall := time.Since(start)
	var cpu1 time.Duration
	for _, pid := range pids {
		cpu1 += procCPU(pid)
		st.RSSMiB = max(st.RSSMiB, peakRSSMiB(pid))
	}
	var lat []time.Duration
	var ok uint64
	for _, r := range results {
		lat = append(lat, r.lat...)
		ok += r.ok
		st.Non2xx += r.non2xx
		if st.FirstErr == "" {
			st.FirstErr = r.firstErr
		}
	}
	st.Requests = ok + st.Non2xx
	if st.Requests > 0 && len(pids) > 0 {
		st.CPUPerReq = (cpu1 - cpu0) / time.Duration(st.Requests)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		st.P50, st.P99 = lat[len(lat)*50/100], lat[min(len(lat)*99/100, len(lat)-1)]
	}
	st.ReqPerSec = float64(ok) / wall.Seconds()
	return st
}

// rawRequest is one target as bytes on the wire.
type rawRequest struct {
	addr   string
	method string
	wire   []byte
}

func newRawRequest(t vegeta.Target) (rawRequest, error) {
	u, err := url.Parse(t.URL)
	if err != nil || u.Scheme != "http" {
		return rawRequest{}, fmt.Errorf("target %q: want an http:// URL", t.URL)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: loadbench\r\n", t.Method, u.RequestURI(), u.Host)
	for k, vs := range t.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if len(t.Body) > 0 || t.Method == http.MethodPost {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(t.Body))
	}
	b.WriteString("\r\n")
	b.Write(t.Body)
	return rawRequest{addr: u.Host, method: t.Method, wire: b.Bytes()}, nil
}

// workerResult is what one worker saw.
type workerResult struct {
	lat      []time.Duration
	ok       uint64
	non2xx   uint64 // includes transport errors
	firstErr string
}

// runWorker sends requests one after the other until the deadline.
func runWorker(ctx context.Context, pick func() (*rawRequest, error), deadline time.Time) workerResult {
	var res workerResult
	conns := map[string]*rawConn{}
	defer func() {
		for _, c := range conns {
			c.nc.Close()
		}
	}()
	fail := func(msg string) {
		res.non2xx++
		if res.firstErr == "" {
			res.firstErr = msg
		}
	}
	for ctx.Err() == nil && time.Now().Before(deadline) {
		r, err := pick()
		if err != nil {
			fail(err.Error())
			continue
		}
		c := conns[r.addr]
		if c == nil {
			nc, err := net.DialTimeout("tcp", r.addr, 5*time.Second)
			if err != nil {
				fail(err.Error())
				time.Sleep(10 * time.Millisecond) // a server gone: do not spin
				continue
			}
			c = &rawConn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10), req: &http.Request{Method: r.method}}
			conns[r.addr] = c
		}
		t0 := time.Now()
		_ = c.nc.SetDeadline(t0.Add(10 * time.Second))
		code, closeAfter, body, err := c.roundTrip(r)
		res.lat = append(res.lat, time.Since(t0))
		switch {
		case err != nil:
			fail(err.Error())
		case code < 200 || code > 299:
			fail(http.StatusText(code) + ": " + truncate(body, 120))
		default:
			res.ok++
		}
		if err != nil || closeAfter {
			c.nc.Close()
			delete(conns, r.addr)
		}
	}
	return res
}

type rawConn struct {
	nc  net.Conn
	br  *bufio.Reader
	req *http.Request // only its Method: ReadResponse needs it for HEAD
}

// roundTrip writes r and reads the whole answer; the body is returned only
// for a non-2xx status (for the notes).
func (c *rawConn) roundTrip(r *rawRequest) (code int, closeAfter bool, body string, err error) {
	if _, err := c.nc.Write(r.wire); err != nil {
		return 0, true, "", err
	}
	c.req.Method = r.method
	resp, err := http.ReadResponse(c.br, c.req)
	if err != nil {
		return 0, true, "", err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		body = string(b)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Close, body, err
}

// median of several runs of one target: the median of each figure taken
// separately, the sum of errors (the goal is zero across all rounds) and
// the peak RSS.
func median(runs []runStats) runStats {
	if len(runs) == 0 {
		return runStats{}
	}
	pick := func(f func(runStats) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if n := len(v); n%2 == 0 {
			return (v[n/2-1] + v[n/2]) / 2
		}
		return v[len(v)/2]
	}
	out := runStats{
		ReqPerSec: pick(func(r runStats) float64 { return r.ReqPerSec }),
		P50:       time.Duration(pick(func(r runStats) float64 { return float64(r.P50) })),
		P99:       time.Duration(pick(func(r runStats) float64 { return float64(r.P99) })),
		CPUPerReq: time.Duration(pick(func(r runStats) float64 { return float64(r.CPUPerReq) })),
	}
	for _, r := range runs {
		out.Rounds = append(out.Rounds, r.ReqPerSec)
		out.Requests += r.Requests
		out.Non2xx += r.Non2xx
		out.RSSMiB = max(out.RSSMiB, r.RSSMiB)
		out.LifetimePeak = out.LifetimePeak || r.LifetimePeak
		if out.FirstErr == "" {
			out.FirstErr = r.FirstErr
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

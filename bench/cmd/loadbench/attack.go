package main

import (
	"context"
	"net"
	"net/http"
	"sort"
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
// two-node scenario) in vegeta's max-rate mode: Rate{Freq: 0} means "no
// pacing", and Workers == MaxWorkers fixes the pool, so this is a closed
// loop of exactly `workers` in-flight requests (one keep-alive connection
// each per host) for `dur`. A constant rate would measure latency at a
// chosen load, not the maximum throughput we want to compare. The server
// figures (CPU, peak RSS) are summed resp. maxed over pids.
func attack(ctx context.Context, tgts []vegeta.Target, workers int, dur time.Duration, pids []int) runStats {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: workers,
		MaxConnsPerHost:     workers,
		DisableCompression:  true, // neither peer compresses; keep it equal
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections() // next run starts with fresh connections

	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(uint64(workers)),
		vegeta.MaxWorkers(uint64(workers)),
		vegeta.Redirects(vegeta.NoFollow),
	)
	var st runStats
	var cpu0 time.Duration
	for _, pid := range pids {
		if !resetPeakRSS(pid) {
			st.LifetimePeak = true
		}
		cpu0 += procCPU(pid)
	}
	var m vegeta.Metrics
	var ok uint64
	// The results channel closes when the duration is over (or on Stop), so
	// this loop is bounded by dur plus the 10 s request timeout.
	for res := range atk.Attack(roundRobin(tgts), vegeta.Rate{Freq: 0}, dur, "bench") {
		if ctx.Err() != nil {
			atk.Stop()
		}
		m.Add(res)
		if res.Code >= 200 && res.Code < 300 {
			ok++
			continue
		}
		st.Non2xx++
		if st.FirstErr == "" {
			st.FirstErr = res.Error
			if st.FirstErr == "" {
				st.FirstErr = http.StatusText(int(res.Code)) + ": " + truncate(string(res.Body), 120)
			}
		}
	}
	m.Close()
	var cpu1 time.Duration
	for _, pid := range pids {
		cpu1 += procCPU(pid)
		st.RSSMiB = max(st.RSSMiB, peakRSSMiB(pid))
	}
	if m.Requests > 0 && len(pids) > 0 {
		st.CPUPerReq = (cpu1 - cpu0) / time.Duration(m.Requests)
	}
	st.Requests = m.Requests
	st.P50, st.P99 = m.Latencies.P50, m.Latencies.P99
	if wall := m.End.Sub(m.Earliest); wall > 0 {
		st.ReqPerSec = float64(ok) / wall.Seconds()
	}
	return st
}

// roundRobin hands out the targets in turn; with one target it is vegeta's
// static targeter.
func roundRobin(tgts []vegeta.Target) vegeta.Targeter {
	if len(tgts) == 1 {
		return vegeta.NewStaticTargeter(tgts[0])
	}
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		*t = tgts[(n.Add(1)-1)%uint64(len(tgts))]
		return nil
	}
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

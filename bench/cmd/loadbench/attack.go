package main

import (
	"context"
	"net"
	"net/http"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// runStats is one fixed-duration run against one target.
type runStats struct {
	ReqPerSec float64       // 2xx responses per second of wall time
	P50, P99  time.Duration // over all responses
	Requests  uint64
	Non2xx    uint64 // includes transport errors (status 0)
	RSSMiB    float64
	CPUPerReq time.Duration // server CPU (user+sys) per response
	FirstErr  string        // first non-2xx status or transport error, for the notes
	Rounds    []float64     // req/s of each round, in order (set by median)
}

// attack drives tgt in vegeta's max-rate mode: Rate{Freq: 0} means "no
// pacing", and Workers == MaxWorkers fixes the pool, so this is a closed
// loop of exactly `workers` in-flight requests (one keep-alive connection
// each) for `dur`. A constant rate would measure latency at a chosen load,
// not the maximum throughput we want to compare.
func attack(ctx context.Context, tgt vegeta.Targeter, workers int, dur time.Duration, pid int) runStats {
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
	var rss *rssSampler
	var cpu0 time.Duration
	if pid > 0 {
		rss = sampleRSS(pid)
		cpu0 = procCPU(pid)
	}
	var m vegeta.Metrics
	var st runStats
	var ok uint64
	// The results channel closes when the duration is over (or on Stop), so
	// this loop is bounded by dur plus the 10 s request timeout.
	for res := range atk.Attack(tgt, vegeta.Rate{Freq: 0}, dur, "bench") {
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
	if rss != nil {
		st.RSSMiB = rss.stop()
		if m.Requests > 0 {
			st.CPUPerReq = (procCPU(pid) - cpu0) / time.Duration(m.Requests)
		}
	}
	st.Requests = m.Requests
	st.P50, st.P99 = m.Latencies.P50, m.Latencies.P99
	if wall := m.End.Sub(m.Earliest); wall > 0 {
		st.ReqPerSec = float64(ok) / wall.Seconds()
	}
	return st
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

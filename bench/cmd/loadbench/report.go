package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the results table.
type row struct {
	Scenario string
	Target   string
	Stats    runStats
	Note     string // why it was skipped, when it was
}

// backendReport is everything measured for one backend.
type backendReport struct {
	Name    string
	Note    string // whole backend skipped
	Rows    []row
	PeakRSS float64 // our server, MiB, over the whole session
}

func (b *backendReport) find(scenario, target string) *row {
	for i := range b.Rows {
		if b.Rows[i].Scenario == scenario && b.Rows[i].Target == target && b.Rows[i].Note == "" {
			return &b.Rows[i]
		}
	}
	return nil
}

func printTable(w io.Writer, b *backendReport) {
	fmt.Fprintf(w, "\n== backend: %s ==\n", b.Name)
	if b.Note != "" {
		fmt.Fprintf(w, "skipped: %s\n", b.Note)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\ttarget\treq/s\tp50\tp99\trequests\tnon-2xx\tmax RSS MiB\tCPU µs/req\t")
	for _, r := range b.Rows {
		if r.Note != "" {
			fmt.Fprintf(tw, "%s\t%s\tskipped\t\t\t\t\t\t\t\n", r.Scenario, r.Target)
			continue
		}
		s := r.Stats
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%d\t%d\t%.1f\t%.1f\t\n",
			r.Scenario, r.Target, s.ReqPerSec, ms(s.P50), ms(s.P99), s.Requests, s.Non2xx, s.RSSMiB, us(s.CPUPerReq))
	}
	tw.Flush()
	for _, r := range b.Rows {
		switch {
		case r.Note != "":
			fmt.Fprintf(w, "  note: %s/%s skipped: %s\n", r.Scenario, r.Target, r.Note)
		case r.Stats.Non2xx > 0:
			fmt.Fprintf(w, "  note: %s/%s first failure: %s\n", r.Scenario, r.Target, r.Stats.FirstErr)
		}
	}
}

// printGoals prints the ratios the issue sets goals for.
func printGoals(w io.Writer, b *backendReport) {
	if b.Note != "" {
		return
	}
	fmt.Fprintf(w, "goals (%s):\n", b.Name)
	if o, s := b.find("tokens", "ours"), b.find("tokens", "stock"); o != nil && s != nil && s.Stats.ReqPerSec > 0 {
		ratio := o.Stats.ReqPerSec / s.Stats.ReqPerSec
		fmt.Fprintf(w, "  tokens ours/stock  %5.2fx  (goal >= 1.20x, zero non-2xx: ours %d)  %s   per-round: %s\n",
			ratio, o.Stats.Non2xx, verdict(ratio >= 1.2 && o.Stats.Non2xx == 0), pairRatios(o.Stats.Rounds, s.Stats.Rounds))
		if o.Stats.CPUPerReq > 0 {
			fmt.Fprintf(w, "  tokens server CPU/token stock/ours  %.2fx  (%.1f vs %.1f µs; less sensitive to other load on the machine)\n",
				float64(s.Stats.CPUPerReq)/float64(o.Stats.CPUPerReq), us(s.Stats.CPUPerReq), us(o.Stats.CPUPerReq))
		}
	} else {
		fmt.Fprintln(w, "  tokens ours/stock  n/a (a side was skipped)")
	}
	if o, p := b.find("jwks", "ours"), b.find("jwks", "plain"); o != nil && p != nil && p.Stats.ReqPerSec > 0 {
		ratio := o.Stats.ReqPerSec / p.Stats.ReqPerSec
		fmt.Fprintf(w, "  jwks ours/plain    %5.2f   (goal >= 0.70)  %s   per-round: %s\n",
			ratio, verdict(ratio >= 0.70 && o.Stats.Non2xx == 0), pairRatios(o.Stats.Rounds, p.Stats.Rounds))
	} else {
		fmt.Fprintln(w, "  jwks ours/plain    n/a (a side was skipped)")
	}
	fmt.Fprintf(w, "  ours peak RSS      %5.1f MiB  (goal <= 150 MiB)  %s\n", b.PeakRSS, verdict(b.PeakRSS > 0 && b.PeakRSS <= 150))
}

// pairRatios shows ours/peer of each interleaved round: on a shared machine
// a wide spread says the load average, not the code, moved the median.
func pairRatios(ours, peer []float64) string {
	var parts []string
	for i := 0; i < len(ours) && i < len(peer); i++ {
		if peer[i] > 0 {
			parts = append(parts, fmt.Sprintf("%.2f", ours[i]/peer[i]))
		}
	}
	return strings.Join(parts, " ")
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)), "0"), ".") + "ms"
}

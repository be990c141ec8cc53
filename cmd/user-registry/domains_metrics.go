package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"user-registry/provider"
)

// writeImportMetrics writes the outcome of one `domains import` as a
// Prometheus text file (--metrics-file), the usual way for a batch job's
// figures to reach Prometheus (node_exporter's textfile collector): the
// rows by result, the lines read, how long it took, and whether it
// succeeded, labelled with the list it went into. The file is replaced
// atomically, so a scrape never reads half of it.
func writeImportMetrics(path, list string, res provider.DomainImportResult, took time.Duration, ok bool, now time.Time) error {
	reg := prometheus.NewRegistry()
	rows := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "user_registry_domain_import_rows",
		Help: "Rows of the last domains import by result (imported, present, duplicate, skipped).",
	}, []string{"list", "result"})
	lines := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "user_registry_domain_import_lines",
		Help: "Lines read by the last domains import.",
	}, []string{"list"})
	seconds := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "user_registry_domain_import_duration_seconds",
		Help: "How long the last domains import took.",
	}, []string{"list"})
	success := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "user_registry_domain_import_success",
		Help: "1 if the last domains import stored its rows, 0 if it stored nothing.",
	}, []string{"list"})
	at := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "user_registry_domain_import_timestamp_seconds",
		Help: "When the last domains import ended (unix time).",
	}, []string{"list"})
	reg.MustRegister(rows, lines, seconds, success, at)
	for result, n := range map[string]int{"imported": res.Imported, "present": res.Present,
		"duplicate": res.Duplicates, "skipped": res.Bad} {
		rows.WithLabelValues(list, result).Set(float64(n))
	}
	lines.WithLabelValues(list).Set(float64(res.Lines))
	seconds.WithLabelValues(list).Set(took.Seconds())
	if ok {
		success.WithLabelValues(list).Set(1)
	} else {
		success.WithLabelValues(list).Set(0)
	}
	at.WithLabelValues(list).Set(float64(now.Unix()))
	return prometheus.WriteToTextfile(path, reg)
}

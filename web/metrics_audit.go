package web

import (
	"github.com/prometheus/client_golang/prometheus"

	"user-registry/provider"
)

// auditStatser is an Auditor that counts (*provider.AuditWriter).
type auditStatser interface {
	Stats() provider.AuditStats
}

// registerAudit exports the audit writer's queue depth and counters, read
// at scrape time: the writer keeps them as atomics, so the request path
// pays nothing for the metrics.
func (m *metrics) registerAudit(a provider.Auditor) {
	w, ok := a.(auditStatser)
	if !ok {
		return
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "user_registry_audit_queue_depth",
			Help: "Audit events waiting to be written.",
		}, func() float64 { return float64(w.Stats().Queued) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "user_registry_audit_events_dropped_total",
			Help: "Audit events dropped because the queue was full.",
		}, func() float64 { return float64(w.Stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "user_registry_audit_events_failed_total",
			Help: "Audit events lost because the database refused their insert.",
		}, func() float64 { return float64(w.Stats().Failed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "user_registry_audit_events_written_total",
			Help: "Audit events stored.",
		}, func() float64 { return float64(w.Stats().Written) }),
	)
}

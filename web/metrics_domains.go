package web

import (
	"github.com/prometheus/client_golang/prometheus"

	"user-registry/provider"
)

// watchDomainPolicy exports what the domain policy costs (SPEC §13): its
// store lookups (one per uncached question, however long the list) and
// the answers it holds (bounded by provider.DomainPolicyCacheSize).
func (m *metrics) watchDomainPolicy(p *provider.DomainPolicy) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "user_registry_domain_policy_queries_total",
			Help: "Domain policy lookups sent to the database (cache misses).",
		}, func() float64 { return float64(p.Queries()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "user_registry_domain_policy_cache_entries",
			Help: "Domain policy answers held in memory.",
		}, func() float64 { return float64(p.CacheLen()) }),
	)
}

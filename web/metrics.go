package web

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds the Prometheus collectors of one handler; each New gets its
// own registry, so tests and several servers in one process don't collide.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// adminActions counts admin API changes (metrics_admin.go).
	adminActions *prometheus.CounterVec

	// Curried children of requests and duration (observe), bounded by the
	// routes × the status codes the server writes; mu serializes additions.
	children atomic.Pointer[map[routeCode]metricChild]
	mu       sync.Mutex
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "user_registry_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "user_registry_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"route"}),
		adminActions: newAdminActions(),
	}
	m.children.Store(&map[routeCode]metricChild{})
	m.reg.MustRegister(m.requests, m.duration, m.adminActions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// routeKey is the context key of the route-label slot (withRouteSlot).
// The label is the route template, never the raw path (which carries ids
// and domains), so label cardinality stays bounded.
type routeKey struct{}

// observe counts one response of route with status and records its
// latency. The children of the two vectors are looked up once per route
// and code and kept (curried) in a copy-on-write map, so a request costs
// one map read: no label hashing, no lock, no allocation.
func (m *metrics) observe(route string, status int, took time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	key := routeCode{route, status}
	c, ok := (*m.children.Load())[key]
	if !ok {
		c = m.child(key)
	}
	c.count.Inc()
	c.dur.Observe(took.Seconds())
}

type routeCode struct {
	route string
	code  int
}

// metricChild are the curried children of one route and status code.
type metricChild struct {
	count prometheus.Counter
	dur   prometheus.Observer
}

// child adds key's children to the map (a new map; readers keep the old
// one). It runs once per route and status code seen.
func (m *metrics) child(key routeCode) metricChild {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.children.Load()
	if c, ok := old[key]; ok {
		return c
	}
	c := metricChild{count: m.requests.WithLabelValues(key.route, strconv.Itoa(key.code)), dur: m.duration.WithLabelValues(key.route)}
	next := make(map[routeCode]metricChild, len(old)+1)
	maps.Copy(next, old)
	next[key] = c
	m.children.Store(&next)
	return c
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

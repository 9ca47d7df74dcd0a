package graph

import (
	"context"
	"regexp"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
)

type gqlMetrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec

	mu    sync.Mutex
	names map[string]bool // operation names given a label of their own
}

// maxOperationNames bounds the label values clients can create: names past
// it are counted as "other".
const maxOperationNames = 200

func newGQLMetrics(reg prometheus.Registerer) *gqlMetrics {
	m := &gqlMetrics{
		names: map[string]bool{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quarry_graphql_requests_total",
			Help: "GraphQL operations executed, by operation name, type and outcome.",
		}, []string{"operation", "type", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quarry_graphql_request_seconds",
			Help:    "Time from the start of parsing to the response, by operation name and type.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}, []string{"operation", "type"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.seconds)
	}
	return m
}

func (m *gqlMetrics) admit(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.names[name] {
		return true
	}
	if len(m.names) >= maxOperationNames {
		return false
	}
	m.names[name] = true
	return true
}

// operationName keeps label values readable: clients choose names.
var operationName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func (m *gqlMetrics) observe(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if !graphql.HasOperationContext(ctx) {
		return resp
	}
	oc := graphql.GetOperationContext(ctx)
	name, typ := "anonymous", "unknown"
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		if oc.Operation.Name != "" {
			name = oc.Operation.Name
		}
	}
	if !operationName.MatchString(name) || !m.admit(name) {
		name = "other"
	}
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "error"
	}
	m.requests.WithLabelValues(name, typ, outcome).Inc()
	m.seconds.WithLabelValues(name, typ).Observe(time.Since(oc.Stats.OperationStart).Seconds())
	return resp
}

package mcpserver

import (
	"context"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	calls   *prometheus.CounterVec
	seconds *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quarry_mcp_tool_calls_total",
			Help: "MCP tool calls, by tool and outcome: ok, error (a tool error: bad arguments, not found, a refused role) or failed (a protocol error).",
		}, []string{"tool", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quarry_mcp_tool_seconds",
			Help:    "Time an MCP tool call took, by tool.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}, []string{"tool"}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.seconds)
	}
	return m
}

// observe counts tools/call requests. Tool names are label values only
// when they are the server's: a client chooses the name it calls.
func (s *Server) observe(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		start := time.Now()
		res, err := next(ctx, method, req)
		tool := "unknown"
		if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok {
			if _, known := s.roles[p.Name]; known {
				tool = p.Name
			}
		}
		outcome := "ok"
		if r, ok := res.(*mcp.CallToolResult); err != nil || !ok {
			outcome = "failed"
		} else if r.IsError {
			outcome = "error"
		}
		s.metrics.calls.WithLabelValues(tool, outcome).Inc()
		s.metrics.seconds.WithLabelValues(tool).Observe(time.Since(start).Seconds())
		return res, err
	}
}

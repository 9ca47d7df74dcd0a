package mcpserver_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/quarrydata/quarry/server"
)

// BenchmarkTools calls each read tool over real HTTP (the go-sdk's client,
// a token, the demo catalog): what an assistant's question costs the
// server, and how large its answers are for a model to read.
func BenchmarkTools(b *testing.B) {
	s, viewer, _ := demoServer(b, &server.Access{})
	cs := connect(b, s, viewer)
	var found struct{ Hits []hit }
	call(b, cs, "search_datasets", map[string]any{"query": "daily revenue", "limit": 1}, &found)
	id := found.Hits[0].ID
	for _, bc := range []struct {
		tool string
		args map[string]any
	}{
		{"search_datasets", map[string]any{"query": "daily revenue"}},
		{"get_dataset", map[string]any{"id": id}},
		{"get_lineage", map[string]any{"id": id, "direction": "upstream"}},
		{"impact", map[string]any{"namespace": warehouse, "name": "analytics.marts.fct_orders"}},
		{"list_alerts", nil},
		{"search_jobs", map[string]any{"query": "orders"}},
	} {
		b.Run(bc.tool, func(b *testing.B) {
			ctx := context.Background()
			var size int
			for b.Loop() {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: bc.tool, Arguments: bc.args})
				if err != nil || res.IsError {
					b.Fatalf("%v %v", err, res)
				}
				raw, _ := json.Marshal(res.StructuredContent)
				size = len(raw)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			b.ReportMetric(float64(size), "answer-bytes")
		})
	}
}

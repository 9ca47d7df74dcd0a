package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// jobReads is the real store, counting its reads of jobs by id.
type jobReads struct {
	*store.Store
	calls atomic.Int32
}

func (s *jobReads) JobsByID(ctx context.Context, ids []string) ([]*quarry.Job, error) {
	s.calls.Add(1)
	return s.Store.JobsByID(ctx, ids)
}

// The executor answers every field of a lineage graph's jobs, and reads
// the jobs of all the graph's edges at once, whatever fields it is asked.
func TestLineageEdgeJobsInOneRead(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	st := storetest.MustOpen(t, nil)
	lin := lineage.NewGraph(st, st, &lineage.GraphOptions{Logger: quiet})
	if err := lin.Load(ctx); err != nil {
		t.Fatal(err)
	}
	reads := &jobReads{Store: st}
	res := graph.StoreResolver(st)
	res.JobStore, res.Graph, res.Log, res.Now = reads, lin, quiet, time.Now
	srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: res}))
	srv.AddTransport(transport.POST{})
	ask := func(query string, vars map[string]any) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		srv.ServeHTTP(w, r)
		var out struct {
			Data   map[string]any
			Errors []any
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out.Errors) > 0 || w.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", query, w.Code, w.Body)
		}
		return out.Data
	}
	// a -> j1 -> b -> j2 -> c -> j3 -> d
	for i, from := range []string{"a", "b", "c"} {
		ask(`mutation($in: RunInput!) { reportRun(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"job":   map[string]any{"namespace": "cron", "name": fmt.Sprintf("j%d", i+1), "type": "BATCH", "description": "step " + from},
			"state": "COMPLETE", "inputs": []any{map[string]any{"namespace": "s3://bucket", "name": from}},
			"outputs": []any{map[string]any{"namespace": "s3://bucket", "name": string(rune(from[0] + 1))}},
		}})
	}
	if err := lin.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	a := ask(`{ dataset(namespace: "s3://bucket", name: "a") { id } }`, nil)["dataset"].(map[string]any)["id"]
	for _, sel := range []string{"name type description", "namespace name"} {
		reads.calls.Store(0)
		g := ask(`query($id: ID!) { lineage(nodeId: $id, direction: DOWNSTREAM) { edges { job { `+sel+` } } } }`, map[string]any{"id": a})["lineage"].(map[string]any)
		edges := g["edges"].([]any)
		if len(edges) != 6 {
			t.Fatalf("%s: %d edges, want 6: %v", sel, len(edges), g)
		}
		for _, e := range edges {
			j := e.(map[string]any)["job"].(map[string]any)
			if !strings.HasPrefix(j["name"].(string), "j") || strings.Contains(sel, "type") && (j["type"] != "BATCH" || !strings.HasPrefix(j["description"].(string), "step ")) {
				t.Fatalf("%s: job %v", sel, j)
			}
		}
		if n := reads.calls.Load(); n != 1 {
			t.Errorf("%s: %d reads of jobs for %d edges, want 1", sel, n, len(edges))
		}
	}
}

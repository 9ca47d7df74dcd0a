package graph_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/lineage"
)

const reportRun = `mutation($in: RunInput!) { reportRun(input: $in) {
	id state startedAt endedAt durationMs errorMessage events
	job { namespace name sql } inputs { name } outputs { name } } }`

func runInput(runID, state, at string) map[string]any {
	return map[string]any{
		"job":       map[string]any{"namespace": "cron://etl-1", "name": "nightly_orders", "description": "Copies orders."},
		"runId":     runID,
		"state":     state,
		"eventTime": at,
		"inputs":    []any{map[string]any{"namespace": "postgresql://Shop-DB.internal", "name": "shop.public.orders"}},
		"outputs":   []any{map[string]any{"namespace": "redshift://wh.eu:5439", "name": "dw.raw.orders"}},
		"sql":       "INSERT INTO dw.raw.orders SELECT * FROM shop.public.orders",
		"columnLineage": []any{map[string]any{
			"output": map[string]any{"namespace": "redshift://wh.eu:5439", "name": "dw.raw.orders"},
			"column": "total_eur",
			"inputs": []any{
				map[string]any{"namespace": "postgresql://Shop-DB.internal", "name": "shop.public.orders", "column": "total", "transformation": "DIRECT/TRANSFORMATION"},
				map[string]any{"namespace": "postgresql://Shop-DB.internal", "name": "shop.public.orders", "column": "currency"},
			},
		}},
	}
}

func TestReportRun(t *testing.T) {
	s := newServer(t, graph.Limits{})
	const id = "0190b5c1-2f2a-7d3e-8a1b-0000000000aa"
	start := s.do(t, reportRun, map[string]any{"in": runInput(id, "START", "2026-11-21T02:00:00Z")}).ok(t)["reportRun"].(map[string]any)
	if start["state"] != "START" || start["endedAt"] != nil || start["job"].(map[string]any)["sql"] == nil {
		t.Fatalf("START: %v", start)
	}
	done := s.do(t, reportRun, map[string]any{"in": runInput(id, "COMPLETE", "2026-11-21T02:03:30Z")}).ok(t)["reportRun"].(map[string]any)
	if done["state"] != "COMPLETE" || done["durationMs"] != float64(210_000) || done["events"] != float64(2) {
		t.Fatalf("COMPLETE: %v", done)
	}
	// A retried mutation (same run, state and time) is stored once.
	again := s.do(t, reportRun, map[string]any{"in": runInput(id, "COMPLETE", "2026-11-21T02:03:30Z")}).ok(t)["reportRun"].(map[string]any)
	if again["events"] != float64(2) {
		t.Fatalf("retry counted: %v", again)
	}

	data := s.do(t, `{ job(namespace: "cron://etl-1", name: "nightly_orders") {
		description latestRun { id state } runs(first: 5) { nodes { id } pageInfo { hasNextPage } }
		inputs { namespace name } outputs { name writtenBy(first: 10) { name } lastUpdatedAt
			upstream(first: 20) { fromColumn toColumn transformation origin } } } }`, nil).ok(t)
	job := data["job"].(map[string]any)
	if job["description"] != "Copies orders." || job["latestRun"].(map[string]any)["id"] != id || len(job["runs"].(map[string]any)["nodes"].([]any)) != 1 {
		t.Fatalf("job: %v", job)
	}
	in := job["inputs"].([]any)[0].(map[string]any)
	if in["namespace"] != "postgres://shop-db.internal:5432" {
		t.Fatalf("input namespace not normalized: %v", in)
	}
	out := job["outputs"].([]any)[0].(map[string]any)
	if out["lastUpdatedAt"] != "2026-11-21T02:03:30Z" || out["writtenBy"].([]any)[0].(map[string]any)["name"] != "nightly_orders" {
		t.Fatalf("output: %v", out)
	}
	cols := 0
	for _, e := range out["upstream"].([]any) {
		e := e.(map[string]any)
		if e["origin"] != "RUN" {
			t.Fatalf("edge origin %v", e)
		}
		if e["toColumn"] == "total_eur" {
			cols++
		}
	}
	if cols != 2 {
		t.Fatalf("want 2 column edges into total_eur: %v", out["upstream"])
	}

	// A run without an id gets one; FAIL keeps its error.
	in2 := runInput("", "FAIL", "2026-11-22T02:00:00Z")
	delete(in2, "runId")
	in2["errorMessage"] = "connection refused"
	failed := s.do(t, reportRun, map[string]any{"in": in2}).ok(t)["reportRun"].(map[string]any)
	if failed["id"] == "" || failed["errorMessage"] != "connection refused" || failed["state"] != "FAIL" {
		t.Fatalf("FAIL: %v", failed)
	}
	run := s.do(t, `query($id: ID!) { run(id: $id) { id job { name } parent { id } children { id } } }`, map[string]any{"id": failed["id"]}).ok(t)["run"].(map[string]any)
	if run["job"].(map[string]any)["name"] != "nightly_orders" {
		t.Fatalf("run: %v", run)
	}
	if r := s.do(t, `{ run(id: "0190b5c1-2f2a-7d3e-8a1b-0000000000ff") { id } }`, nil).ok(t); r["run"] != nil {
		t.Fatalf("unknown run: %v", r)
	}

	// The job is searchable (the index follows the store within a second).
	if err := s.index.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	hits := s.do(t, `{ searchJobs(query: "nightly orders") { score job { namespace name } } }`, nil).ok(t)["searchJobs"].([]any)
	if len(hits) != 1 || hits[0].(map[string]any)["job"].(map[string]any)["name"] != "nightly_orders" {
		t.Fatalf("searchJobs: %v", hits)
	}
}

func TestReportRunInvalid(t *testing.T) {
	s := newServer(t, graph.Limits{})
	for _, tc := range []struct {
		name  string
		edit  func(map[string]any)
		field string
	}{
		{"BadRunID", func(in map[string]any) { in["runId"] = "12345" }, "input.runId"},
		{"NilRunID", func(in map[string]any) { in["runId"] = "00000000-0000-0000-0000-000000000000" }, "input.runId"},
		{"OwnParent", func(in map[string]any) { in["parentRunId"] = in["runId"] }, "input.parentRunId"},
		{"YearOne", func(in map[string]any) { in["eventTime"] = "0001-01-01T00:00:00Z" }, "input.eventTime"},
		{"BadNamespace", func(in map[string]any) {
			in["inputs"] = []any{map[string]any{"namespace": "postgres://db:0", "name": "x"}}
		}, "input.inputs[0].namespace"},
		{"EmptyOutputName", func(in map[string]any) {
			in["outputs"] = []any{map[string]any{"namespace": "postgres://db", "name": " "}}
		}, "input.outputs[0].name"},
		{"EmptyJobName", func(in map[string]any) { in["job"] = map[string]any{"namespace": "cron://x", "name": ""} }, "input.job.name"},
		{"ColumnWithoutName", func(in map[string]any) {
			in["columnLineage"].([]any)[0].(map[string]any)["column"] = ""
		}, "input.columnLineage[0].column"},
		{"BadState", func(in map[string]any) { in["state"] = "DONE" }, "in.state"}, // a bad variable value names the variable
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := runInput("0190b5c1-2f2a-7d3e-8a1b-0000000000bb", "COMPLETE", "2026-11-21T02:00:00Z")
			tc.edit(in)
			s.do(t, reportRun, map[string]any{"in": in}).oneError(t, quarry.EINVALID, tc.field)
		})
	}
	// A run id another job has is a conflict on the input's runId.
	s.do(t, reportRun, map[string]any{"in": runInput("0190b5c1-2f2a-7d3e-8a1b-0000000000cc", "START", "2026-11-21T02:00:00Z")}).ok(t)
	other := runInput("0190b5c1-2f2a-7d3e-8a1b-0000000000cc", "COMPLETE", "2026-11-21T02:05:00Z")
	other["job"] = map[string]any{"namespace": "cron://etl-1", "name": "another_job"}
	s.do(t, reportRun, map[string]any{"in": other}).oneError(t, "conflict", "input.runId")
	// So is one an OpenLineage event of another job claims while it waits
	// in the lineage log: applying the mutation first would drop the event.
	const pending = "0190b5c1-2f2a-7d3e-8a1b-0000000000dd"
	ev := `{"eventType":"START","eventTime":"2026-11-21T02:00:00Z","run":{"runId":"` + pending + `"},"job":{"namespace":"cron://etl-1","name":"nightly_orders"}}`
	if err := lineage.Ingest(context.Background(), s.store, []byte(ev)); err != nil {
		t.Fatal(err)
	}
	other = runInput(pending, "COMPLETE", "2026-11-21T02:05:00Z")
	other["job"] = map[string]any{"namespace": "cron://etl-1", "name": "another_job"}
	s.do(t, reportRun, map[string]any{"in": other}).oneError(t, "conflict", "input.runId")
	if err := s.store.SyncLineage(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Nothing of the invalid ones was stored.
	if jobs := s.do(t, `{ jobs { name } }`, nil).ok(t)["jobs"].([]any); len(jobs) != 1 {
		t.Fatalf("invalid runs stored jobs: %v", jobs)
	}
}

func TestManualEdges(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.do(t, upsert, map[string]any{"input": []any{orders(1), users()}}).ok(t)
	edge := map[string]any{
		"from": map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.users"},
		"to":   map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.orders_01"},
	}
	added := s.do(t, `mutation($e: LineageEdgeInput!) { addLineageEdge(input: $e) { origin fromDataset { name } } }`, map[string]any{"e": edge}).ok(t)
	if e := added["addLineageEdge"].(map[string]any); e["origin"] != "MANUAL" {
		t.Fatalf("added %v", e)
	}
	up := s.do(t, `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_01") { upstream { origin } } }`, nil).ok(t)
	if n := len(up["dataset"].(map[string]any)["upstream"].([]any)); n != 1 {
		t.Fatalf("upstream has %d edges", n)
	}
	const remove = `mutation($e: LineageEdgeInput!) { removeLineageEdge(input: $e) }`
	if r := s.do(t, remove, map[string]any{"e": edge}).ok(t); r["removeLineageEdge"] != true {
		t.Fatal(r)
	}
	s.do(t, remove, map[string]any{"e": edge}).oneError(t, quarry.ENOTFOUND, "input")
	edge["to"] = map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.nope"}
	s.do(t, `mutation($e: LineageEdgeInput!) { addLineageEdge(input: $e) { origin } }`, map[string]any{"e": edge}).oneError(t, quarry.ENOTFOUND, "input.to")
	edge["to"] = map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.orders_01"}
	edge["fromColumn"], edge["toColumn"] = "id", "nope"
	s.do(t, `mutation($e: LineageEdgeInput!) { addLineageEdge(input: $e) { origin } }`, map[string]any{"e": edge}).oneError(t, quarry.ENOTFOUND, "input.toColumn")
}

// fixture is the path of a file under ../shared/fixtures.
func fixture(rel string) string { return filepath.Join("..", "..", "shared", "fixtures", rel) }

// A job that only writes (a seed, a load from outside) has no lineage edge,
// yet it writes the dataset: writtenBy lists it, until the run that
// completes next writes something else.
func TestWriteOnlyJob(t *testing.T) {
	s := newServer(t, graph.Limits{})
	seed := func(runID, at, table string) {
		s.do(t, reportRun, map[string]any{"in": map[string]any{
			"job": map[string]any{"namespace": "dbt://jaffle", "name": "seed.raw_countries"}, "runId": runID, "state": "COMPLETE", "eventTime": at,
			"outputs": []any{map[string]any{"namespace": "postgres://wh:5432", "name": table}},
		}}).ok(t)
	}
	writers := func(table string) []string {
		t.Helper()
		d := s.do(t, `query($n: String!) { dataset(namespace: "postgres://wh:5432", name: $n) { writtenBy { name } readBy { name } } }`,
			map[string]any{"n": table}).ok(t)["dataset"].(map[string]any)
		var out []string
		for _, j := range d["writtenBy"].([]any) {
			out = append(out, j.(map[string]any)["name"].(string))
		}
		return out
	}
	seed("0190b5c1-2f2a-7d3e-8a1b-0000000000a1", "2026-11-20T02:00:00Z", "wh.raw.countries")
	if w := writers("wh.raw.countries"); len(w) != 1 || w[0] != "seed.raw_countries" {
		t.Fatalf("writtenBy %v", w)
	}
	seed("0190b5c1-2f2a-7d3e-8a1b-0000000000a2", "2026-11-21T02:00:00Z", "wh.raw.countries_v2")
	if w := writers("wh.raw.countries"); len(w) != 0 {
		t.Fatalf("after a run that writes elsewhere, writtenBy %v", w)
	}
	if w := writers("wh.raw.countries_v2"); len(w) != 1 {
		t.Fatalf("the new table's writtenBy %v", w)
	}
	// A late event of the old run changes nothing.
	seed("0190b5c1-2f2a-7d3e-8a1b-0000000000a1", "2026-11-20T02:00:09Z", "wh.raw.countries")
	if w := writers("wh.raw.countries"); len(w) != 0 {
		t.Fatalf("after a late event of the old run, writtenBy %v", w)
	}
}

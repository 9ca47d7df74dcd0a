package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/store/storetest"
)

const (
	deprecate   = `mutation($id: ID!, $in: DeprecationInput!) { deprecateDataset(id: $id, input: $in) { deprecated { note by fromDbt at replacement { name } } } }`
	undeprecate = `mutation($id: ID!) { undeprecateDataset(id: $id) { deprecated { note } } }`
	endorse     = `mutation($id: ID!, $note: String) { endorseDataset(id: $id, note: $note) { endorsed { by note at } } }`
	unendorse   = `mutation($id: ID!) { unendorseDataset(id: $id) { endorsed { by } } }`
	problems    = `query($ns: String!, $n: String!, $depth: Int) { dataset(namespace: $ns, name: $n) {
		upstreamProblems(depth: $depth) { kind distance level check column message dataset { name } job { name } path { kind name } } } }`
)

func datasetID(t *testing.T, s *server, ns, name string) string {
	t.Helper()
	d := s.do(t, `query($ns: String!, $n: String!) { dataset(namespace: $ns, name: $n) { id } }`, map[string]any{"ns": ns, "n": name}).ok(t)["dataset"]
	if d == nil {
		t.Fatalf("no dataset %s %s", ns, name)
	}
	return d.(map[string]any)["id"].(string)
}

func TestDeprecateAndEndorse(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.do(t, upsert, map[string]any{"input": []any{orders(1), orders(2)}}).ok(t)
	old, repl := datasetID(t, s, "postgres://shop-db.internal:5432", "shop.public.orders_01"), datasetID(t, s, "postgres://shop-db.internal:5432", "shop.public.orders_02")

	t.Run("Deprecate", func(t *testing.T) {
		d := s.do(t, deprecate, map[string]any{"id": old, "in": map[string]any{"note": " use orders_02 ", "replacementId": repl}}).ok(t)["deprecateDataset"].(map[string]any)["deprecated"].(map[string]any)
		if d["note"] != "use orders_02" || d["by"] == "" || d["fromDbt"] != false || d["at"] == nil || d["replacement"].(map[string]any)["name"] != "shop.public.orders_02" {
			t.Fatalf("deprecated: %v", d)
		}
		h := s.do(t, `query($id: ID!) { dataset(id: $id) { metadataHistory { field oldValue newValue } } }`, map[string]any{"id": old}).ok(t)["dataset"].(map[string]any)["metadataHistory"].([]any)
		if len(h) != 1 || h[0].(map[string]any)["field"] != "deprecated" || h[0].(map[string]any)["oldValue"] != "" {
			t.Fatalf("history: %v", h)
		}
	})
	t.Run("ErrReplacementUnknown", func(t *testing.T) {
		s.do(t, deprecate, map[string]any{"id": old, "in": map[string]any{"replacementId": quarry.NewID(quarry.EntityDataset, "postgres://x:5432", "a.b")}}).oneError(t, "invalid", "input.replacementId")
	})
	t.Run("ErrReplacementItself", func(t *testing.T) {
		s.do(t, deprecate, map[string]any{"id": repl, "in": map[string]any{"replacementId": repl}}).oneError(t, "invalid", "input.replacementId")
		if d := s.do(t, `query($id: ID!) { dataset(id: $id) { deprecated { note } } }`, map[string]any{"id": repl}).ok(t)["dataset"].(map[string]any)["deprecated"]; d != nil {
			t.Fatalf("a refused deprecation was stored: %v", d)
		}
	})
	t.Run("Undeprecate", func(t *testing.T) {
		if d := s.do(t, undeprecate, map[string]any{"id": old}).ok(t)["undeprecateDataset"].(map[string]any)["deprecated"]; d != nil {
			t.Fatalf("still deprecated: %v", d)
		}
	})
	t.Run("Endorse", func(t *testing.T) {
		e := s.do(t, endorse, map[string]any{"id": repl, "note": "the finance team's source of truth"}).ok(t)["endorseDataset"].(map[string]any)["endorsed"].(map[string]any)
		if e["note"] != "the finance team's source of truth" || e["by"] == "" || e["at"] == nil {
			t.Fatalf("endorsed: %v", e)
		}
		if e := s.do(t, unendorse, map[string]any{"id": repl}).ok(t)["unendorseDataset"].(map[string]any)["endorsed"]; e != nil {
			t.Fatalf("still endorsed: %v", e)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s.do(t, endorse, map[string]any{"id": quarry.NewID(quarry.EntityDataset, "postgres://x:5432", "a.b")}).oneError(t, "not_found", "")
	})
}

// orders -> nightly_orders -> dw.raw.orders -> mart_daily -> dw.mart.daily:
// a failing check two hops up, a failed run writing the dataset and a
// deprecated direct input, nearest and worst first.
func TestUpstreamProblems(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	c := storetest.NewClock(t0)
	s := newServerAt(t, c.Now, graph.Limits{})
	at := t0.Add(-time.Hour).Format(time.RFC3339)
	s.do(t, reportRun, map[string]any{"in": runInput("0190b5c1-2f2a-7d3e-8a1b-0000000000a1", "COMPLETE", at)}).ok(t)
	mart := runInput("0190b5c1-2f2a-7d3e-8a1b-0000000000a2", "COMPLETE", at)
	mart["job"] = map[string]any{"namespace": "cron://etl-1", "name": "mart_daily"}
	mart["inputs"] = []any{map[string]any{"namespace": "redshift://wh.eu:5439", "name": "dw.raw.orders"}}
	mart["outputs"] = []any{map[string]any{"namespace": "redshift://wh.eu:5439", "name": "dw.mart.daily"}}
	delete(mart, "columnLineage")
	mart["sql"] = "INSERT INTO dw.mart.daily SELECT 1"
	s.do(t, reportRun, map[string]any{"in": mart}).ok(t)
	// Its next run fails: failed runs report no lineage, the last one's stays.
	mart["runId"], mart["state"], mart["eventTime"] = "0190b5c1-2f2a-7d3e-8a1b-0000000000a3", "FAIL", t0.Add(-time.Minute).Format(time.RFC3339)
	s.do(t, reportRun, map[string]any{"in": mart}).ok(t)
	shop := map[string]any{"namespace": "postgresql://Shop-DB.internal", "name": "shop.public.orders"}
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": shop, "name": "row_count", "status": "FAIL"}}).ok(t)
	if _, err := alert.New(s.store, &alert.Options{Now: c.Now}).Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw := datasetID(t, s, "redshift://wh.eu:5439", "dw.raw.orders")
	s.do(t, deprecate, map[string]any{"id": raw, "in": map[string]any{"note": "moving to dw.raw.orders_v2"}}).ok(t)
	if err := s.lineage.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}

	vars := map[string]any{"ns": "redshift://wh.eu:5439", "n": "dw.mart.daily"}
	got := s.do(t, problems, vars).ok(t)["dataset"].(map[string]any)["upstreamProblems"].([]any)
	type problem struct {
		kind, dataset string
		distance      float64
		path          int
	}
	want := []problem{{"RUN_FAILED", "dw.mart.daily", 1, 2}, {"DEPRECATED", "dw.raw.orders", 1, 3}, {"CHECK_FAILING", "shop.public.orders", 2, 5}}
	if len(got) != len(want) {
		t.Fatalf("problems: %v", got)
	}
	for i, w := range want {
		p := got[i].(map[string]any)
		if g := (problem{p["kind"].(string), p["dataset"].(map[string]any)["name"].(string), p["distance"].(float64), len(p["path"].([]any))}); g != w {
			t.Fatalf("problem %d: %v, want %+v", i, p, w)
		}
	}
	check := got[2].(map[string]any)
	path := check["path"].([]any)
	if check["check"] != "row_count" || check["column"] != "" || check["level"] != "ERROR" ||
		path[0].(map[string]any)["name"] != "shop.public.orders" || path[1].(map[string]any)["kind"] != "JOB" || path[4].(map[string]any)["name"] != "dw.mart.daily" {
		t.Fatalf("the failing check: %v", check)
	}
	if run := got[0].(map[string]any); run["job"].(map[string]any)["name"] != "mart_daily" || run["level"] != "ERROR" {
		t.Fatalf("the failed run: %v", run)
	}

	t.Run("Depth", func(t *testing.T) {
		vars["depth"] = 1
		if got := s.do(t, problems, vars).ok(t)["dataset"].(map[string]any)["upstreamProblems"].([]any); len(got) != 2 {
			t.Fatalf("depth 1: %v", got)
		}
	})
	t.Run("ErrDepth", func(t *testing.T) {
		vars["depth"] = 11
		s.do(t, problems, vars).oneError(t, "invalid", "depth")
		vars["depth"] = 0
		s.do(t, problems, vars).oneError(t, "invalid", "depth")
	})
	t.Run("NoLineage", func(t *testing.T) {
		s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
		got := s.do(t, problems, map[string]any{"ns": "postgres://shop-db.internal:5432", "n": "shop.public.orders_01"}).ok(t)
		if p := got["dataset"].(map[string]any)["upstreamProblems"].([]any); len(p) != 0 {
			t.Fatalf("problems without lineage: %v", p)
		}
	})
}

// A deprecated dataset goes late without an alert; an open one resolves
// when it is deprecated, and opens again when it is live.
func TestDeprecatedRaisesNoFreshnessAlert(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	c := storetest.NewClock(t0)
	s := newServerAt(t, c.Now, graph.Limits{})
	a := alert.New(s.store, &alert.Options{Now: c.Now})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	s.do(t, `mutation($in: FreshnessPolicyInput!) { setFreshnessPolicy(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"dataset": ref(1), "warnAfter": "1h"}}).ok(t)
	s.do(t, reportUpdate, map[string]any{"d": ref(1)}).ok(t)
	id := datasetID(t, s, "postgres://shop-db.internal:5432", "shop.public.orders_01")

	c.Add(2 * time.Hour)
	sameTransitions(t, "late", evaluate(t, a), transition{"FRESHNESS", "shop.public.orders_01", "", quarry.AlertOpened, quarry.LevelWarn})
	s.do(t, deprecate, map[string]any{"id": id, "in": map[string]any{}}).ok(t)
	c.Add(time.Minute)
	sameTransitions(t, "deprecated", evaluate(t, a), transition{"FRESHNESS", "shop.public.orders_01", "", quarry.AlertResolved, quarry.LevelWarn})
	c.Add(2 * time.Hour)
	sameTransitions(t, "later", evaluate(t, a))
	f := s.do(t, `query($id: ID!) { dataset(id: $id) { freshness { status } } }`, map[string]any{"id": id}).ok(t)
	if st := f["dataset"].(map[string]any)["freshness"].(map[string]any)["status"]; st != "WARN" {
		t.Fatalf("a deprecated dataset is still late: %v", st)
	}
	s.do(t, undeprecate, map[string]any{"id": id}).ok(t)
	c.Add(time.Minute)
	sameTransitions(t, "live again", evaluate(t, a), transition{"FRESHNESS", "shop.public.orders_01", "", quarry.AlertOpened, quarry.LevelWarn})
}

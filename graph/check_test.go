package graph_test

import (
	"testing"

	"github.com/quarrydata/quarry/graph"
)

const reportCheck = `mutation($in: CheckInput!) { reportCheck(input: $in) { name column status observed observedAt } }`

func TestReportCheck(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	ref := map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.orders_01"}
	for _, in := range []map[string]any{
		{"dataset": ref, "name": "row_count_positive", "status": "PASS", "observed": "5000000000", "observedAt": "2026-11-21T03:00:00Z"},
		{"dataset": ref, "column": "user_id", "name": "not_null", "status": "WARN", "observedAt": "2026-11-21T03:00:00Z"},
		{"dataset": ref, "column": "user_id", "name": "not_null", "status": "FAIL", "message": "12 nulls", "observedAt": "2026-11-22T03:00:00Z"},
	} {
		got := s.do(t, reportCheck, map[string]any{"in": in}).ok(t)["reportCheck"].(map[string]any)
		if got["status"] != in["status"] || got["observedAt"] != in["observedAt"] {
			t.Fatalf("reportCheck %v: %v", in, got)
		}
	}
	d := s.do(t, `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_01") {
		checks { name column status message } health { status checks passing warning failing errored } } }`, nil).ok(t)["dataset"].(map[string]any)
	hist := s.do(t, `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_01") {
		checks { name history { status observedAt } } } }`, nil).ok(t)["dataset"].(map[string]any)["checks"].([]any)
	for _, c := range hist {
		c := c.(map[string]any)
		h := c["history"].([]any)
		if c["name"] == "not_null" && (len(h) != 2 || h[0].(map[string]any)["status"] != "FAIL" || h[1].(map[string]any)["status"] != "WARN") {
			t.Fatalf("not_null's history, newest first: %v", h)
		}
	}
	h := d["health"].(map[string]any)
	if h["status"] != "FAIL" || h["checks"] != float64(2) || h["passing"] != float64(1) || h["failing"] != float64(1) || h["warning"] != float64(0) {
		t.Fatalf("health %v (checks %v)", h, d["checks"])
	}

	// Bad input names the field; an unknown dataset or column is not_found.
	bad := map[string]any{"dataset": ref, "name": "x", "status": "PASS"}
	bad["runId"] = "nope"
	s.do(t, reportCheck, map[string]any{"in": bad}).oneError(t, "invalid", "input.runId")
	delete(bad, "runId")
	bad["name"] = " "
	s.do(t, reportCheck, map[string]any{"in": bad}).oneError(t, "invalid", "input.name")
	bad["name"], bad["status"] = "x", "MAYBE"
	s.do(t, reportCheck, map[string]any{"in": bad}).oneError(t, "invalid", "in.status")
	bad["status"], bad["observedAt"] = "PASS", "2999-01-01T00:00:00Z" // it would stay the latest for good
	s.do(t, reportCheck, map[string]any{"in": bad}).oneError(t, "invalid", "input.observedAt")
	delete(bad, "observedAt")
	bad["column"] = "nope"
	s.do(t, reportCheck, map[string]any{"in": bad}).oneError(t, "not_found", "input.column")
	delete(bad, "column")
	bad["dataset"] = map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.nope"}
	s.do(t, reportCheck, map[string]any{"in": bad}).oneError(t, "not_found", "input.dataset")
	if h := s.do(t, `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_01") { health { checks } } }`, nil).ok(t)["dataset"].(map[string]any)["health"].(map[string]any); h["checks"] != float64(2) {
		t.Fatalf("a bad check was stored: %v", h)
	}
}

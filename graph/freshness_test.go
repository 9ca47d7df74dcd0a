package graph_test

import (
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph"
)

func TestFreshness(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	ref := map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.orders_01"}
	const read = `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_01") {
		lastUpdatedAt freshness { status lastUpdatedAt expectedBy policy { warnAfter errorAfter } } dataChanges { at signal } } }`
	fresh := func() map[string]any {
		t.Helper()
		return s.do(t, read, nil).ok(t)["dataset"].(map[string]any)
	}
	if f := fresh()["freshness"].(map[string]any); f["status"] != "UNKNOWN" || f["policy"] != nil {
		t.Fatalf("no policy: %v", f)
	}
	const set = `mutation($in: FreshnessPolicyInput!) { setFreshnessPolicy(input: $in) { freshness { status policy { warnAfter errorAfter } } } }`
	got := s.do(t, set, map[string]any{"in": map[string]any{"dataset": ref, "warnAfter": "60m", "errorAfter": "24h"}}).ok(t)
	if f := got["setFreshnessPolicy"].(map[string]any)["freshness"].(map[string]any); f["status"] != "UNKNOWN" ||
		f["policy"].(map[string]any)["warnAfter"] != "1h" || f["policy"].(map[string]any)["errorAfter"] != "1d" {
		t.Fatalf("a policy without data changes: %v", f)
	}

	const update = `mutation($d: DatasetRefInput!, $at: Time) { reportDataUpdate(dataset: $d, at: $at) { lastUpdatedAt } }`
	now := time.Now().UTC().Truncate(time.Second)
	twoHours := now.Add(-2 * time.Hour).Format(time.RFC3339)
	s.do(t, update, map[string]any{"d": ref, "at": twoHours}).ok(t)
	d := fresh()
	f := d["freshness"].(map[string]any)
	if f["status"] != "WARN" || f["lastUpdatedAt"] != twoHours || f["expectedBy"] != now.Add(-time.Hour).Format(time.RFC3339) {
		t.Fatalf("two hours old, warn after an hour: %v", f)
	}
	// An older observation is kept but does not move lastUpdatedAt.
	s.do(t, update, map[string]any{"d": ref, "at": now.Add(-72 * time.Hour).Format(time.RFC3339)}).ok(t)
	d = fresh()
	if d["lastUpdatedAt"] != twoHours || len(d["dataChanges"].([]any)) != 2 || d["dataChanges"].([]any)[0].(map[string]any)["signal"] != "manual" {
		t.Fatalf("after an older observation: %v", d)
	}
	s.do(t, update, map[string]any{"d": ref}).ok(t) // now
	if f := fresh()["freshness"].(map[string]any); f["status"] != "FRESH" {
		t.Fatalf("just updated: %v", f)
	}

	// Bad input names the field.
	s.do(t, set, map[string]any{"in": map[string]any{"dataset": ref, "warnAfter": "soon"}}).oneError(t, "invalid", "input.warnAfter")
	s.do(t, set, map[string]any{"in": map[string]any{"dataset": ref, "warnAfter": "2d", "errorAfter": "1d"}}).oneError(t, "invalid", "input.warnAfter")
	s.do(t, set, map[string]any{"in": map[string]any{"dataset": map[string]any{"namespace": "postgres://x", "name": "y"}, "warnAfter": "1h"}}).oneError(t, "not_found", "input.dataset")
	s.do(t, update, map[string]any{"d": ref, "at": now.Add(time.Hour).Format(time.RFC3339)}).oneError(t, "invalid", "at")

	// No thresholds removes the policy: three updates are too few to learn
	// one from.
	got = s.do(t, set, map[string]any{"in": map[string]any{"dataset": ref}}).ok(t)
	if f := got["setFreshnessPolicy"].(map[string]any)["freshness"].(map[string]any); f["status"] != "UNKNOWN" || f["policy"] != nil {
		t.Fatalf("after removing the policy: %v", f)
	}

	// Daily loads teach it a policy; a day and a half without one is late.
	s.do(t, upsert, map[string]any{"input": []any{orders(2)}}).ok(t)
	daily := map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.orders_02"}
	for i := 6; i >= 2; i-- {
		s.do(t, update, map[string]any{"d": daily, "at": now.Add(-time.Duration(i) * 24 * time.Hour).Format(time.RFC3339)}).ok(t)
	}
	f = s.do(t, `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_02") {
		freshness { status inferred expectedBy policy { warnAfter errorAfter } } } }`, nil).ok(t)["dataset"].(map[string]any)["freshness"].(map[string]any)
	if f["status"] != "WARN" || f["inferred"] != true || f["policy"].(map[string]any)["warnAfter"] != "1d12h" ||
		f["expectedBy"] != now.Add(-12*time.Hour).Format(time.RFC3339) {
		t.Fatalf("two days after the last of 5 daily loads: %v", f)
	}
}

// Config defaults apply by tag (and source, and name pattern); a policy set
// on the dataset wins.
func TestFreshnessDefaults(t *testing.T) {
	s := newServer(t, graph.Limits{}, func(c *handlerConfig) {
		c.FreshnessDefaults = []quarry.PolicyDefault{
			{Name: "shop.public.nothing_*", Policy: quarry.FreshnessPolicy{WarnAfter: time.Minute}},
			{Tag: "tier1", Policy: quarry.FreshnessPolicy{WarnAfter: time.Hour, ErrorAfter: 6 * time.Hour}},
		}
	})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t) // tagged tier1
	ref := map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.orders_01"}
	s.do(t, `mutation($d: DatasetRefInput!, $at: Time) { reportDataUpdate(dataset: $d, at: $at) { id } }`,
		map[string]any{"d": ref, "at": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)}).ok(t)
	const read = `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_01") { freshness { status origin policy { warnAfter errorAfter } } } }`
	f := s.do(t, read, nil).ok(t)["dataset"].(map[string]any)["freshness"].(map[string]any)
	if f["status"] != "WARN" || f["origin"] != "DEFAULT" || f["policy"].(map[string]any)["errorAfter"] != "6h" {
		t.Fatalf("the tier1 default: %v", f)
	}
	s.do(t, `mutation($in: FreshnessPolicyInput!) { setFreshnessPolicy(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"dataset": ref, "warnAfter": "3h"}}).ok(t)
	f = s.do(t, read, nil).ok(t)["dataset"].(map[string]any)["freshness"].(map[string]any)
	if f["status"] != "FRESH" || f["origin"] != "SET" {
		t.Fatalf("a policy set on the dataset: %v", f)
	}
}

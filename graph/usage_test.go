package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/store"
)

// TestDatasetUsage: Dataset.usage adds up the days asked for, says why
// usage is not available where no crawl read it, and refuses a bad days.
func TestDatasetUsage(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	s := newServerAt(t, func() time.Time { return now }, graph.Limits{})
	ctx := context.Background()
	ns := "postgres://shop-db.internal:5432"
	_, err := s.store.UpsertDatasets(ctx, []quarry.Dataset{
		{Namespace: ns, Name: "shop.public.orders", Kind: quarry.KindTable, Database: "shop", Schema: "public"},
		{Namespace: ns, Name: "shop.public.lonely", Kind: quarry.KindTable, Database: "shop", Schema: "public"},
		{Namespace: "s3://bucket", Name: "raw/orders.csv", Kind: quarry.KindFile},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := quarry.NewID(quarry.EntityDataset, ns, "shop.public.orders")
	record := func(day string, d quarry.UsageDay) {
		t.Helper()
		err := s.store.RecordUsage(ctx, ns, "shop", store.UsageRecord{
			Status: store.UsageStatus{Available: true}, Baseline: &store.UsageBaseline{}, Day: day,
			Datasets: map[string]quarry.UsageDay{id: d},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	q := quarry.UsageQuery{Text: "SELECT * FROM orders WHERE id = $1", User: "analyst_a", Calls: 50, MeanMs: 0.5}
	record("2026-01-01", quarry.UsageDay{Reads: 1000, Users: []quarry.UsageUser{{Name: "old", Calls: 9}}})
	record("2026-03-09", quarry.UsageDay{Reads: 50, Calls: 50, Users: []quarry.UsageUser{{Name: "analyst_a", Calls: 50}}, Queries: []quarry.UsageQuery{q}})
	record("2026-03-10", quarry.UsageDay{Reads: 5, Writes: 3, Calls: 5, Users: []quarry.UsageUser{{Name: "analyst_b", Calls: 5}}})

	const query = `query($ns: String!, $name: String!, $days: Int) { dataset(namespace: $ns, name: $name) {
		usage(days: $days) { available reason reads writes calls users { name calls } queries { text calls meanMs user } daily { day reads writes calls } popularity } } }`
	usage := func(ns, name string, days any) map[string]any {
		t.Helper()
		return s.do(t, query, map[string]any{"ns": ns, "name": name, "days": days}).ok(t)["dataset"].(map[string]any)["usage"].(map[string]any)
	}
	u := usage(ns, "shop.public.orders", nil)
	if u["available"] != true || u["reason"] != "" || u["reads"] != 55.0 || u["writes"] != 3.0 || u["calls"] != 55.0 {
		t.Fatalf("usage = %v", u)
	}
	if users := u["users"].([]any); len(users) != 2 || users[0].(map[string]any)["name"] != "analyst_a" || users[1].(map[string]any)["calls"] != 5.0 {
		t.Fatalf("users = %v", users)
	}
	if qs := u["queries"].([]any); len(qs) != 1 || qs[0].(map[string]any)["text"] != q.Text || qs[0].(map[string]any)["user"] != "analyst_a" || qs[0].(map[string]any)["meanMs"] != 0.5 {
		t.Fatalf("queries = %v", qs)
	}
	if daily := u["daily"].([]any); len(daily) != 2 || daily[0].(map[string]any)["day"] != "2026-03-09" {
		t.Fatalf("daily = %v", daily)
	}
	if u := usage(ns, "shop.public.orders", 1); u["reads"] != 5.0 || len(u["daily"].([]any)) != 1 {
		t.Fatalf("usage of today = %v", u)
	}
	if u := usage(ns, "shop.public.lonely", nil); u["available"] != true || u["reads"] != 0.0 || len(u["daily"].([]any)) != 0 {
		t.Fatalf("usage of an unused table = %v", u)
	}
	if u := usage("s3://bucket", "raw/orders.csv", nil); u["available"] != false || u["reason"] == "" {
		t.Fatalf("usage of a file no crawl reads = %v", u)
	}
	for _, days := range []int{0, 366} {
		s.do(t, query, map[string]any{"ns": ns, "name": "shop.public.orders", "days": days}).oneError(t, "invalid", "days")
	}
}

// TestSearchPopularity: search(sort: POPULARITY) puts the used dataset
// first, and each hit says its popularity.
func TestSearchPopularity(t *testing.T) {
	now := time.Now()
	s := newServerAt(t, func() time.Time { return now }, graph.Limits{})
	ctx := context.Background()
	ns := "postgres://wh:5432"
	var in []quarry.Dataset
	for _, n := range []string{"wh.a.revenue", "wh.b.revenue", "wh.c.revenue"} {
		in = append(in, quarry.Dataset{Namespace: ns, Name: n, Kind: quarry.KindTable, Database: "wh"})
	}
	if _, err := s.store.UpsertDatasets(ctx, in); err != nil {
		t.Fatal(err)
	}
	used := quarry.NewID(quarry.EntityDataset, ns, "wh.b.revenue")
	err := s.store.RecordUsage(ctx, ns, "wh", store.UsageRecord{Baseline: &store.UsageBaseline{}, Day: quarry.UsageDayOf(now),
		Datasets: map[string]quarry.UsageDay{used: {Reads: 10, Users: []quarry.UsageUser{{Name: "ann", Calls: 1}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.index.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	hits := s.do(t, `{ search(query: "revenue", sort: POPULARITY) { hits { popularity dataset { name usage { popularity } } } } }`, nil).ok(t)["search"].(map[string]any)["hits"].([]any)
	if len(hits) != 3 {
		t.Fatalf("hits = %v", hits)
	}
	first := hits[0].(map[string]any)
	if first["popularity"] != 100.0 || first["dataset"].(map[string]any)["name"] != "wh.b.revenue" ||
		first["dataset"].(map[string]any)["usage"].(map[string]any)["popularity"] != 100.0 || hits[1].(map[string]any)["popularity"] != 0.0 {
		t.Fatalf("hits by popularity = %v", hits)
	}
}

package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/demo"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

const warehouse = "redshift://analytics.us-east-1:5439"

// openStore opens a real store on a temporary file; its clock starts at t.
func openStore(t *testing.T, at time.Time) (*store.Store, *storetest.Clock) {
	t.Helper()
	c := storetest.NewClock(at)
	return storetest.MustOpen(t, &store.Options{Now: c.Now, NoSync: true}), c
}

func load(t *testing.T, st *store.Store, now time.Time) demo.Result {
	t.Helper()
	res, err := demo.Load(context.Background(), st, now)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// runs counts the runs of every job in the store.
func runs(t *testing.T, st *store.Store) int {
	t.Helper()
	ctx := context.Background()
	jobs, err := st.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range jobs {
		page, err := st.Runs(ctx, j.ID, 10_000, "")
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Runs)
	}
	return n
}

func lastSeq(t *testing.T, st *store.Store) uint64 {
	t.Helper()
	seq, err := st.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// The demo's ETL runs arrive as OpenLineage events, are applied before Load
// returns, and draw the catalog the README's tour shows.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	st, _ := openStore(t, now)
	res := load(t, st, now)
	if res.Datasets < 43 || res.Datasets > 52 || res.Changed != res.Datasets {
		t.Fatalf("loaded %+v", res)
	}
	if res.Runs < 150 || res.Events != 2*res.Runs {
		t.Fatalf("loaded %+v", res)
	}
	// Applied, not only accepted: every run is there when Load returns.
	if st.LineageBacklog() != 0 {
		t.Fatalf("%d events wait to be applied", st.LineageBacklog())
	}
	if n := runs(t, st); n != res.Runs {
		t.Fatalf("the store has %d runs, the load added %d", n, res.Runs)
	}

	revenue, err := st.DatasetByName(ctx, warehouse, "analytics.reporting.daily_revenue")
	if err != nil {
		t.Fatal(err)
	}
	writers, readers, err := st.DatasetJobs(ctx, revenue.ID)
	if err != nil || len(writers) != 1 || len(readers) != 1 {
		t.Fatalf("daily_revenue jobs: %v %v %v", writers, readers, err)
	}
	if revenue.LastUpdatedAt == nil {
		t.Fatal("daily_revenue has no lastUpdatedAt")
	}
	cols, filters := 0, 0
	for _, e := range mustEdges(t, st, revenue.ID) {
		switch {
		case e.ToColumn != "":
			cols++
		case e.FromColumn != "":
			filters++ // a dataset-wide input: the filter on is_cancelled
		}
	}
	if cols < 6 || filters != 1 {
		t.Fatalf("daily_revenue has %d column edges and %d dataset-wide ones", cols, filters)
	}

	// The MySQL billing service feeds the warehouse: its view reads two
	// tables (catalog lineage, join and filter keys included), and an
	// Airflow task copies it column for column into analytics.raw.
	active, err := st.DatasetByName(ctx, "mysql://billing-db.internal:3306", "billing.active_subscriptions")
	if err != nil {
		t.Fatal(err)
	}
	from := map[string]bool{}
	indirect := 0
	for _, e := range mustEdges(t, st, active.ID) {
		if e.Origin == quarry.OriginCatalog && e.FromColumn == "" {
			from[e.From] = true
		}
		if e.ToColumn == "" && strings.HasPrefix(e.Transformation, "INDIRECT") {
			indirect++
		}
	}
	if len(from) != 2 || indirect != 3 {
		t.Fatalf("billing.active_subscriptions reads %d tables with %d indirect columns", len(from), indirect)
	}
	rawSubs, err := st.DatasetByName(ctx, warehouse, "analytics.raw.subscriptions")
	if err != nil {
		t.Fatal(err)
	}
	copied := 0
	for _, e := range mustEdges(t, st, rawSubs.ID) {
		if e.From == active.ID && e.ToColumn != "" && e.ToColumn == e.FromColumn {
			copied++
		}
	}
	if copied != 7 {
		t.Fatalf("analytics.raw.subscriptions has %d columns copied from billing.active_subscriptions, want 7", copied)
	}

	// The job as its facets describe it.
	wau, err := st.JobByName(ctx, "dbt://analytics", "analytics.reporting.weekly_active_users")
	if err != nil {
		t.Fatal(err)
	}
	if wau.Type != "BATCH/DBT/MODEL" || wau.Description == "" || wau.SQL == "" || len(wau.Owners) != 1 {
		t.Fatalf("weekly_active_users: %+v", wau)
	}
	// Its last runs failed, with the error its producer reported, inside
	// the nightly dbt run.
	page, err := st.Runs(ctx, wau.ID, 3, "")
	if err != nil || len(page.Runs) != 3 {
		t.Fatalf("weekly_active_users runs: %+v %v", page, err)
	}
	for _, r := range page.Runs {
		if r.State != quarry.RunFail || r.ErrorMessage == "" || r.ParentRunID == "" {
			t.Fatalf("weekly_active_users run: %+v", r)
		}
	}
	parent, err := st.Run(ctx, page.Runs[0].ParentRunID)
	if err != nil {
		t.Fatal(err)
	}
	if kids, _ := st.RunChildren(ctx, parent.ID); len(kids) < 9 { // every model but the switched-off summary
		t.Fatalf("the dbt run has %d model runs", len(kids))
	}

	// dbt's tests: one failing, one warning, the rest passing.
	status := map[string]quarry.CheckStatus{}
	for _, name := range []string{"analytics.marts.fct_orders", "analytics.marts.fct_payments", "analytics.reporting.daily_revenue"} {
		d, err := st.DatasetByName(ctx, warehouse, name)
		if err != nil {
			t.Fatal(err)
		}
		checks, err := st.Checks(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			status[c.Name] = c.Status
		}
	}
	if len(status) != 6 || status["accepted_values_fct_payments_method"] != quarry.CheckFail ||
		status["relationships_fct_orders_customer_key"] != quarry.CheckWarn || status["unique_fct_orders_order_key"] != quarry.CheckPass {
		t.Fatalf("check results: %v", status)
	}
	// The warning's history: it passed until the latest run.
	fct, _ := st.DatasetByName(ctx, warehouse, "analytics.marts.fct_orders")
	hist, err := st.CheckHistory(ctx, fct.ID, "customer_key", "relationships_fct_orders_customer_key", 3)
	if err != nil || len(hist) != 3 || hist[0].Status != quarry.CheckWarn || hist[1].Status != quarry.CheckPass || hist[0].RunID == "" {
		t.Fatalf("warning history: %+v %v", hist, err)
	}

	// The finance export's policy.
	export, err := st.DatasetByName(ctx, "s3://acme-exports", "finance/revenue_export.csv")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := st.FreshnessPolicy(ctx, export.ID); err != nil || p == nil || p.ErrorAfter != 36*time.Hour {
		t.Fatalf("export policy: %+v %v", p, err)
	}
	// The old summary is deprecated for its replacement, switched off for
	// days, due daily: late, and (see alert) alerting nobody.
	summary, err := st.DatasetByName(ctx, warehouse, "analytics.reporting.customer_orders_summary")
	if err != nil {
		t.Fatal(err)
	}
	clv, err := st.DatasetByName(ctx, warehouse, "analytics.reporting.customer_lifetime_value")
	if err != nil {
		t.Fatal(err)
	}
	if dep := summary.Deprecated(); dep == nil || dep.ReplacementID != clv.ID || dep.Note == "" {
		t.Fatalf("customer_orders_summary's deprecation: %+v", dep)
	}
	if u := summary.LastUpdatedAt; u == nil || u.After(now.Add(-4*24*time.Hour)) {
		t.Fatalf("customer_orders_summary was refreshed at %v", u)
	}
	if p, err := st.FreshnessPolicy(ctx, summary.ID); err != nil || p == nil {
		t.Fatalf("customer_orders_summary's policy: %+v %v", p, err)
	}
	// Its schema history: the earlier versions went in first.
	h, err := st.SchemaHistory(ctx, fct.ID)
	if err != nil || len(h) < 3 {
		t.Fatalf("fct_orders history: %+v %v", h, err)
	}
}

// Loading again adds only the runs that ended since, and changes nothing
// else; loading at the same time changes nothing at all.
func TestReload(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	st, clk := openStore(t, now)
	first := load(t, st, now)
	seq := lastSeq(t, st)

	if again := load(t, st, now); again.Changed != 0 || again.Runs != 0 || again.Events != 0 {
		t.Fatalf("loading again: %+v", again)
	}
	if s := lastSeq(t, st); s != seq {
		t.Fatalf("loading again wrote %d changes", s-seq)
	}

	// Six hours later: one more copy of production (the shop's DAG and its
	// seven tasks, the billing DAG and its task); the daily jobs do not run
	// again yet.
	later := now.Add(6 * time.Hour)
	clk.Set(later)
	res := load(t, st, later)
	if res.Changed != 0 || res.Runs != 10 || res.Events != 20 {
		t.Fatalf("six hours later: %+v", res)
	}
	if n := runs(t, st); n != first.Runs+res.Runs {
		t.Fatalf("the store has %d runs, want %d", n, first.Runs+res.Runs)
	}

	// A day later: the nightly runs too. The warning stays one, on the
	// newest run; the run that had it keeps its result.
	day := now.Add(24 * time.Hour)
	clk.Set(day)
	res = load(t, st, day)
	if res.Runs < 20 {
		t.Fatalf("a day later: %+v", res)
	}
	ctx := context.Background()
	fct, _ := st.DatasetByName(ctx, warehouse, "analytics.marts.fct_orders")
	hist, err := st.CheckHistory(ctx, fct.ID, "customer_key", "relationships_fct_orders_customer_key", 3)
	if err != nil || len(hist) != 3 || hist[0].Status != quarry.CheckWarn || hist[1].Status != quarry.CheckWarn || hist[0].RunID == hist[1].RunID {
		t.Fatalf("warning history a day later: %+v %v", hist, err)
	}
}

func mustEdges(t *testing.T, st *store.Store, id string) []quarry.Edge {
	t.Helper()
	es, err := st.Edges(context.Background(), id, true)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

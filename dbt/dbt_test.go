package dbt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/dbt"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

const fixtures = "../../shared/fixtures/dbt/"

const ns = "postgres://wh:5432"

func datahubFiles() dbt.Files {
	d := fixtures + "datahub_jaffle_shop/"
	return dbt.Files{Manifest: d + "jaffle_shop_manifest.json", Catalog: d + "jaffle_shop_catalog.json", RunResults: d + "jaffle_shop_test_results.json"}
}

func read(t *testing.T, dir string, f dbt.Files) *dbt.Artifacts {
	t.Helper()
	a, err := dbt.ReadDir(dir, f)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func importInto(t *testing.T, st *store.Store, a *dbt.Artifacts, o dbt.Options) quarry.DBTResult {
	t.Helper()
	if o.Namespace == "" {
		o.Namespace = ns
	}
	res, err := dbt.Import(context.Background(), st, a, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func dataset(t *testing.T, st *store.Store, namespace, name string) *quarry.Dataset {
	t.Helper()
	d, err := st.DatasetByName(context.Background(), namespace, name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// TestFixtures imports every fixture set and checks the counts SOURCES.md
// gives, then real facts of each.
func TestFixtures(t *testing.T) {
	ctx := context.Background()
	t.Run("dbt_bouncer_1_11", func(t *testing.T) {
		st := storetest.MustOpen(t, nil)
		res := importInto(t, st, read(t, fixtures+"dbt_bouncer_1_11", dbt.Files{}), dbt.Options{DocsURL: "https://docs.example.com/dbt"})
		c := res.Counts
		want := quarry.DBTCounts{Models: 32, Ephemeral: 2, Seeds: 3, Snapshots: 2, Sources: 11, Freshness: 11, Exposures: 2, Tests: 69, UnitTests: 3,
			// 36 tests and 3 unit tests passed; 5 of those tests test
			// ephemeral models or nothing, and are warned of.
			TestResults: 34, Jobs: 32,
			// depends_on of the 30 models with a relation, 2 snapshots and 2
			// exposures, through the 2 ephemeral models, counted from the
			// manifest by a script.
			Edges: 52}
		if c != want {
			t.Errorf("counts: got %+v, want %+v", c, want)
		}
		// 30 models with a relation, 3 seeds, 2 snapshots, 11 sources, 2 exposures.
		equal(t, "datasets created", res.Created, 30+3+2+11+2)
		equal(t, "project", res.Project, "dbt_bouncer_test_project")
		// 4 tests of ephemeral models, 1 singular test of nothing.
		if w := strings.Join(res.Warnings, "\n"); len(res.Warnings) != 5 || strings.Count(w, "tests an ephemeral model") != 4 ||
			!strings.Contains(w, "test.dbt_bouncer_test_project.test_assert_something tests no model") {
			t.Errorf("warnings: %q", res.Warnings)
		}

		orders := dataset(t, st, ns, "dbt.main_marts.orders")
		equal(t, "orders kind", orders.Kind, quarry.KindTable)
		if c := orders.Column("order_id"); c == nil {
			t.Fatal("orders has no column order_id (from the catalog)")
		}
		shown := orders.ShownColumns()
		i := slices.IndexFunc(shown, func(c quarry.Column) bool { return c.Name == "order_id" })
		equal(t, "order_id description (the YAML's)", shown[i].Description, "This is a unique identifier for an order")
		equal(t, "orders meta maturity", orders.DBT.Properties["maturity"], "gold")
		equal(t, "orders docs link", orders.DBT.DocsURL, "https://docs.example.com/dbt/#!/model/model.dbt_bouncer_test_project.orders")
		code, err := st.DBTCode(ctx, orders.ID)
		if err != nil || code == nil || !strings.Contains(code.Raw, "ref(") || code.Compiled == "" {
			t.Errorf("orders code: %+v, %v", code, err)
		}

		inc := dataset(t, st, ns, "dbt.main_intermediate.int_incremental")
		equal(t, "incremental kind", inc.Kind, quarry.KindTable)
		equal(t, "incremental materialized", inc.DBT.Materialized, "incremental")
		stg := dataset(t, st, ns, "dbt.main_stg_crm.stg_customers")
		equal(t, "view kind", stg.Kind, quarry.KindView)

		v2 := dataset(t, st, ns, "dbt.main_marts.customers_v2")
		equal(t, "contract", v2.DBT.Properties["dbt.contract.enforced"], "true")
		equal(t, "version", v2.DBT.Properties["dbt.version"], "2")
		equal(t, "access", v2.DBT.Properties["dbt.access"], "public")

		src := dataset(t, st, ns, "dbt.dummy_source.customers")
		equal(t, "source owner (meta.owner)", strings.Join(src.Owners(), ","), "Chris")
		equal(t, "source description", src.Description(), "This is actually a seed but we are abusing it so we have a realistic source we can use for development.")
		if p := src.DBT.Freshness; p == nil || p.WarnAfter != 12*time.Hour || p.ErrorAfter != 24*time.Hour {
			t.Errorf("source freshness: %+v", p)
		}
		f, err := quarry.EvaluateFreshness(src, nil, nil, nil, time.Now())
		if err != nil || f.Origin != quarry.OriginDBTPolicy || f.Policy.WarnAfter != 12*time.Hour {
			t.Errorf("source freshness evaluated: %+v %v", f, err)
		}
		equal(t, "loaded_at_field", src.DBT.Properties["dbt.loaded_at_field"], "doesnt_exist")

		dash := dataset(t, st, "dbt://dbt_bouncer_test_project", "customers")
		equal(t, "dashboard kind", dash.Kind, quarry.KindDashboard)
		equal(t, "dashboard owner", strings.Join(dash.Owners(), ","), "anna.anderson@example.com")
		nb := dataset(t, st, "dbt://dbt_bouncer_test_project", "Pulse queries")
		equal(t, "notebook kind", nb.Kind, quarry.KindApplication)
		up, err := st.Edges(ctx, nb.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		var from []string
		for _, e := range up {
			equal(t, "exposure edge origin", e.Origin, quarry.OriginDBT)
			from = append(from, e.From)
		}
		slices.Sort(from)
		wantFrom := []string{v2.ID, orders.ID}
		slices.Sort(wantFrom)
		if !slices.Equal(from, wantFrom) {
			t.Errorf("notebook upstream: got %v, want customers_v2 and orders %v", from, wantFrom)
		}

		// Tests are checks with their latest result.
		checks, err := st.Checks(ctx, orders.ID)
		if err != nil {
			t.Fatal(err)
		}
		var passed int
		for _, c := range checks {
			if c.Status == quarry.CheckPass {
				passed++
			}
		}
		if passed == 0 || len(orders.DBT.Tests) == 0 {
			t.Errorf("orders: %d tests, %d passing results", len(orders.DBT.Tests), passed)
		}
		var unit *quarry.DBTTest
		for i, tt := range orders.DBT.Tests {
			if tt.Type == "unit" {
				unit = &orders.DBT.Tests[i]
			}
		}
		if unit == nil || unit.Name != "test_amount_logic" {
			t.Errorf("orders' unit test: %+v", unit)
		}

		// Lineage through one job per model, named as dbt-ol names it
		// (run_results says `dbt build`).
		job, err := st.JobByName(ctx, "default", "dbt.main_marts.dbt_bouncer_test_project.orders.build.run")
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "job of orders", orders.DBT.JobID, job.ID)
		up, err = st.Edges(ctx, orders.ID, true)
		if err != nil || len(up) == 0 {
			t.Fatalf("orders upstream: %v %v", up, err)
		}
		for _, e := range up {
			equal(t, "edge job", e.JobID, job.ID)
		}

		// The same files again change nothing.
		seq, _ := st.LastSeq(ctx)
		again := importInto(t, st, read(t, fixtures+"dbt_bouncer_1_11", dbt.Files{}), dbt.Options{DocsURL: "https://docs.example.com/dbt"})
		after, _ := st.LastSeq(ctx)
		equal(t, "changelog records of a re-import", after-seq, 0)
		equal(t, "changed on re-import", again.Changed, 0)
	})

	t.Run("datahub_jaffle_shop", func(t *testing.T) {
		st := storetest.MustOpen(t, nil)
		res := importInto(t, st, read(t, "", datahubFiles()), dbt.Options{})
		c := res.Counts
		equal(t, "models", c.Models, 5)
		equal(t, "seeds", c.Seeds, 3)
		equal(t, "tests", c.Tests, 24)
		// 24 results: 21 pass, 2 error and the failing one, whose test is not
		// in the manifest (it was edited between the two files).
		equal(t, "results kept", c.TestResults, 23)
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "5702665c39 is not in the manifest") {
			t.Errorf("warnings: %q", res.Warnings)
		}
		cust := dataset(t, st, ns, "calm-pagoda-323403.jaffle_shop.customers")
		var statuses []string
		checks, _ := st.Checks(context.Background(), cust.ID)
		for _, ch := range checks {
			statuses = append(statuses, string(ch.Status))
			if ch.Status == quarry.CheckError && !strings.Contains(ch.Message, "No matching signature for operator") {
				t.Errorf("error result's message: %q", ch.Message)
			}
		}
		if !slices.Contains(statuses, "ERROR") {
			t.Errorf("customers' check results %v lack the ERROR", statuses)
		}
		equal(t, "catalog rows", *cust.RowCount, 100)
		shown := cust.ShownColumns()
		equal(t, "customer_id description", shown[0].Description, "This is a unique identifier for a customer")
		equal(t, "customer_id type (catalog)", shown[0].Type, "INT64")
	})

	t.Run("datahub_failing_test", func(t *testing.T) {
		// The failing result names the test as it was before its edit;
		// named as the manifest has it, it is a FAIL with its message.
		a := read(t, "", datahubFiles())
		for i, r := range a.RunResults.Results {
			if strings.HasSuffix(r.UniqueID, "5702665c39") {
				for id := range a.Manifest.Nodes {
					if strings.HasSuffix(id, "e67667298f") {
						a.RunResults.Results[i].UniqueID = id
					}
				}
			}
		}
		st := storetest.MustOpen(t, nil)
		res := importInto(t, st, a, dbt.Options{})
		equal(t, "warnings", len(res.Warnings), 0)
		cust := dataset(t, st, ns, "calm-pagoda-323403.jaffle_shop.customers")
		checks, _ := st.Checks(context.Background(), cust.ID)
		var fail *quarry.Check
		for i := range checks {
			if checks[i].Status == quarry.CheckFail {
				fail = &checks[i]
			}
		}
		if fail == nil {
			t.Fatalf("no FAIL among %+v", checks)
		}
		equal(t, "message", fail.Message, "Got 80 results, configured to fail if != 0")
		equal(t, "failures", *fail.Failures, 80)
		equal(t, "column", fail.Column, "customer_id")
		equal(t, "observed at (execute completed)", fail.ObservedAt.Format(time.RFC3339Nano), "2022-06-18T15:12:13.567413Z")
		if fail.ExecutionTime < 1.13 || fail.ExecutionTime > 1.14 {
			t.Errorf("execution time %v", fail.ExecutionTime)
		}
	})

	for _, set := range []string{"jaffle_shop_postgres", "jaffle_shop_duckdb"} {
		t.Run(set, func(t *testing.T) {
			st := storetest.MustOpen(t, nil)
			res := importInto(t, st, read(t, fixtures+set, dbt.Files{}), dbt.Options{})
			wantModels, wantTests := 5, 20
			if set == "jaffle_shop_duckdb" {
				wantModels, wantTests = 2, 5
			}
			equal(t, "models", res.Counts.Models, wantModels)
			equal(t, "seeds", res.Counts.Seeds, 3)
			equal(t, "tests", res.Counts.Tests, wantTests)
			equal(t, "warnings", len(res.Warnings), 0)
			if set == "jaffle_shop_postgres" {
				equal(t, "edges (staging from seeds, marts from staging)", res.Counts.Edges, 3+3+2)
			}
		})
	}
}

// TestRemoved: a model that leaves the project is marked removed; a crawled
// table that leaves it only loses its dbt layer.
func TestRemoved(t *testing.T) {
	ctx := context.Background()
	st := storetest.MustOpen(t, nil)
	// A crawled table that the project also builds.
	if _, err := st.UpsertDatasets(ctx, []quarry.Dataset{{Namespace: ns, Name: "postgres.public.customers", Source: "wh",
		Columns: []quarry.Column{{Name: "customer_id", Type: "integer"}}}}); err != nil {
		t.Fatal(err)
	}
	importInto(t, st, read(t, fixtures+"jaffle_shop_postgres", dbt.Files{}), dbt.Options{})
	cust := dataset(t, st, ns, "postgres.public.customers")
	if cust.DBT == nil || len(cust.Columns) != 1 || cust.Columns[0].Type != "integer" {
		t.Fatalf("crawled customers after the import: %+v", cust)
	}
	equal(t, "crawled keeps its kind", cust.Kind, quarry.KindTable)

	a := read(t, fixtures+"jaffle_shop_postgres", dbt.Files{})
	delete(a.Manifest.Nodes, "model.jaffle_shop.orders")
	delete(a.Manifest.Nodes, "model.jaffle_shop.customers")
	res := importInto(t, st, a, dbt.Options{})
	equal(t, "removed", res.Removed, 1)
	orders := dataset(t, st, ns, "postgres.public.orders")
	if orders.RemovedAt == nil {
		t.Error("orders, which left the project, is not marked removed")
	}
	cust = dataset(t, st, ns, "postgres.public.customers")
	if cust.RemovedAt != nil || cust.DBT != nil {
		t.Errorf("crawled customers after leaving the project: removed %v, dbt %+v", cust.RemovedAt, cust.DBT)
	}
	if up, _ := st.Edges(ctx, cust.ID, true); len(up) != 0 {
		t.Errorf("customers keeps dbt edges: %+v", up)
	}
	// It comes back with the model.
	importInto(t, st, read(t, fixtures+"jaffle_shop_postgres", dbt.Files{}), dbt.Options{})
	if orders = dataset(t, st, ns, "postgres.public.orders"); orders.RemovedAt != nil {
		t.Error("orders did not come back")
	}
}

// TestEditsWin: a person's description and a person's freshness policy
// win over dbt's.
func TestEditsWin(t *testing.T) {
	ctx := context.Background()
	st := storetest.MustOpen(t, nil)
	importInto(t, st, read(t, fixtures+"dbt_bouncer_1_11", dbt.Files{}), dbt.Options{})
	src := dataset(t, st, ns, "dbt.dummy_source.customers")
	mine := "ours"
	if _, err := st.UpdateDataset(ctx, src.ID, quarry.DatasetUpdate{Description: &mine}); err != nil {
		t.Fatal(err)
	}
	p := &quarry.FreshnessPolicy{WarnAfter: time.Hour}
	if err := st.SetFreshnessPolicy(ctx, src.ID, p); err != nil {
		t.Fatal(err)
	}
	importInto(t, st, read(t, fixtures+"dbt_bouncer_1_11", dbt.Files{}), dbt.Options{})
	src = dataset(t, st, ns, "dbt.dummy_source.customers")
	equal(t, "description", src.Description(), "ours")
	set, _ := st.FreshnessPolicy(ctx, src.ID)
	f, _ := quarry.EvaluateFreshness(src, set, nil, nil, time.Now())
	equal(t, "policy origin", f.Origin, quarry.OriginSet)
	equal(t, "policy", f.Policy.WarnAfter, time.Hour)
}

// TestBadInput: nothing is stored from bad input, and the error names the
// file and field.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	manifest, err := os.ReadFile(fixtures + "jaffle_shop_postgres/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, name string, b []byte) string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	for _, c := range []struct {
		name, file string
		body       []byte
		want       []string
	}{
		{"Truncated", "manifest.json", manifest[:len(manifest)/2], []string{"manifest.json", "truncated"}},
		{"UnknownVersion", "manifest.json", bytes.Replace(manifest, []byte("manifest/v7.json"), []byte("manifest/v99.json"), 1), []string{"manifest.json: metadata.dbt_schema_version", "v99 is not supported", "v5 to v12"}},
		{"CatalogAsManifest", "manifest.json", []byte(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}, "nodes": {}}`), []string{"is a dbt catalog file, not a manifest"}},
		{"NoVersion", "manifest.json", []byte(`{"nodes": {}}`), []string{"metadata.dbt_schema_version", "missing"}},
		{"NotJSON", "manifest.json", []byte(`{"metadata": nope}`), []string{"manifest.json", "not valid JSON"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := write(t, c.file, c.body)
			_, err := dbt.ReadDir(dir, dbt.Files{})
			if quarry.ErrorCode(err) != quarry.EINVALID {
				t.Fatalf("error %v, want invalid", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	t.Run("RunResultsOfAnotherProject", func(t *testing.T) {
		st := storetest.MustOpen(t, nil)
		a := read(t, fixtures+"jaffle_shop_postgres", dbt.Files{})
		other := read(t, fixtures+"dbt_bouncer_1_11", dbt.Files{})
		a.RunResults = other.RunResults
		res := importInto(t, st, a, dbt.Options{})
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "none of its 56 results names a node of this manifest") {
			t.Errorf("warnings %q", res.Warnings)
		}
		equal(t, "results kept", res.Counts.TestResults, 0)
		d := dataset(t, st, ns, "postgres.public.customers")
		if checks, _ := st.Checks(ctx, d.ID); len(checks) != 0 {
			t.Errorf("checks stored from another project's results: %+v", checks)
		}
	})
	t.Run("NothingPartial", func(t *testing.T) {
		st := storetest.MustOpen(t, nil)
		a := read(t, fixtures+"jaffle_shop_postgres", dbt.Files{})
		// The last model's name is unusable: nothing of the import is stored.
		n := a.Manifest.Nodes["model.jaffle_shop.stg_payments"]
		n.Alias, n.Database, n.Schema = "bad\x00name", "", ""
		_, err := dbt.Import(ctx, st, a, dbt.Options{Namespace: ns})
		if quarry.ErrorCode(err) != quarry.EINVALID || !strings.Contains(err.Error(), "name") {
			t.Fatalf("error %v", err)
		}
		if seq, _ := st.LastSeq(ctx); seq != 0 {
			t.Errorf("the changelog has %d records after a failed import", seq)
		}
		_, err = dbt.Import(ctx, st, read(t, fixtures+"jaffle_shop_postgres", dbt.Files{}), dbt.Options{})
		if quarry.ErrorCode(err) != quarry.EINVALID || !strings.Contains(err.Error(), "namespace") {
			t.Errorf("without a namespace: %v", err)
		}
	})
}

// TestRequest reads the HTTP body's shape: the artifacts as fields of one
// object.
func TestRequest(t *testing.T) {
	var body bytes.Buffer
	body.WriteString(`{"namespace": "postgres://wh:5432", "jobNamespace": "job-namespace", "manifest": `)
	m, _ := os.ReadFile(fixtures + "jaffle_shop_postgres/manifest.json")
	body.Write(m)
	body.WriteString(`, "run_results": `)
	r, _ := os.ReadFile(fixtures + "jaffle_shop_postgres/run_results.json")
	body.Write(r)
	body.WriteString(`}`)
	req, err := dbt.ReadRequest(&body)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "namespace", req.Options.Namespace, "postgres://wh:5432")
	equal(t, "job namespace", req.Options.JobNamespace, "job-namespace")
	equal(t, "nodes", len(req.Artifacts.Manifest.Nodes) > 0, true)
	equal(t, "results", len(req.Artifacts.RunResults.Results), 5)

	_, err = dbt.ReadRequest(strings.NewReader(`{"namespace": "x", "manifest": {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {`))
	if quarry.ErrorCode(err) != quarry.EINVALID || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated body: %v", err)
	}
	_, err = dbt.ReadRequest(strings.NewReader(`{"namespace": "x", "manifests": {}}`))
	if quarry.ErrorCode(err) != quarry.EINVALID || !strings.Contains(err.Error(), "manifests") {
		t.Errorf("unknown field: %v", err)
	}
	var j json.RawMessage
	_ = j
}

// TestSourceFreshness: sources.json's max_loaded_at is a data change of the
// source, once.
func TestSourceFreshness(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := func(at string) {
		body := `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json", "generated_at": "2026-02-21T00:00:00Z"},
			"results": [{"unique_id": "source.dbt_bouncer_test_project.dummy_source.customers", "status": "warn", "max_loaded_at": "` + at + `", "snapshotted_at": "2026-02-21T00:00:00Z", "max_loaded_at_time_ago_in_s": 50000},
			            {"unique_id": "source.other.x.y", "status": "pass", "max_loaded_at": "` + at + `"}], "elapsed_time": 1}`
		if err := os.WriteFile(filepath.Join(dir, "sources.json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st := storetest.MustOpen(t, nil)
	files := dbt.Files{Manifest: fixtures + "dbt_bouncer_1_11/manifest.json", Sources: filepath.Join(dir, "sources.json")}
	src("2026-02-20T10:00:00Z")
	res := importInto(t, st, read(t, "", files), dbt.Options{})
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "sources: source.other.x.y is not in the manifest") {
		t.Errorf("warnings %q", res.Warnings)
	}
	d := dataset(t, st, ns, "dbt.dummy_source.customers")
	if d.LastUpdatedAt == nil || !d.LastUpdatedAt.Equal(time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("last updated %v", d.LastUpdatedAt)
	}
	importInto(t, st, read(t, "", files), dbt.Options{})
	src("2026-02-20T22:00:00Z")
	importInto(t, st, read(t, "", files), dbt.Options{})
	changes, err := st.DataChanges(ctx, d.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || !changes[0].At.Equal(time.Date(2026, 2, 20, 22, 0, 0, 0, time.UTC)) || changes[0].Signal != quarry.SignalDBT {
		t.Errorf("data changes %+v", changes)
	}
	d = dataset(t, st, ns, "dbt.dummy_source.customers")
	f, _ := quarry.EvaluateFreshness(d, nil, nil, nil, time.Date(2026, 2, 21, 12, 0, 0, 0, time.UTC))
	equal(t, "freshness (14h after the load, warn after 12h)", f.Status, quarry.FreshnessWarn)
}

// TestUncrawled: a dataset no source crawls takes dbt's kind, and without a
// catalog the declared columns.
func TestUncrawled(t *testing.T) {
	ctx := context.Background()
	st := storetest.MustOpen(t, nil)
	// As dbt-ol's events leave it: a TABLE with the columns its schema
	// facet listed.
	if _, err := st.UpsertDatasets(ctx, []quarry.Dataset{{Namespace: ns, Name: "postgres.public.stg_orders", Columns: []quarry.Column{{Name: "order_id"}}}}); err != nil {
		t.Fatal(err)
	}
	importInto(t, st, read(t, fixtures+"jaffle_shop_postgres", dbt.Files{}), dbt.Options{})
	stg := dataset(t, st, ns, "postgres.public.stg_orders")
	equal(t, "kind", stg.Kind, quarry.KindView)
	equal(t, "columns kept", len(stg.Columns), 1)
	cust := dataset(t, st, ns, "postgres.public.customers")
	equal(t, "not deprecated", cust.DBT.Deprecated, false)
	shown := cust.ShownColumns()
	if len(shown) < 3 || shown[2].Name != "customer_id" || shown[2].Description != "This is a unique identifier for a customer" {
		t.Errorf("declared columns: %+v", shown)
	}
}

// TestDeprecated: a model past its deprecation_date is deprecated; one
// before it shows the date only.
func TestDeprecated(t *testing.T) {
	st := storetest.MustOpen(t, nil)
	a := read(t, fixtures+"dbt_bouncer_1_11", dbt.Files{})
	past, future := "2026-01-01T00:00:00Z", "2027-06-01T00:00:00Z"
	a.Manifest.Nodes["model.dbt_bouncer_test_project.customers.v1"].DeprecationDate = &past
	a.Manifest.Nodes["model.dbt_bouncer_test_project.customers.v2"].DeprecationDate = &future
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	importInto(t, st, a, dbt.Options{Now: func() time.Time { return now }})
	v1 := dataset(t, st, ns, "dbt.main_marts.customers_v1")
	v2 := dataset(t, st, ns, "dbt.main_marts.customers_v2")
	equal(t, "v1 deprecated", v1.DBT.Deprecated, true)
	equal(t, "v1 date", v1.DBT.Properties["dbt.deprecation_date"], past)
	equal(t, "v2 deprecated", v2.DBT.Deprecated, false)
	equal(t, "v2 date", v2.DBT.Properties["dbt.deprecation_date"], future)
	// The dataset itself is deprecated, since dbt's date.
	if dep := v1.Deprecated(); dep == nil || !dep.FromDBT || dep.At.Format(time.RFC3339) != past {
		t.Fatalf("v1's deprecation: %+v", dep)
	}
	if dep := v2.Deprecated(); dep != nil {
		t.Fatalf("v2 is deprecated before its date: %+v", dep)
	}
}

package dbt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/dbt"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// TestWarehouseEndToEnd builds jaffle_shop_postgres's relations in a real
// PostgreSQL, crawls it, imports the project's artifacts and replays the
// events dbt-ol emitted for its run: every model is one dataset, with the
// crawler's columns and dbt's descriptions and tests, built by one job.
func TestWarehouseEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := fixtures + "jaffle_shop_postgres/"
	raw, err := os.ReadFile(dir + "result.json")
	if err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	if err := json.Unmarshal(raw, &events); err != nil {
		t.Fatal(err)
	}
	a := read(t, dir, dbt.Files{})
	manifest := a.Manifest

	// The seeds' CSV files are not among the artifacts: the seed tables are
	// jaffle_shop's, with a few rows. The models are their SQL as dbt-ol
	// sent it (its sql facet), or, for the one it sent none for, their raw
	// code with the refs resolved as dbt resolves them.
	pg := pgtest.New(t)
	seeds := `
		create table public.raw_customers (id integer, first_name text, last_name text);
		insert into public.raw_customers values (1, 'Michael', 'P.'), (2, 'Shawn', 'M.'), (3, 'Kathleen', 'P.');
		create table public.raw_orders (id integer, user_id integer, order_date date, status text);
		insert into public.raw_orders values (1, 1, '2018-01-01', 'returned'), (2, 3, '2018-01-02', 'completed'), (3, 2, '2018-01-04', 'completed');
		create table public.raw_payments (id integer, order_id integer, payment_method text, amount integer);
		insert into public.raw_payments values (1, 1, 'credit_card', 1000), (2, 2, 'credit_card', 2000), (3, 3, 'coupon', 100);`
	if err := pg.Exec(ctx, "postgres", seeds); err != nil {
		t.Fatal(err)
	}
	sqlOf := map[string]string{}
	for _, ev := range events {
		job := ev["job"].(map[string]any)
		facets, _ := job["facets"].(map[string]any)
		if f, ok := facets["sql"].(map[string]any); ok {
			sqlOf[job["name"].(string)] = f["query"].(string)
		}
	}
	ref := regexp.MustCompile(`\{\{\s*ref\('([a-z_]+)'\)\s*\}\}`)
	for _, model := range []string{"stg_customers", "stg_orders", "stg_payments", "customers", "orders"} {
		n := manifest.Nodes["model.jaffle_shop."+model]
		code, ok := sqlOf["postgres.public.jaffle_shop."+model]
		if !ok {
			code = ref.ReplaceAllString(n.RawCode, `"postgres"."public"."$1"`)
		}
		stmt := fmt.Sprintf("create %s public.%s as %s", n.Config.Materialized, model, code)
		if err := pg.Exec(ctx, "postgres", stmt); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
	}

	// Crawl it as a registered source. dbt-ol's profile named the host
	// POSTGRES_HOST:1234: an alias of the source, as a team declares it.
	st := storetest.MustOpen(t, nil)
	dsn := pg.DSN("postgres")
	res, err := crawler.CrawlPostgres(ctx, st, dsn, crawler.Options{Source: "wh", Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutSource(ctx, quarry.Source{Name: "wh", Kind: quarry.SourcePostgres, Namespace: res.Namespace, DSN: dsn,
		Aliases: []string{"postgres://POSTGRES_HOST:1234"}}); err != nil {
		t.Fatal(err)
	}

	// Import the artifacts (the namespace is the source's) ...
	src, err := st.Source(ctx, "wh")
	if err != nil {
		t.Fatal(err)
	}
	imp, err := dbt.Import(ctx, st, a, dbt.Options{Namespace: src.Namespace, JobNamespace: "job-namespace"})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "created by the import", imp.Created, 0) // every relation was crawled

	// ... and replay dbt-ol's events, each run with a run id of its own.
	runs := map[string]string{}
	for _, ev := range events {
		job := ev["job"].(map[string]any)["name"].(string)
		if runs[job] == "" {
			runs[job] = uuid.NewString()
		}
		run := ev["run"].(map[string]any)
		run["runId"] = runs[job]
		if f, ok := run["facets"].(map[string]any)["processing_engine"].(map[string]any); ok {
			f["openlineageAdapterVersion"] = "1.0.0"
		}
		b, _ := json.Marshal(ev)
		if err := lineage.Ingest(ctx, st, b); err != nil {
			t.Fatalf("event %s %s: %v", ev["eventType"], job, err)
		}
	}
	if err := st.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}

	page, err := st.ListDatasets(ctx, store.ListOptions{First: 1000})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := st.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"stg_customers", "stg_orders", "stg_payments", "customers", "orders"} {
		t.Run(model, func(t *testing.T) {
			var same []*quarry.Dataset
			for _, d := range page.Datasets {
				if strings.HasSuffix(d.Name, "."+model) {
					same = append(same, d)
				}
			}
			if len(same) != 1 {
				var names []string
				for _, d := range same {
					names = append(names, d.Namespace+" "+d.Name)
				}
				t.Fatalf("%d datasets for %s: %v", len(same), model, names)
			}
			d := same[0]
			equal(t, "namespace", d.Namespace, src.Namespace)
			equal(t, "name", d.Name, "postgres.public."+model)
			equal(t, "source (crawled)", d.Source, "wh")
			if d.DBT == nil || len(d.DBT.Tests) == 0 {
				t.Fatalf("no dbt tests: %+v", d.DBT)
			}
			if len(d.Columns) == 0 || d.Columns[0].Type == "" {
				t.Errorf("the crawler's columns: %+v", d.Columns)
			}
			var matching []quarry.Job
			for _, j := range jobs {
				if strings.HasSuffix(j.Name, ".jaffle_shop."+model) {
					matching = append(matching, j)
				}
			}
			if len(matching) != 1 {
				t.Fatalf("%d jobs for %s: %+v", len(matching), model, matching)
			}
			job := matching[0]
			equal(t, "job", job.Namespace+" "+job.Name, "job-namespace postgres.public.jaffle_shop."+model)
			equal(t, "the dataset's job", d.DBT.JobID, job.ID)
			up, err := st.Edges(ctx, d.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			origins := map[quarry.EdgeOrigin]bool{}
			for _, e := range up {
				if e.Origin != quarry.OriginCatalog { // a view's definition, read by the crawler
					equal(t, "edge job", e.JobID, job.ID)
				}
				origins[e.Origin] = true
			}
			if !origins[quarry.OriginDBT] || (model == "customers" || model == "orders") && !origins[quarry.OriginRun] {
				t.Errorf("upstream edges' origins: %v", origins)
			}
		})
	}
	cust := dataset(t, st, src.Namespace, "postgres.public.customers")
	equal(t, "customers description", cust.Description(), "This table has basic information about a customer, as well as some derived facts based on a customer's orders")
	shown := cust.ShownColumns()
	i := slices.IndexFunc(shown, func(c quarry.Column) bool { return c.Name == "customer_id" })
	if i < 0 || shown[i].Description != "This is a unique identifier for a customer" || shown[i].Type != "integer" {
		t.Errorf("customers.customer_id: %+v", shown)
	}
}

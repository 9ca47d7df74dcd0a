package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/lineage/oltest"
)

// mustPost posts events one by one and waits until they are applied.
func (s *server) mustPost(t testing.TB, events ...[]byte) {
	t.Helper()
	s.PostEvents(t, events...)
}

func TestOpenLineageDbtRun(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.mustPost(t, oltest.Events(t, "events/dbt_postgres_run_stream_72_events.json")...)

	// The dbt run and its model runs.
	data := s.do(t, `{ job(namespace: "dbt-test-namespace", name: "dbt-run-jaffle_shop") {
		latestRun { state children { state job { name } } } } }`, nil).ok(t)
	run := data["job"].(map[string]any)["latestRun"].(map[string]any)
	kids := run["children"].([]any)
	if run["state"] != "COMPLETE" || len(kids) != 5 {
		t.Fatalf("dbt run: %v", run)
	}
	// The jaffle_shop model graph: customers is built from the three
	// staging models, each from its raw seed.
	data = s.do(t, `{ job(namespace: "dbt-test-namespace", name: "model.jaffle_shop.customers") {
		inputs { name writtenBy { name } } outputs { name } } }`, nil).ok(t)
	job := data["job"].(map[string]any)
	var ins []string
	for _, d := range job["inputs"].([]any) {
		d := d.(map[string]any)
		ins = append(ins, d["name"].(string))
		if w := d["writtenBy"].([]any); len(w) != 1 || !strings.HasPrefix(w[0].(map[string]any)["name"].(string), "model.jaffle_shop.stg_") {
			t.Fatalf("%v is written by %v", d["name"], w)
		}
	}
	if fmt.Sprint(ins) != "[postgres.public.stg_customers postgres.public.stg_orders postgres.public.stg_payments]" && len(ins) != 3 {
		t.Fatalf("customers inputs %v", ins)
	}
	if out := job["outputs"].([]any); len(out) != 1 || out[0].(map[string]any)["name"] != "postgres.public.customers" {
		t.Fatalf("customers outputs %v", out)
	}
}

func TestOpenLineageSparkColumnLineage(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.mustPost(t, oltest.Events(t, "events/spark_hive_ctas_column_lineage_complete.json")...)
	data := s.do(t, `{ dataset(namespace: "file", name: "/tmp/cll_test/tbl1") { removedAt columns { name }
		upstream { fromColumn toColumn transformation fromDataset { name } } } }`, nil).ok(t)
	d := data["dataset"].(map[string]any)
	kinds := map[string]bool{}
	for _, e := range d["upstream"].([]any) {
		e := e.(map[string]any)
		if e["transformation"] != nil { // a column used several ways lists them all
			for _, k := range strings.Split(e["transformation"].(string), ", ") {
				kinds[k] = true
			}
		}
	}
	for _, want := range []string{"DIRECT/IDENTITY", "DIRECT/AGGREGATION", "INDIRECT/JOIN", "INDIRECT/GROUP_BY"} {
		if !kinds[want] {
			t.Errorf("no %s column edge into tbl1; have %v", want, kinds)
		}
	}
	if len(d["columns"].([]any)) == 0 {
		t.Errorf("the schema facet gave the uncrawled output no columns")
	}
}

func TestOpenLineageChecksAndStatic(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.mustPost(t, oltest.Events(t, "events/dbt_postgres_test_dq_assertions_events.json")...)
	s.mustPost(t, oltest.Events(t, "events/dbt_bigquery_test_dq_assertions_inputfacets.json")...)
	var checks int
	for _, d := range s.do(t, `{ datasets(first: 100) { nodes { name checks { name status column } } } }`, nil).ok(t)["datasets"].(map[string]any)["nodes"].([]any) {
		checks += len(d.(map[string]any)["checks"].([]any))
	}
	if checks < 5 {
		t.Fatalf("dbt test events gave %d checks", checks)
	}

	s.mustPost(t, oltest.Events(t, "events/static_job_event.json")...)
	s.mustPost(t, oltest.Events(t, "events/static_dataset_event.json")...)
	jobs := s.do(t, `{ jobs { name inputs { name } outputs { name } latestRun { id } } }`, nil).ok(t)["jobs"].([]any)
	static := 0
	for _, j := range jobs {
		j := j.(map[string]any)
		if j["latestRun"] == nil && len(j["inputs"].([]any))+len(j["outputs"].([]any)) > 0 {
			static++
		}
	}
	if static != 1 {
		t.Fatalf("static job lineage: %v", jobs)
	}
}

// A crawled Pagila table and an event naming the same table under another
// host alias land on one node.
func TestOpenLineageAliasMeetsCrawl(t *testing.T) {
	pg := pgtest.New(t)
	ctx := context.Background()
	if err := pg.CreateDatabase(ctx, "pagila"); err != nil {
		t.Fatal(err)
	}
	if out, err := pg.LoadFile(ctx, "pagila", filepath.Join("..", "..", "shared", "fixtures", "postgres", "pagila", "pagila-schema.sql")); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	s := newServer(t, graph.Limits{})
	s.do(t, register, map[string]any{"in": map[string]any{
		"name": "pagila", "kind": "POSTGRES", "dsn": pg.DSN("pagila"), "aliases": []string{"postgres://pagila-db.internal"},
	}}).ok(t)
	if run := s.do(t, crawlNow, map[string]any{"name": "pagila"}).ok(t)["crawlSource"].(map[string]any); run["status"] != "SUCCEEDED" {
		t.Fatalf("crawl: %v", run)
	}
	before := s.do(t, `{ datasets(first: 1) { totalCount } }`, nil).ok(t)["datasets"].(map[string]any)["totalCount"]

	ev := fmt.Sprintf(`{"eventType":"COMPLETE","eventTime":"2026-11-21T01:02:03Z","producer":"test",
		"run":{"runId":"0190b5c1-2f2a-7d3e-8a1b-00000000c0de"},"job":{"namespace":"airflow","name":"film_report"},
		"inputs":[{"namespace":"postgresql://PAGILA-DB.internal","name":"pagila.public.film"}],
		"outputs":[{"namespace":"postgres://127.0.0.1:%d","name":"pagila.public.film_report"}]}`, pg.Port)
	s.mustPost(t, []byte(ev))
	after := s.do(t, `{ datasets(first: 1) { totalCount } }`, nil).ok(t)["datasets"].(map[string]any)["totalCount"]
	if after != before.(float64)+1 {
		t.Fatalf("datasets %v -> %v: the alias did not land on the crawled film table", before, after)
	}
	ns := fmt.Sprintf("postgres://127.0.0.1:%d", pg.Port)
	film := s.do(t, `query($ns: String!) { dataset(namespace: $ns, name: "pagila.public.film") { source readBy { name } columns { name } } }`, map[string]any{"ns": ns}).ok(t)["dataset"].(map[string]any)
	if film["source"] != "pagila" || len(film["readBy"].([]any)) != 1 || len(film["columns"].([]any)) < 10 {
		t.Fatalf("film: %v", film)
	}

	// The crawler's view lineage and the reported run are one graph: film
	// feeds the film_list view (catalog) and the report (through its job).
	s.caughtUp(t)
	id := s.do(t, `query($ns: String!) { dataset(namespace: $ns, name: "pagila.public.film") { id } }`, map[string]any{"ns": ns}).ok(t)["dataset"].(map[string]any)["id"]
	g := s.do(t, `query($id: ID!) { lineage(nodeId: $id, direction: DOWNSTREAM, depth: 1) { nodes { kind name } edges { origin } } }`, map[string]any{"id": id}).ok(t)["lineage"].(map[string]any)
	seen := map[string]bool{}
	for _, n := range g["nodes"].([]any) {
		seen[n.(map[string]any)["name"].(string)] = true
	}
	origins := map[string]bool{}
	for _, e := range g["edges"].([]any) {
		origins[e.(map[string]any)["origin"].(string)] = true
	}
	if !seen["pagila.public.film_list"] || !seen["pagila.public.film_report"] || !seen["film_report"] || !origins["CATALOG"] || !origins["RUN"] {
		t.Fatalf("downstream of film: %v", g)
	}
}

func (s *server) caughtUp(t testing.TB) {
	t.Helper()
	if err := s.lineage.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The dbt run's model graph through lineage(): upstream of the customers
// model, its staging models through their jobs, and their seeds.
func TestLineageQuery(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.mustPost(t, oltest.Events(t, "events/dbt_postgres_run_stream_72_events.json")...)
	s.caughtUp(t)
	customers := s.do(t, `{ dataset(namespace: "postgres://postgres:5432", name: "postgres.public.customers") { id } }`, nil).ok(t)["dataset"].(map[string]any)["id"].(string)

	const q = `query($id: ID!, $dir: LineageDirection, $depth: Int, $col: Boolean, $limit: Int) {
		lineage(nodeId: $id, direction: $dir, depth: $depth, columnLevel: $col, limit: $limit) {
			truncated nodes { id kind namespace name column degree distance } edges { from to job { name type } origin } } }`
	g := s.do(t, q, map[string]any{"id": customers, "dir": "UPSTREAM", "depth": 5}).ok(t)["lineage"].(map[string]any)
	kinds := map[string][]string{}
	names := map[string]string{}
	for _, n := range g["nodes"].([]any) {
		n := n.(map[string]any)
		kinds[n["kind"].(string)] = append(kinds[n["kind"].(string)], n["name"].(string))
		names[n["id"].(string)] = n["name"].(string)
	}
	// customers, 3 staging models, 3 seeds; the jobs between them.
	if len(kinds["DATASET"]) != 7 || len(kinds["JOB"]) != 4 || g["truncated"] != false {
		t.Fatalf("nodes %v", kinds)
	}
	for _, e := range g["edges"].([]any) {
		e := e.(map[string]any)
		if e["job"] == nil || e["origin"] != "RUN" {
			t.Fatalf("edge %v has no job", e)
		}
		if names[e["from"].(string)] == "" || names[e["to"].(string)] == "" {
			t.Fatalf("edge %v joins a node outside the graph", e)
		}
	}
	// depth 1 reaches the staging models only; a limit truncates.
	g = s.do(t, q, map[string]any{"id": customers, "dir": "UPSTREAM", "depth": 1}).ok(t)["lineage"].(map[string]any)
	if n := len(g["nodes"].([]any)); n != 5 { // customers, its job, 3 staging models
		t.Fatalf("depth 1: %d nodes", n)
	}
	if g = s.do(t, q, map[string]any{"id": customers, "limit": 2}).ok(t)["lineage"].(map[string]any); g["truncated"] != true || len(g["nodes"].([]any)) != 2 {
		t.Fatalf("limit 2: %v", g)
	}
	s.do(t, q, map[string]any{"id": customers, "depth": 1000}).oneError(t, "invalid", "depth")
	s.do(t, q, map[string]any{"id": "not-an-id"}).oneError(t, "invalid", "nodeId")
	s.do(t, q, map[string]any{"id": "0190b5c1-2f2a-7d3e-8a1b-0000000000ff"}).oneError(t, "not_found", "")

	// What breaks if raw_orders changes: the staging model and both marts.
	raw := s.do(t, `{ dataset(namespace: "postgres://postgres:5432", name: "postgres.public.raw_orders") { id } }`, nil).ok(t)["dataset"].(map[string]any)["id"]
	imp := s.do(t, `query($id: ID!) { impact(datasetId: $id) { truncated datasets { distance dataset { name owners } } } }`, map[string]any{"id": raw}).ok(t)["impact"].(map[string]any)
	got := map[string]float64{}
	for _, d := range imp["datasets"].([]any) {
		d := d.(map[string]any)
		got[d["dataset"].(map[string]any)["name"].(string)] = d["distance"].(float64)
	}
	if got["postgres.public.stg_orders"] != 1 || got["postgres.public.customers"] != 2 || got["postgres.public.orders"] != 2 || len(got) != 3 {
		t.Fatalf("impact of raw_orders: %v", got)
	}
}

// Catalog view lineage and reported lineage meet in one graph, down to
// columns; the Spark event's column lineage is traversable.
func TestLineageColumnLevel(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.mustPost(t, oltest.Events(t, "events/spark_hive_ctas_column_lineage_complete.json")...)
	s.caughtUp(t)
	tbl := s.do(t, `{ dataset(namespace: "file", name: "/tmp/cll_test/tbl1") { id } }`, nil).ok(t)["dataset"].(map[string]any)["id"].(string)
	g := s.do(t, `query($id: ID!) { lineage(nodeId: $id, direction: UPSTREAM, columnLevel: true) {
		nodes { id kind column datasetId } edges { from to transformation } } }`, map[string]any{"id": tbl + "/ident"}).ok(t)["lineage"].(map[string]any)
	nodes := g["nodes"].([]any)
	if len(nodes) < 2 || nodes[0].(map[string]any)["column"] != "ident" || nodes[0].(map[string]any)["kind"] != "COLUMN" {
		t.Fatalf("column lineage of tbl1.ident: %v", g)
	}
	if len(g["edges"].([]any)) == 0 || g["edges"].([]any)[0].(map[string]any)["transformation"] == nil {
		t.Fatalf("column edges: %v", g["edges"])
	}
	// Column edges name the job that reported them, though it is no node.
	g = s.do(t, `query($id: ID!) { lineage(nodeId: $id, direction: UPSTREAM, columnLevel: true) { edges { job { namespace name } } } }`,
		map[string]any{"id": tbl + "/ident"}).ok(t)["lineage"].(map[string]any)
	if j, _ := g["edges"].([]any)[0].(map[string]any)["job"].(map[string]any); j == nil || j["name"] == "" || j["namespace"] == "" {
		t.Fatalf("a column edge's job: %v", g["edges"])
	}
	imp := s.do(t, `query($id: ID!) { impact(datasetId: $id, column: "a") { datasets { dataset { name } columns } } }`,
		map[string]any{"id": s.do(t, `{ dataset(namespace: "file", name: "/tmp/cll_test/cll_source1") { id } }`, nil).ok(t)["dataset"].(map[string]any)["id"]}).ok(t)["impact"].(map[string]any)
	ds := imp["datasets"].([]any)
	if len(ds) != 1 || len(ds[0].(map[string]any)["columns"].([]any)) == 0 {
		t.Fatalf("impact of cll_source1.a: %v", imp)
	}
}

// The fast path that writes lineage() answers directly gives the answer the
// executor gives (a query with another root field takes the executor).
func TestLineageFastPath(t *testing.T) {
	s := newServer(t, graph.Limits{})
	s.mustPost(t, oltest.Events(t, "events/dbt_postgres_run_stream_72_events.json")...)
	s.mustPost(t, oltest.Events(t, "events/spark_hive_ctas_column_lineage_complete.json")...)
	s.caughtUp(t)
	customers := s.do(t, `{ dataset(namespace: "postgres://postgres:5432", name: "postgres.public.customers") { id } }`, nil).ok(t)["dataset"].(map[string]any)["id"].(string)
	tbl := s.do(t, `{ dataset(namespace: "file", name: "/tmp/cll_test/tbl1") { id } }`, nil).ok(t)["dataset"].(map[string]any)["id"].(string)
	const sel = `g: lineage(nodeId: $id, direction: $dir, depth: $depth, columnLevel: $col) {
		__typename truncated nodes { id kind namespace name column datasetId degree distance removed }
		e: edges { from to j: job { id namespace name } transformation origin } }
		lineage(nodeId: $id, limit: 3) { truncated nodes { id } }`
	for _, vars := range []map[string]any{
		{"id": customers, "dir": "UPSTREAM", "depth": 5, "col": false},
		{"id": tbl, "dir": "BOTH", "depth": 2, "col": true},
		{"id": tbl + "/ident", "dir": "UPSTREAM", "depth": 3, "col": true},
	} {
		fast := s.do(t, `query($id: ID!, $dir: LineageDirection, $depth: Int, $col: Boolean) { `+sel+` }`, vars).ok(t)
		slow := s.do(t, `query($id: ID!, $dir: LineageDirection, $depth: Int, $col: Boolean) { __typename `+sel+` }`, vars).ok(t)
		delete(slow, "__typename")
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(slow)
		if !bytes.Equal(a, b) {
			t.Fatalf("fast path:\n%s\nexecutor:\n%s", a, b)
		}
		if len(fast["g"].(map[string]any)["nodes"].([]any)) < 2 {
			t.Fatalf("a trivial graph proves nothing: %s", a)
		}
	}
	// Repeated response keys merge, as the executor merges them.
	for _, q := range []string{
		`query($id: ID!) { lineage(nodeId: $id) { nodes { id } nodes { name } truncated truncated } }`,
		`query($id: ID!) { lineage(nodeId: $id) { truncated } lineage(nodeId: $id) { truncated } }`,
	} {
		body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"id": customers}})
		_, raw := s.Request(t, http.MethodPost, "/graphql", body, "Content-Type", "application/json") // as sent: decoding would hide a repeated key
		if bytes.Count(raw, []byte(`"truncated"`)) != 1 {
			t.Fatalf("%s answered %s", q, raw)
		}
	}
	// A name with quotes, a backslash, HTML characters and non-ASCII
	// text comes back as the executor writes it.
	odd := fmt.Sprintf(`{"eventType":"COMPLETE","eventTime":"2026-11-21T01:02:03Z","producer":"p","run":{"runId":"0190b5c1-2f2a-7d3e-8a1b-0000000000d1"},
		"job":{"namespace":"ns","name":"q\"uote\\d Ünïcødé ✓ <&>"},"inputs":[{"namespace":"s3://b","name":"in"}],"outputs":[{"namespace":"s3://b","name":"%s"}]}`, `ou\"t\\x ✓`)
	s.mustPost(t, []byte(odd))
	s.caughtUp(t)
	in := s.do(t, `{ dataset(namespace: "s3://b", name: "in") { id } }`, nil).ok(t)["dataset"].(map[string]any)["id"]
	q := `query($id: ID!) { %s lineage(nodeId: $id) { nodes { name } edges { job { name } } } }`
	a, _ := json.Marshal(s.do(t, fmt.Sprintf(q, ""), map[string]any{"id": in}).ok(t))
	slow := s.do(t, fmt.Sprintf(q, "__typename"), map[string]any{"id": in}).ok(t)
	delete(slow, "__typename")
	b, _ := json.Marshal(slow)
	if !bytes.Equal(a, b) || !bytes.Contains(a, []byte("Ünïcødé")) {
		t.Fatalf("fast path:\n%s\nexecutor:\n%s", a, b)
	}
}

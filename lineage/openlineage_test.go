package lineage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/lineage/oltest"
)

func readFixture(tb testing.TB, rel string) []byte { return oltest.Read(tb, rel) }

func fixtureEvents(tb testing.TB, rel string) [][]byte { return oltest.Events(tb, rel) }

func mustParse(tb testing.TB, raw []byte) quarry.LineageEvent {
	tb.Helper()
	ev, err := lineage.ParseEvent(raw)
	if err != nil {
		tb.Fatalf("ParseEvent: %v\n%s", err, raw)
	}
	return ev
}

func parseFixture(t *testing.T, rel string) []quarry.LineageEvent {
	t.Helper()
	var out []quarry.LineageEvent
	for _, raw := range fixtureEvents(t, rel) {
		out = append(out, mustParse(t, raw))
	}
	return out
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func columnNames(cols []quarry.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// inputs lists a column's inputs as "name.field TRANSFORMATION".
func inputs(cl []quarry.ColumnLineage, col string) []string {
	var out []string
	for _, l := range cl {
		if l.Column != col {
			continue
		}
		for _, in := range l.Inputs {
			out = append(out, in.Name+"."+in.Field+" "+in.Transformation)
		}
	}
	return out
}

func checks(ev quarry.LineageEvent) []string {
	var out []string
	for _, d := range append(slices.Clone(ev.Inputs), ev.Outputs...) {
		for _, c := range d.Checks {
			out = append(out, d.Name+" "+c.Column+" "+c.Name+" "+string(c.Status))
		}
	}
	return out
}

func equalSlices(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s =\n  %q\nwant\n  %q", what, got, want)
	}
}

// TestFixtureEvents parses every event in the fixtures and checks what each
// file is there to show.
func TestFixtureEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(oltest.Dir, "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture events in %s (%v): the fixtures live in ../shared/fixtures beside the repository", oltest.Dir, err)
	}
	seen := map[string]string{}
	total := 0
	for _, f := range files {
		rel := filepath.Join("events", filepath.Base(f))
		for i, raw := range fixtureEvents(t, rel) {
			ev, err := lineage.ParseEvent(raw)
			if err != nil {
				t.Errorf("%s[%d]: %v", rel, i, err)
				continue
			}
			total++
			if len(ev.Digest) != 64 {
				t.Errorf("%s[%d]: digest %q", rel, i, ev.Digest)
			}
			if prev, dup := seen[ev.Digest]; dup {
				t.Errorf("%s[%d]: same digest as %s", rel, i, prev)
			}
			seen[ev.Digest] = rel
		}
	}
	t.Logf("%d events in %d files", total, len(files))
}

func TestAirflowBigQueryCopy(t *testing.T) {
	ev := parseFixture(t, "events/airflow_bigquery_copy_task_complete_cll.json")[0]
	equal(t, "kind", ev.Kind, quarry.RunEvent)
	equal(t, "eventTime", ev.EventTime, mustTime(t, "2024-11-26T13:05:34.626595Z"))
	equal(t, "producer", ev.Producer, "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0")
	equal(t, "run id", ev.Run.ID, "01936893-9751-7b10-a4a7-cd7454722d0f") // UUIDv7
	equal(t, "state", ev.Run.State, quarry.RunComplete)
	equal(t, "parent run", ev.Run.ParentRunID, "01936893-9751-7a91-a2a0-a51101a3970c")
	equal(t, "parent job", ev.Run.ParentJob.Namespace+" "+ev.Run.ParentJob.Name, "airflow BQ")
	equal(t, "job", ev.Job.Namespace+" "+ev.Job.Name, "airflow BQ.copy")
	equal(t, "job type", ev.Job.Type, "BATCH/AIRFLOW/TASK")
	if len(ev.Inputs) != 1 || len(ev.Outputs) != 1 {
		t.Fatalf("inputs %d, outputs %d", len(ev.Inputs), len(ev.Outputs))
	}
	out := ev.Outputs[0]
	equal(t, "output", out.Namespace+" "+out.Name, "bigquery mock-project.test.upload_cp")
	equalSlices(t, "columns", columnNames(out.Columns), []string{"a", "b", "c", "d"})
	equal(t, "column type", out.Columns[0].Type, "INTEGER")
	// The older form: transformationType applies to inputs without
	// transformations, and "dataset": [] adds nothing.
	equal(t, "column lineage entries", len(out.ColumnLineage), 4)
	equalSlices(t, "c's inputs", inputs(out.ColumnLineage, "c"), []string{"mock-project.test.upload.c DIRECT/IDENTITY"})
}

func TestAirflowPostgresOperator(t *testing.T) {
	evs := parseFixture(t, "events/airflow_postgres_operator_expected_events.json")
	if len(evs) != 4 {
		t.Fatalf("%d events", len(evs))
	}
	j := evs[0].Job
	equal(t, "job", j.Namespace+" "+j.Name, "food_delivery postgres_orders_popular_day_of_week.postgres_if_not_exists")
	equal(t, "description", j.Description, "Determines the popular day of week orders are placed.")
	if !strings.Contains(j.SQL, "CREATE TABLE IF NOT EXISTS popular_orders_day_of_week") {
		t.Errorf("sql = %q", j.SQL)
	}
	equalSlices(t, "owners", j.Owners, []string{"datascience"})
	equal(t, "nominal start", *evs[0].Run.NominalStart, mustTime(t, oltest.TemplateTime))
	equal(t, "state", evs[0].Run.State, quarry.RunStart)

	ev := evs[3]
	equal(t, "state", ev.Run.State, quarry.RunComplete)
	equal(t, "input", ev.Inputs[0].Namespace+" "+ev.Inputs[0].Name, "postgres://postgres:5432 food_delivery.public.top_delivery_times")
	out := ev.Outputs[0]
	equal(t, "output", out.Name, "food_delivery.public.popular_orders_day_of_week")
	equalSlices(t, "columns", columnNames(out.Columns), []string{"order_day_of_week", "order_placed_on", "orders_placed"})
	equal(t, "type", out.Columns[2].Type, "int4")
	equalSlices(t, "order_day_of_week inputs", inputs(out.ColumnLineage, "order_day_of_week"), []string{"public.top_delivery_times.order_placed_on "})
	equal(t, "column lineage entries", len(out.ColumnLineage), 2)
}

func TestSparkCTASColumnLineage(t *testing.T) {
	ev := parseFixture(t, "events/spark_hive_ctas_column_lineage_complete.json")[0]
	equal(t, "eventTime", ev.EventTime, mustTime(t, "2024-08-06T13:26:54.34Z"))
	equal(t, "job type", ev.Job.Type, "BATCH/SPARK/SQL_JOB")
	equal(t, "parent job", ev.Run.ParentJob.Name, "open_lineage_integration_create_table")
	equal(t, "inputs", len(ev.Inputs), 2)
	out := ev.Outputs[0]
	equal(t, "output", out.Namespace+" "+out.Name, "file /tmp/cll_test/tbl1")
	equal(t, "lifecycle", out.Lifecycle, "CREATE")
	equalSlices(t, "columns", columnNames(out.Columns), []string{"ident", "trans", "agg"})
	// One ColumnInput per transformation.
	equalSlices(t, "ident", inputs(out.ColumnLineage, "ident"), []string{
		"/tmp/cll_test/cll_source1.a DIRECT/IDENTITY",
		"/tmp/cll_test/cll_source1.a INDIRECT/GROUP_BY",
		"/tmp/cll_test/cll_source1.a INDIRECT/JOIN",
		"/tmp/cll_test/cll_source1.a INDIRECT/FILTER",
		"/tmp/cll_test/cll_source1.b INDIRECT/GROUP_BY",
		"/tmp/cll_test/cll_source2.a INDIRECT/JOIN",
		"/tmp/cll_test/cll_source2.a INDIRECT/FILTER",
	})
	equalSlices(t, "agg", inputs(out.ColumnLineage, "agg"), []string{
		"/tmp/cll_test/cll_source1.a INDIRECT/GROUP_BY",
		"/tmp/cll_test/cll_source1.a INDIRECT/JOIN",
		"/tmp/cll_test/cll_source1.a INDIRECT/FILTER",
		"/tmp/cll_test/cll_source1.b INDIRECT/GROUP_BY",
		"/tmp/cll_test/cll_source2.c DIRECT/AGGREGATION",
		"/tmp/cll_test/cll_source2.a INDIRECT/JOIN",
		"/tmp/cll_test/cll_source2.a INDIRECT/FILTER",
	})
	if got := inputs(out.ColumnLineage, "trans"); !slices.Contains(got, "/tmp/cll_test/cll_source1.b DIRECT/TRANSFORMATION") {
		t.Errorf("trans = %q", got)
	}
	equal(t, "column lineage entries", len(out.ColumnLineage), 3)
}

func TestSparkCreateTable(t *testing.T) {
	ev := parseFixture(t, "events/spark_create_table_lifecycle_complete.json")[0]
	equal(t, "run id", ev.Run.ID, "019127df-00a2-743c-b714-df7e6dcadb2b")
	equal(t, "inputs", len(ev.Inputs), 0)
	out := ev.Outputs[0]
	equal(t, "lifecycle", out.Lifecycle, "CREATE")
	equalSlices(t, "columns", columnNames(out.Columns), []string{"a", "b"})
}

func TestDbtRunStream(t *testing.T) {
	evs := parseFixture(t, "events/dbt_postgres_run_stream_72_events.json")
	equal(t, "events", len(evs), 72)
	runOf := map[string]string{} // job name -> run id
	for _, ev := range evs {
		runOf[ev.Job.Name] = ev.Run.ID
	}
	children := 0
	for i, ev := range evs {
		equal(t, "job type", ev.Job.Type == "BATCH/DBT/MODEL" || ev.Job.Type == "BATCH/DBT/JOB" || ev.Job.Type == "BATCH/DBT/SQL" || ev.Job.Type == "", true)
		if ev.Job.Name == "dbt-run-jaffle_shop" {
			equal(t, "parent of the dbt run", ev.Run.ParentRunID, "")
			continue
		}
		children++
		pj := ev.Run.ParentJob
		if pj == nil {
			t.Errorf("event %d (%s) has no parent", i, ev.Job.Name)
			continue
		}
		equal(t, "parent run of "+ev.Job.Name, ev.Run.ParentRunID, runOf[pj.Name])
		if strings.Contains(ev.Job.Name, ".sql.") {
			equal(t, "parent of a statement", pj.Name, ev.Job.Name[:strings.Index(ev.Job.Name, ".sql.")])
		} else {
			equal(t, "parent of a model", pj.Name, "dbt-run-jaffle_shop")
		}
	}
	equal(t, "events with a parent", children, 70)
	customers := evs[slices.IndexFunc(evs, func(ev quarry.LineageEvent) bool { return ev.Job.Name == "model.jaffle_shop.customers" })]
	equal(t, "state", customers.Run.State, quarry.RunStart)
	equal(t, "inputs", len(customers.Inputs), 3)
	if d := customers.Outputs[0].Description; !strings.HasPrefix(d, "This table has basic information about a customer") {
		t.Errorf("description = %q", d)
	}
}

func TestDbtFailedRun(t *testing.T) {
	evs := parseFixture(t, "events/dbt_postgres_failed_run_events.json")
	var failed []string
	for _, ev := range evs {
		if ev.Run.State != quarry.RunFail {
			equal(t, "error of "+string(ev.Run.State), ev.Run.ErrorMessage, "")
			continue
		}
		failed = append(failed, ev.Job.Name)
		if ev.Run.ErrorMessage == "" {
			t.Errorf("%s: no error message", ev.Job.Name)
		}
	}
	equalSlices(t, "failed", failed, []string{"model.jaffle_shop.orders.sql.2", "model.jaffle_shop.orders", "dbt-run-jaffle_shop"})
	if !strings.Contains(evs[5].Run.ErrorMessage, `syntax error at or near "final"`) {
		t.Errorf("error = %q", evs[5].Run.ErrorMessage)
	}
	if !strings.HasPrefix(evs[5].Run.StackTrace, "Traceback (most recent call last):") {
		t.Errorf("stack trace = %.40q", evs[5].Run.StackTrace)
	}
	equal(t, "stack trace (null)", evs[7].Run.StackTrace, "")
}

func TestDbtTestAssertions(t *testing.T) {
	evs := parseFixture(t, "events/dbt_postgres_test_dq_assertions_events.json")
	var got []string
	for _, ev := range evs {
		got = append(got, checks(ev)...)
		for _, d := range ev.Inputs {
			for _, c := range d.Checks {
				equal(t, "observed at", c.ObservedAt, ev.EventTime)
				equal(t, "run", c.RunID, ev.Run.ID)
			}
		}
	}
	equalSlices(t, "checks", got, []string{
		"postgres.public.customers first_name accepted_values FAIL",
		"postgres.public.customers customer_id not_null PASS",
		"postgres.public.orders customer_id relationships PASS",
		"postgres.public.customers customer_id unique PASS",
	})
}

func TestDbtTestAssertionsInInputFacets(t *testing.T) {
	evs := parseFixture(t, "events/dbt_bigquery_test_dq_assertions_inputfacets.json")
	equal(t, "events", len(evs), 10)
	ev := evs[8]
	equal(t, "state", ev.Run.State, quarry.RunFail)
	equal(t, "parent run", ev.Run.ParentRunID, "f99310b4-3c3c-1a1a-2b2b-c1b95c24ff11")
	equalSlices(t, "checks", checks(ev), []string{
		"random-gcp-project.dbt_test1.test_second_dbt_model id not_null PASS",
		"random-gcp-project.dbt_test1.test_second_dbt_model id unique FAIL",
	})
	c := ev.Inputs[0].Checks[1]
	equal(t, "severity", c.Severity, "error")
	equal(t, "expected", c.Expected, "0")
	equal(t, "observed", c.Observed, "1")
	equal(t, "observed at", c.ObservedAt, mustTime(t, "2021-08-25T11:00:25.277467Z"))
	equal(t, "run", c.RunID, "f99310b4-339a-4381-ad3e-c1b95c24ff11")
	n := 0
	for _, ev := range evs {
		n += len(checks(ev))
	}
	equal(t, "checks in the file", n, 14)
}

// TestWarnSeverityAssertion: a failed assertion of severity warn (dbt's
// `severity: warn`) is a warning, not a failure; one that passed still
// passes.
func TestWarnSeverityAssertion(t *testing.T) {
	raw := fixtureEvents(t, "events/dbt_bigquery_test_dq_assertions_inputfacets.json")[8]
	for _, severity := range []string{"warn", "WARN"} {
		ev := mustParse(t, regexp.MustCompile(`"severity":\s*"error"`).ReplaceAll(raw, []byte(`"severity":"`+severity+`"`)))
		equalSlices(t, "checks", checks(ev), []string{
			"random-gcp-project.dbt_test1.test_second_dbt_model id not_null PASS",
			"random-gcp-project.dbt_test1.test_second_dbt_model id unique WARN",
		})
		equal(t, "severity", ev.Inputs[0].Checks[1].Severity, severity)
	}
}

func TestFlinkStreaming(t *testing.T) {
	ev := parseFixture(t, "events/flink_kafka_streaming_start_expected.json")[0]
	equal(t, "state", ev.Run.State, quarry.RunStart)
	equal(t, "job type", ev.Job.Type, "STREAMING/FLINK/JOB")
	equal(t, "inputs", len(ev.Inputs), 2)
	equal(t, "input namespace", ev.Inputs[1].Namespace, "kafka://kafka-cluster-prod:9092")
	equalSlices(t, "output columns", columnNames(ev.Outputs[0].Columns), []string{"id", "version", "counter"})
}

func TestMarquezAllFacets(t *testing.T) {
	ev := parseFixture(t, "events/marquez_event_full_all_facets.json")[0]
	j := ev.Job
	equal(t, "sql", j.SQL, "SELECT * FROM foo")
	equal(t, "description", j.Description, "string")
	equal(t, "source", j.SourceURL, "http://example.com")
	equal(t, "type", j.Type, "STREAMING/FLINK/QUERY")
	r := ev.Run
	equal(t, "nominal start", *r.NominalStart, mustTime(t, "2020-12-17T03:00:00.001Z"))
	equal(t, "nominal end", *r.NominalEnd, mustTime(t, "2020-12-17T04:00:00.001Z"))
	equal(t, "parent", r.ParentRunID, "3f5e83fa-3480-44ff-99c5-ff943904e5e8")
	in := ev.Inputs[0]
	equal(t, "description", in.Description, "canonical representation of entity Foo")
	equal(t, "column description", in.Columns[0].Description, "string")
	equalSlices(t, "checks", checks(ev), []string{
		"instance.schema.table  row_count_equal_to PASS",
		"instance.schema.table id no_null_values PASS",
	})
	m := in.Metrics
	if m == nil || m.RowCount == nil || m.Bytes == nil {
		t.Fatalf("metrics = %+v", m)
	}
	equal(t, "rows", *m.RowCount, 1000)
	equal(t, "bytes", *m.Bytes, 1048576)
	equal(t, "file count", m.FileCount, nil)
	equal(t, "observed at", m.ObservedAt, ev.EventTime)
	equal(t, "run", m.RunID, r.ID)
	equal(t, "output metrics", ev.Outputs[0].Metrics, nil)
}

func TestStaticEvents(t *testing.T) {
	ds := parseFixture(t, "events/static_dataset_event.json")[0]
	equal(t, "kind", ds.Kind, quarry.DatasetEvent)
	equal(t, "eventTime (no zone: UTC)", ds.EventTime, mustTime(t, "2021-11-03T10:53:52.427343Z"))
	if ds.Job != nil || ds.Run != nil || len(ds.Inputs) != 0 || len(ds.Outputs) != 1 {
		t.Fatalf("dataset event: job %v, run %v, %d inputs, %d outputs", ds.Job, ds.Run, len(ds.Inputs), len(ds.Outputs))
	}
	equal(t, "dataset", ds.Outputs[0].Namespace+" "+ds.Outputs[0].Name, "openlineage name")
	equalSlices(t, "columns", columnNames(ds.Outputs[0].Columns), []string{"a", "b"})

	job := parseFixture(t, "events/static_job_event.json")[0]
	equal(t, "kind", job.Kind, quarry.JobEvent)
	if job.Run != nil || job.Job == nil {
		t.Fatalf("job event: run %v, job %v", job.Run, job.Job)
	}
	equal(t, "job", job.Job.Namespace+" "+job.Job.Name, "openlineage name")
	equal(t, "input", job.Inputs[0].Name, "dataset_a")
	equal(t, "output", job.Outputs[0].Name, "dataset_b")
}

// facetEvent puts a facet example into an event where such a facet goes.
func facetEvent(t *testing.T, example, where string) []byte {
	t.Helper()
	var facet map[string]json.RawMessage
	if err := json.Unmarshal(readFixture(t, filepath.Join("spec", "facet_examples", example)), &facet); err != nil {
		t.Fatal(err)
	}
	f, err := json.Marshal(facet)
	if err != nil {
		t.Fatal(err)
	}
	ev := map[string]any{
		"eventType": "COMPLETE", "eventTime": "2024-01-02T03:04:05Z",
		"run":     map[string]any{"runId": "01936893-9751-7b10-a4a7-cd7454722d0f"},
		"job":     map[string]any{"namespace": "ns", "name": "job"},
		"inputs":  []any{map[string]any{"namespace": "ns", "name": "in"}},
		"outputs": []any{map[string]any{"namespace": "ns", "name": "out"}},
	}
	switch where {
	case "run":
		ev["run"].(map[string]any)["facets"] = json.RawMessage(f)
	case "job":
		ev["job"].(map[string]any)["facets"] = json.RawMessage(f)
	case "output":
		ev["outputs"].([]any)[0].(map[string]any)["facets"] = json.RawMessage(f)
	case "inputFacets":
		ev["inputs"].([]any)[0].(map[string]any)["inputFacets"] = json.RawMessage(f)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFacetExamples(t *testing.T) {
	for _, tc := range []struct {
		file, where string
		check       func(t *testing.T, ev quarry.LineageEvent)
	}{
		{"ColumnLineageDatasetFacet_1.json", "output", func(t *testing.T, ev quarry.LineageEvent) {
			cl := ev.Outputs[0].ColumnLineage
			equal(t, "entries", len(cl), 4)
			// transformations win over the deprecated transformationType.
			equalSlices(t, "NAME", inputs(cl, "NAME"), []string{"CUSTOMERS.NAME DIRECT/IDENTITY", "CUSTOMERS.ID INDIRECT/JOIN", "DISCOUNTS.CUSTOMERS_ID INDIRECT/JOIN"})
			equal(t, "namespace", cl[0].Inputs[0].Namespace, "SnowflakeOpenLineage")
		}},
		{"ColumnLineageDatasetFacet_2.json", "output", func(t *testing.T, ev quarry.LineageEvent) {
			cl := ev.Outputs[0].ColumnLineage
			equal(t, "entries", len(cl), 5)
			equalSlices(t, "ageNextYear", inputs(cl, "ageNextYear"), []string{"/iceberg_warehouse/some-database/people.age DIRECT/TRANSFORMATION"})
			equalSlices(t, "dataset-wide", inputs(cl, ""), []string{
				"/iceberg_warehouse/some-database/people.last_name INDIRECT/SORT",
				"/iceberg_warehouse/some-database/people.first_name INDIRECT/SORT",
				"/iceberg_warehouse/some-database/people.age INDIRECT/FILTER",
			})
		}},
		{"DataQualityAssertionsDatasetFacet_1.json", "inputFacets", func(t *testing.T, ev quarry.LineageEvent) {
			cs := ev.Inputs[0].Checks
			equal(t, "checks", len(cs), 10)
			equal(t, "first", cs[0].Name+" "+cs[0].Column+" "+string(cs[0].Status), "accepted_values status PASS")
		}},
		{"DataQualityMetricsInputDatasetFacet_1.json", "inputFacets", func(t *testing.T, ev quarry.LineageEvent) {
			m := ev.Inputs[0].Metrics
			equal(t, "rows", *m.RowCount, 10)
			equal(t, "files", *m.FileCount, 5)
			equal(t, "bytes", m.Bytes, nil)
			equal(t, "last updated", *m.LastUpdated, mustTime(t, "2023-05-30T10:54:22.355067Z"))
			a := m.Columns["amount"]
			equal(t, "amount", *a.Count+*a.Sum+*a.Min+*a.Max, 10+6600+100+1500)
			u := m.Columns["user_id"]
			equal(t, "user_id", *u.DistinctCount*10+*u.NullCount, 30)
			equal(t, "columns", len(m.Columns), 3)
		}},
		{"DatasourceDatasetFacet_1.json", "output", func(t *testing.T, ev quarry.LineageEvent) {}},
		{"DocumentationDatasetFacet_1.json", "output", func(t *testing.T, ev quarry.LineageEvent) {
			equal(t, "description", ev.Outputs[0].Description, "Some dataset description")
		}},
		{"ErrorMessageRunFacet_1.json", "run", func(t *testing.T, ev quarry.LineageEvent) {
			equal(t, "message", ev.Run.ErrorMessage, "failed")
			equal(t, "stack", ev.Run.StackTrace, "<stack_trace>")
		}},
		{"JobTypeJobFacet_1.json", "job", func(t *testing.T, ev quarry.LineageEvent) {
			equal(t, "type", ev.Job.Type, "BATCH/SPARK/QUERY")
		}},
		{"JobTypeJobFacet_2.json", "job", func(t *testing.T, ev quarry.LineageEvent) {
			equal(t, "type", ev.Job.Type, "STREAMING/KAFKA_STREAMS/STREAM_PROCESSOR")
		}},
		{"JobTypeJobFacet_3.json", "job", func(t *testing.T, ev quarry.LineageEvent) {
			equal(t, "type", ev.Job.Type, "BATCH/SPARK/ETL")
		}},
		{"LifecycleStateChangeDatasetFacet_1.json", "output", func(t *testing.T, ev quarry.LineageEvent) {
			o := ev.Outputs[0]
			equal(t, "lifecycle", o.Lifecycle+" "+o.PreviousNamespace+" "+o.PreviousName, "RENAME file /tmp/alter_test/alter_table_test")
		}},
		{"OwnershipDatasetFacet_1.json", "output", func(t *testing.T, ev quarry.LineageEvent) {
			equalSlices(t, "owners", ev.Outputs[0].Owners, []string{"owner"})
		}},
		{"ParentRunFacet_1.json", "run", func(t *testing.T, ev quarry.LineageEvent) {
			equal(t, "parent", ev.Run.ParentRunID, "f99310b4-3c3c-1a1a-2b2b-c1b95c24ff11")
			equal(t, "parent job", ev.Run.ParentJob.Namespace+" "+ev.Run.ParentJob.Name, "dbt dbt-job-name")
		}},
		{"ParentRunFacet_2.json", "run", func(t *testing.T, ev quarry.LineageEvent) {
			equal(t, "parent job", ev.Run.ParentJob.Namespace+" "+ev.Run.ParentJob.Name, "airflow my_dag.my_task")
		}},
		{"SQLJobFacet_1.json", "job", func(t *testing.T, ev quarry.LineageEvent) {
			if !strings.HasPrefix(ev.Job.SQL, "\n\nwith orders as (") {
				t.Errorf("sql = %q", ev.Job.SQL)
			}
		}},
		{"SchemaDatasetFacet_1.json", "output", func(t *testing.T, ev quarry.LineageEvent) {
			cols := ev.Outputs[0].Columns
			equalSlices(t, "columns", columnNames(cols), []string{
				"user_id", "counterparty_id", "currency", "amount",
				"phones", "phones._element",
				"addresses", "addresses.type", "addresses.country", "addresses.zip", "addresses.state", "addresses.street",
				"custom_properties", "custom_properties.key", "custom_properties.value", "custom_properties.value._0", "custom_properties.value._1",
			})
			equal(t, "struct", cols[6], quarry.Column{Name: "addresses", Type: "struct", Description: "Has customer completed activation process"})
			equal(t, "nested", cols[8], quarry.Column{Name: "addresses.country", Type: "string", Description: "Country name"})
		}},
	} {
		t.Run(strings.TrimSuffix(tc.file, ".json"), func(t *testing.T) {
			tc.check(t, mustParse(t, facetEvent(t, tc.file, tc.where)))
		})
	}
}

const (
	goodRunID = "01936893-9751-7B10-A4A7-CD7454722D0F" // v7, upper-case
	goodEvent = `{"eventType":"START","eventTime":"2024-01-02T03:04:05Z","run":{"runId":"` + goodRunID + `"},"job":{"namespace":"ns","name":"job"}}`
)

// event builds a RunEvent with the given members replacing or adding to a
// valid one.
func event(members string) []byte {
	if members == "" {
		return []byte(goodEvent)
	}
	return []byte(`{"eventType":"START","eventTime":"2024-01-02T03:04:05Z","run":{"runId":"` + goodRunID + `"},"job":{"namespace":"ns","name":"job"},` + members + `}`)
}

func TestRunIDs(t *testing.T) {
	ev := mustParse(t, event(""))
	equal(t, "run id", ev.Run.ID, strings.ToLower(goodRunID))
	for _, id := range []string{
		"f99310b4-3c3c-1a1a-2b2b-c1b95c24ff11", // no valid version or variant: still a UUID
		"6edf42ed-d8d0-454a-b819-d09b9067ff99", // v4
		"{6edf42ed-d8d0-454a-b819-d09b9067ff99}",
		"urn:uuid:6edf42ed-d8d0-454a-b819-d09b9067ff99",
	} {
		ev := mustParse(t, []byte(`{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":"`+id+`"},"job":{"namespace":"n","name":"j"}}`))
		if _, err := uuid.Parse(ev.Run.ID); err != nil || len(ev.Run.ID) != 36 || ev.Run.ID != strings.ToLower(ev.Run.ID) {
			t.Errorf("%s -> %q", id, ev.Run.ID)
		}
	}
}

func TestEventTimes(t *testing.T) {
	want := func(s string) time.Time { return mustTime(t, s) }
	for in, out := range map[string]time.Time{
		"2024-01-02T03:04:05Z":                    want("2024-01-02T03:04:05Z"),
		"2024-01-02T03:04:05.1Z":                  want("2024-01-02T03:04:05.1Z"),
		"2024-01-02T03:04:05.123Z":                want("2024-01-02T03:04:05.123Z"),
		"2024-01-02T03:04:05.123456Z":             want("2024-01-02T03:04:05.123456Z"),
		"2024-01-02T03:04:05.123456789Z":          want("2024-01-02T03:04:05.123456789Z"),
		"2024-01-02T03:04:05.1234567891234Z":      want("2024-01-02T03:04:05.123456789Z"), // truncated
		"2024-01-02T03:04:05+02:00":               want("2024-01-02T01:04:05Z"),
		"2024-01-02T03:04:05.5-0130":              want("2024-01-02T04:34:05.5Z"),
		"2024-01-02T03:04:05+0200":                want("2024-01-02T01:04:05Z"),
		"2024-01-02T03:04:05+00:00":               want("2024-01-02T03:04:05Z"),
		"2024-01-02T03:04:05+02":                  want("2024-01-02T01:04:05Z"),
		"2024-01-02 03:04:05Z":                    want("2024-01-02T03:04:05Z"),
		"2024-01-02 03:04:05.626595+00:00":        want("2024-01-02T03:04:05.626595Z"),
		"2024-01-02T03:04:05":                     want("2024-01-02T03:04:05Z"), // no zone: UTC
		"2024-01-02T03:04:05.427343":              want("2024-01-02T03:04:05.427343Z"),
		"2024-01-02t03:04:05z":                    want("2024-01-02T03:04:05Z"),
		"2024-01-02T03:04Z":                       want("2024-01-02T03:04:00Z"),
		"2024-01-02T03:04:05+01:00[Europe/Paris]": want("2024-01-02T02:04:05Z"),
		"2024-02-29T00:00:00Z":                    want("2024-02-29T00:00:00Z"),
	} {
		ev, err := lineage.ParseEvent([]byte(`{"eventTime":"` + in + `","run":{"runId":"` + goodRunID + `"},"job":{"namespace":"n","name":"j"}}`))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !ev.EventTime.Equal(out) || ev.EventTime.Location() != time.UTC {
			t.Errorf("%s -> %v, want %v", in, ev.EventTime, out)
		}
	}
	for _, in := range []string{
		"", "now", "2024-01-02", "2024-13-02T03:04:05Z", "2023-02-29T03:04:05Z", "2024-01-02T24:00:00Z",
		"2024-01-02T03:04:60Z", "2024-01-02T03:04:05.Z", "2024-01-02T03:04:05+2", "2024-01-02T03:04:05 UTC",
		"2024-01-02X03:04:05Z", "1704164645", "2024-01-02T03:04:05+25:00", "2024-1-2T03:04:05Z",
	} {
		_, err := lineage.ParseEvent([]byte(`{"eventTime":"` + in + `","run":{"runId":"` + goodRunID + `"},"job":{"namespace":"n","name":"j"}}`))
		assertInvalid(t, in, err, "eventTime", "is not a time")
	}
}

// A time the catalog cannot order is refused alike whatever its year:
// year 1 (Go's zero time) did not become "now".
func TestEventTimeOutOfRange(t *testing.T) {
	for _, in := range []string{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000001Z", "1677-01-01T00:00:00Z", "2263-01-01T00:00:00Z"} {
		for _, kind := range []string{`"run":{"runId":"` + goodRunID + `"},"job":{"namespace":"n","name":"j"}`, `"job":{"namespace":"n","name":"j"}`} {
			_, err := lineage.ParseEvent([]byte(`{"eventTime":"` + in + `",` + kind + `}`))
			assertInvalid(t, in, err, "eventTime", "is out of range")
		}
	}
}

func assertInvalid(t *testing.T, name string, err error, field, msg string) {
	t.Helper()
	e, ok := errors.AsType[*quarry.Error](err)
	if !ok {
		t.Errorf("%s: error %v, want an *quarry.Error about %q", name, err, field)
		return
	}
	if e.Code != quarry.EINVALID || e.Field != field || !strings.Contains(e.Message, msg) {
		t.Errorf("%s: error {%s %q %q}, want {invalid %q ...%q...}", name, e.Code, e.Field, e.Message, field, msg)
	}
}

func TestMalformedEvents(t *testing.T) {
	const run = `"run":{"runId":"` + goodRunID + `"}`
	const job = `"job":{"namespace":"ns","name":"job"}`
	const head = `{"eventTime":"2024-01-02T03:04:05Z",` + run + `,` + job
	for _, tc := range []struct {
		name, in, field, msg string
	}{
		{"Empty", ``, "body", "not JSON"},
		{"NotJSON", `hello`, "body", "invalid character 'h'"},
		{"Truncated", `{"eventType":`, "body", "unexpected end of JSON input"},
		{"TrailingGarbage", goodEvent + ` x`, "body", "invalid character 'x' after top-level value (at byte 151)"},
		{"TrailingComma", `{"a":1,}`, "body", "not JSON"},
		{"ControlInString", "{\"a\":\"\x01\"}", "body", "not JSON"},
		{"NotAnObject", `[1]`, "", "must be a JSON object, got array"},
		{"NoKind", `{"eventTime":"2024-01-02T03:04:05Z"}`, "", "must have a run and a job"},
		{"RunNotObject", `{"run":"x",` + job + `}`, "run", "must be an object, got string"},
		{"RunWithoutJob", `{"eventTime":"2024-01-02T03:04:05Z",` + run + `}`, "job", "is required"},
		{"MissingRunID", `{"eventTime":"2024-01-02T03:04:05Z","run":{},` + job + `}`, "run.runId", "is required"},
		{"NullRunID", `{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":null},` + job + `}`, "run.runId", "is required"},
		{"BadRunID", `{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":"1234"},` + job + `}`, "run.runId", `is not a UUID: "1234"`},
		{"RunIDNumber", `{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":5},` + job + `}`, "run.runId", "must be a string, got number"},
		{"MissingEventTime", `{` + run + `,` + job + `}`, "eventTime", "is required"},
		{"BadEventTime", `{"eventTime":"yesterday",` + run + `,` + job + `}`, "eventTime", `is not a time: "yesterday"`},
		{"EventTimeNumber", `{"eventTime":1704164645,` + run + `,` + job + `}`, "eventTime", "must be a string, got number"},
		{"BadEventType", `{"eventType":"DONE","eventTime":"2024-01-02T03:04:05Z",` + run + `,` + job + `}`, "eventType", `"DONE" is not an event type`},
		{"EventTypeBool", `{"eventType":true,"eventTime":"2024-01-02T03:04:05Z",` + run + `,` + job + `}`, "eventType", "must be a string, got boolean"},
		{"ProducerNumber", head + `,"producer":1}`, "producer", "must be a string, got number"},
		{"JobWithoutName", `{"eventTime":"2024-01-02T03:04:05Z",` + run + `,"job":{"namespace":"ns"}}`, "job.name", "is required"},
		{"JobNameNumber", `{"eventTime":"2024-01-02T03:04:05Z",` + run + `,"job":{"namespace":"ns","name":5}}`, "job.name", "must be a string, got number"},
		{"JobNamespaceBlank", `{"eventTime":"2024-01-02T03:04:05Z",` + run + `,"job":{"namespace":"  ","name":"j"}}`, "job.namespace", "must not be empty"},
		{"InputsObject", head + `,"inputs":{}}`, "inputs", "must be an array, got object"},
		{"InputNotObject", head + `,"inputs":[5]}`, "inputs[0]", "must be an object, got number"},
		{"DatasetWithoutName", head + `,"inputs":[{"namespace":"n","name":"a"},{"namespace":"n","name":"b"},{"namespace":"n"}]}`, "inputs[2].name", "is required"},
		{"DatasetNameNumber", head + `,"inputs":[{"namespace":"n","name":5}]}`, "inputs[0].name", "must be a string, got number"},
		{"DatasetWithoutNamespace", head + `,"outputs":[{"namespace":"n","name":"a"},{"name":"b"}]}`, "outputs[1].namespace", "is required"},
		{"DatasetEmptyName", head + `,"outputs":[{"namespace":"n","name":""}]}`, "outputs[0].name", "must not be empty"},
		{"FacetsNotObject", head + `,"outputs":[{"namespace":"n","name":"a","facets":[]}]}`, "outputs[0].facets", "must be an object, got array"},
		{"SchemaNotObject", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"schema":"x"}}]}`, "outputs[0].facets.schema", "must be an object, got string"},
		{"SchemaFieldWithoutName", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"schema":{"fields":[{"name":"a"},{"name":"b"},{"name":"c"},{"type":"int"}]}}}]}`,
			"outputs[0].facets.schema.fields[3].name", "is required"},
		{"NestedSchemaField", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"schema":{"fields":[{"name":"a"},{"name":"s","fields":[{"name":7}]}]}}}]}`,
			"outputs[0].facets.schema.fields[1].fields[0].name", "must be a string, got number"},
		{"DuplicateColumn", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"schema":{"fields":[{"name":"a"},{"name":"a"}]}}}]}`,
			"outputs[0].facets.schema.fields", `two columns named "a"`},
		{"ColumnTypeNumber", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"schema":{"fields":[{"name":"a","type":1}]}}}]}`,
			"outputs[0].facets.schema.fields[0].type", "must be a string, got number"},
		{"DescriptionNumber", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"documentation":{"description":1}}}]}`,
			"outputs[0].facets.documentation.description", "must be a string, got number"},
		{"OwnerNameNumber", `{"eventTime":"2024-01-02T03:04:05Z",` + run + `,"job":{"namespace":"ns","name":"j","facets":{"ownership":{"owners":[{"name":5}]}}}}`,
			"job.facets.ownership.owners[0].name", "must be a string, got number"},
		{"OwnerControlChar", `{"eventTime":"2024-01-02T03:04:05Z",` + run + `,"job":{"namespace":"ns","name":"j","facets":{"ownership":{"owners":[{"name":"a\u0007"}]}}}}`,
			"job.facets.ownership.owners[0].name", "control character"},
		{"JobFacetsNumber", `{"eventTime":"2024-01-02T03:04:05Z",` + run + `,"job":{"namespace":"ns","name":"j","facets":5}}`, "job.facets", "must be an object, got number"},
		{"SQLQueryNumber", `{"eventTime":"2024-01-02T03:04:05Z",` + run + `,"job":{"namespace":"ns","name":"j","facets":{"sql":{"query":5}}}}`, "job.facets.sql.query", "must be a string"},
		{"JobTypeNumber", `{"eventTime":"2024-01-02T03:04:05Z",` + run + `,"job":{"namespace":"ns","name":"j","facets":{"jobType":{"integration":5}}}}`, "job.facets.jobType.integration", "must be a string"},
		{"BadParentRunID", `{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":"` + goodRunID + `","facets":{"parent":{"run":{"runId":"nope"},"job":{"namespace":"a","name":"b"}}}},` + job + `}`,
			"run.facets.parent.run.runId", "is not a UUID"},
		{"ParentWithoutRun", `{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":"` + goodRunID + `","facets":{"parent":{"job":{"namespace":"a","name":"b"}}}},` + job + `}`,
			"run.facets.parent.run", "is required"},
		{"ParentJobWithoutName", `{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":"` + goodRunID + `","facets":{"parent":{"run":{"runId":"` + goodRunID + `"},"job":{"namespace":"a"}}}},` + job + `}`,
			"run.facets.parent.job.name", "is required"},
		{"BadNominalTime", `{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":"` + goodRunID + `","facets":{"nominalTime":{"nominalStartTime":"soon"}}},` + job + `}`,
			"run.facets.nominalTime.nominalStartTime", "is not a time"},
		{"ErrorMessageNumber", `{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":"` + goodRunID + `","facets":{"errorMessage":{"message":1}}},` + job + `}`,
			"run.facets.errorMessage.message", "must be a string"},
		{"ColumnLineageWithoutField", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"columnLineage":{"fields":{"a":{"inputFields":[{"namespace":"n","name":"b"}]}}}}}]}`,
			"outputs[0].facets.columnLineage.fields.a.inputFields[0].field", "is required"},
		{"ColumnLineageEmptyColumn", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"columnLineage":{"fields":{"":{"inputFields":[]}}}}}]}`,
			"outputs[0].facets.columnLineage.fields", "a column name must not be empty"},
		{"ColumnLineageFieldsArray", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"columnLineage":{"fields":[]}}}]}`,
			"outputs[0].facets.columnLineage.fields", "must be an object, got array"},
		{"TransformationWithoutType", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"columnLineage":{"fields":{"a":{"inputFields":[{"namespace":"n","name":"b","field":"c","transformations":[{"subtype":"X"}]}]}}}}}]}`,
			"outputs[0].facets.columnLineage.fields.a.inputFields[0].transformations[0].type", "is required"},
		{"DatasetLineageWithoutName", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"columnLineage":{"fields":{},"dataset":[{"namespace":"n","field":"c"}]}}}]}`,
			"outputs[0].facets.columnLineage.dataset[0].name", "is required"},
		{"AssertionWithoutSuccess", head + `,"inputs":[{"namespace":"n","name":"a","inputFacets":{"dataQualityAssertions":{"assertions":[{"assertion":"not_null"}]}}}]}`,
			"inputs[0].inputFacets.dataQualityAssertions.assertions[0].success", "is required"},
		{"AssertionSuccessString", head + `,"inputs":[{"namespace":"n","name":"a","facets":{"dataQualityAssertions":{"assertions":[{"assertion":"x","success":"true"}]}}}]}`,
			"inputs[0].facets.dataQualityAssertions.assertions[0].success", "must be a boolean, got string"},
		{"RowCountString", head + `,"inputs":[{"namespace":"n","name":"a","inputFacets":{"dataQualityMetrics":{"rowCount":"10"}}}]}`,
			"inputs[0].inputFacets.dataQualityMetrics.rowCount", "must be an integer, got string"},
		{"RowCountFraction", head + `,"inputs":[{"namespace":"n","name":"a","inputFacets":{"dataQualityMetrics":{"rowCount":1.5}}}]}`,
			"inputs[0].inputFacets.dataQualityMetrics.rowCount", "must be an integer, got 1.5"},
		{"NegativeNullCount", head + `,"inputs":[{"namespace":"n","name":"a","inputFacets":{"dataQualityMetrics":{"columnMetrics":{"x":{"nullCount":-1}}}}}]}`,
			"inputs[0].inputFacets.dataQualityMetrics.columnMetrics.x.nullCount", "must not be negative"},
		{"SumString", head + `,"inputs":[{"namespace":"n","name":"a","inputFacets":{"dataQualityMetrics":{"columnMetrics":{"x":{"sum":"1"}}}}}]}`,
			"inputs[0].inputFacets.dataQualityMetrics.columnMetrics.x.sum", "must be a number, got string"},
		{"MaxOutOfRange", head + `,"inputs":[{"namespace":"n","name":"a","inputFacets":{"dataQualityMetrics":{"columnMetrics":{"x":{"max":1e999}}}}}]}`,
			"inputs[0].inputFacets.dataQualityMetrics.columnMetrics.x.max", "out of range"},
		{"PreviousIdentifierWithoutName", head + `,"outputs":[{"namespace":"n","name":"a","facets":{"lifecycleStateChange":{"lifecycleStateChange":"RENAME","previousIdentifier":{"namespace":"n"}}}}]}`,
			"outputs[0].facets.lifecycleStateChange.previousIdentifier.name", "is required"},
		{"StaticDatasetWithoutName", `{"dataset":{"namespace":"n"}}`, "dataset.name", "is required"},
		{"StaticDatasetNotObject", `{"dataset":[]}`, "dataset", "must be an object, got array"},
		{"StaticJobWithoutNamespace", `{"job":{"name":"j"}}`, "job.namespace", "is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := lineage.ParseEvent([]byte(tc.in))
			assertInvalid(t, tc.name, err, tc.field, tc.msg)
			if err != nil && (ev.Digest != "" || ev.Job != nil) {
				t.Errorf("a failed parse returned %+v", ev)
			}
		})
	}
}

func TestNullsAreAbsent(t *testing.T) {
	ev := mustParse(t, []byte(`{
		"eventType": null, "eventTime": "2024-01-02T03:04:05Z", "producer": null, "schemaURL": null,
		"run": {"runId": "`+goodRunID+`", "facets": {"parent": null, "errorMessage": {"message": "boom", "stackTrace": null}, "nominalTime": {"nominalStartTime": "2024-01-02T03:00:00Z", "nominalEndTime": null}}},
		"job": {"namespace": "ns", "name": "j", "facets": {"sql": null, "ownership": {"owners": null}, "jobType": {"processingType": "BATCH", "integration": "AIRFLOW", "jobType": null}}},
		"inputs": null,
		"outputs": [{"namespace": "n", "name": "t", "facets": {"schema": {"fields": [{"name": "a", "type": null, "description": null, "fields": null}]}, "documentation": null, "columnLineage": {"fields": {"a": null}, "dataset": null}}, "outputFacets": null}]
	}`))
	equal(t, "state", ev.Run.State, quarry.RunOther)
	equal(t, "error", ev.Run.ErrorMessage+"|"+ev.Run.StackTrace, "boom|")
	equal(t, "nominal end", ev.Run.NominalEnd, nil)
	equal(t, "job type", ev.Job.Type, "BATCH/AIRFLOW")
	equal(t, "inputs", len(ev.Inputs), 0)
	equal(t, "column", ev.Outputs[0].Columns[0], quarry.Column{Name: "a"})
	equal(t, "column lineage", len(ev.Outputs[0].ColumnLineage), 0)

	job := mustParse(t, []byte(`{"run": null, "job": {"namespace": "ns", "name": "j"}, "dataset": null}`))
	equal(t, "kind with a null run", job.Kind, quarry.JobEvent)
	equal(t, "time of a static event", job.EventTime.IsZero(), true)
}

func TestEventTypes(t *testing.T) {
	for in, want := range map[string]quarry.RunState{
		`"START"`: quarry.RunStart, `"running"`: quarry.RunRunning, `"Complete"`: quarry.RunComplete,
		`"FAIL"`: quarry.RunFail, `"abort"`: quarry.RunAbort, `"OTHER"`: quarry.RunOther, `null`: quarry.RunOther,
	} {
		ev := mustParse(t, []byte(`{"eventType":`+in+`,"eventTime":"2024-01-02T03:04:05Z","run":{"runId":"`+goodRunID+`"},"job":{"namespace":"n","name":"j"}}`))
		equal(t, in, ev.Run.State, want)
	}
}

func TestUnknownFieldsAndFacets(t *testing.T) {
	ev := mustParse(t, event(`"custom":{"x":[1,2,{"y":null}]},"outputs":[{"namespace":"n","name":"t","extra":true,
		"facets":{"myFacet":{"_producer":"p","_schemaURL":"s","anything":[1]},"schema":{"_producer":"p","_schemaURL":"s","fields":[{"name":"a","ordinal_position":1,"extra":{}}]},
		"documentation":{"_deleted":true,"description":"gone"},"symlinks":{"identifiers":[{"namespace":"x","name":"y","type":"TABLE"}]}}}]`))
	out := ev.Outputs[0]
	equalSlices(t, "columns", columnNames(out.Columns), []string{"a"})
	equal(t, "deleted facet", out.Description, "")
}

// TestStrings: names decode as encoding/json decodes them: escapes,
// surrogate pairs, lone surrogates and invalid UTF-8 (both U+FFFD).
func TestStrings(t *testing.T) {
	for _, lit := range []string{
		`"plain"`, `"tab\there\n"`, `"\u00e9t\u00E9"`, `"\ud83d\ude00 smile"`, `"lone \ud800 surrogate"`,
		`"\ud800\u0041"`, `"quote \" slash \/ back \\"`, "\"caf\xc3\xa9\"", "\"bad \xff\xfe utf8\"",
		`"\ude00\ud83d"`, `"0123456789abcdef0123456789\"x"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		ev := mustParse(t, []byte(`{"job":{"namespace":"n","name":`+lit+`},"producer":`+lit+`}`))
		equal(t, lit, ev.Job.Name, want)
		equal(t, lit, ev.Producer, want)
		// An escaped key is the key it spells.
		ev = mustParse(t, []byte(`{"j\u006fb":{"n\u0061mespace":"n","name":`+lit+`}}`))
		equal(t, "escaped key", ev.Job.Name, want)
	}
}

func TestSourceCodeLocation(t *testing.T) {
	for facet, want := range map[string]string{
		`{"type":"git","url":"https://github.com/o/r/blob/main/dags/x.py"}`:                          "https://github.com/o/r/blob/main/dags/x.py",
		`{"type":"git","repoUrl":"https://github.com/o/r/","path":"/dags/x.py","version":"abc"}`:     "https://github.com/o/r/dags/x.py",
		`{"type":"git","repoUrl":"https://github.com/o/r"}`:                                          "https://github.com/o/r",
		`{"type":"git","url":null,"repoUrl":"git@github.com:o/r.git","path":"x.py","branch":"main"}`: "git@github.com:o/r.git/x.py",
	} {
		ev := mustParse(t, []byte(`{"eventTime":"2024-01-02T03:04:05Z","run":{"runId":"`+goodRunID+`"},"job":{"namespace":"n","name":"j","facets":{"sourceCodeLocation":`+facet+`}}}`))
		equal(t, facet, ev.Job.SourceURL, want)
	}
}

func TestDigest(t *testing.T) {
	a := mustParse(t, []byte(`{"eventType":"START","eventTime":"2024-01-02T03:04:05Z","run":{"runId":"`+goodRunID+`"},"job":{"namespace":"ns","name":"job"},"producer":"p"}`))
	// The same event: other layout, key order, escapes.
	b := mustParse(t, []byte("{\n  \"producer\": \"\\u0070\",\n  \"job\": {\"name\": \"job\", \"namespace\": \"ns\"},\n  \"run\" : {\"runId\":\""+goodRunID+"\"},\n  \"eventTime\": \"2024-01-02T03:04:05Z\", \"eventType\": \"START\"\n}\n"))
	equal(t, "digest of a retried delivery", b.Digest, a.Digest)
	c := mustParse(t, []byte(`{"eventType":"COMPLETE","eventTime":"2024-01-02T03:04:05Z","run":{"runId":"`+goodRunID+`"},"job":{"namespace":"ns","name":"job"},"producer":"p"}`))
	if c.Digest == a.Digest {
		t.Error("START and COMPLETE of a run have the same digest")
	}
	// Unmapped content counts too: it is part of what was delivered.
	d := mustParse(t, []byte(`{"eventType":"START","eventTime":"2024-01-02T03:04:05Z","run":{"runId":"`+goodRunID+`","facets":{"x":{"y":1}}},"job":{"namespace":"ns","name":"job"},"producer":"p"}`))
	if d.Digest == a.Digest {
		t.Error("an extra facet left the digest unchanged")
	}
	// Nesting cannot be confused: {"a":["b"]} vs {"a":"b"}.
	e1 := mustParse(t, event(`"x":{"a":["b"]}`))
	e2 := mustParse(t, event(`"x":{"a":"b"}`))
	if e1.Digest == e2.Digest {
		t.Error("different nesting, same digest")
	}
}

func TestParseBatch(t *testing.T) {
	evs, errs, err := lineage.ParseBatch([]byte(`[` + goodEvent + `, {"run":{"runId":"x"},"job":{"namespace":"n","name":"j"},"eventTime":"2024-01-02T03:04:05Z"}, 5, {"dataset":{"namespace":"n","name":"d"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 || len(errs) != 4 {
		t.Fatalf("%d events, %d errors", len(evs), len(errs))
	}
	equal(t, "0", errs[0], nil)
	equal(t, "0 kind", evs[0].Kind, quarry.RunEvent)
	assertInvalid(t, "element 1", errs[1], "run.runId", "is not a UUID")
	assertInvalid(t, "element 2", errs[2], "", "must be a JSON object, got number")
	equal(t, "3", errs[3], nil)
	equal(t, "3 kind", evs[3].Kind, quarry.DatasetEvent)
	equal(t, "digest of an element", evs[0].Digest, mustParse(t, []byte(goodEvent)).Digest)

	evs, errs, err = lineage.ParseBatch([]byte(` [ ] `))
	if err != nil || len(evs) != 0 || len(errs) != 0 {
		t.Errorf("empty batch: %v %v %v", evs, errs, err)
	}
	for name, in := range map[string]string{"object": goodEvent, "not JSON": `[{]`, "empty": ``} {
		evs, errs, err := lineage.ParseBatch([]byte(in))
		assertInvalid(t, name, err, "body", "")
		if evs != nil || errs != nil {
			t.Errorf("%s: results beside the error", name)
		}
	}

	// A whole fixture stream in one batch parses like its events one by one.
	raw := fixtureEvents(t, "events/dbt_postgres_run_stream_72_events.json")
	evs, errs, err = lineage.ParseBatch(append(append([]byte("["), bytes.Join(raw, []byte(","))...), ']'))
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		if errs[i] != nil {
			t.Fatalf("element %d: %v", i, errs[i])
		}
		equal(t, "digest", evs[i].Digest, mustParse(t, raw[i]).Digest)
	}
}

// FuzzParseEvent: any input gives an event or an EINVALID error, never a
// panic; input is rejected as "body" exactly when it is not JSON; a valid
// event's digest ignores layout; and a batch of one parses like the event.
func FuzzParseEvent(f *testing.F) {
	for _, rel := range []string{
		"events/airflow_bigquery_copy_task_complete_cll.json", "events/marquez_event_full_all_facets.json",
		"events/static_dataset_event.json", "events/static_job_event.json",
	} {
		f.Add(readFixture(f, rel))
	}
	for _, rel := range []string{"events/dbt_postgres_failed_run_events.json", "events/dbt_bigquery_test_dq_assertions_inputfacets.json"} {
		for _, ev := range fixtureEvents(f, rel)[:3] {
			f.Add(ev)
		}
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"a":"\ud800"}`, `{"a":"\u00e9\uD83D\uDE00"}`, "{\"a\":\"\xff\"}", `{"run":{"runId":"x"}}`,
		goodEvent, `{"eventTime":"2024-01-02 03:04:05.1234567891+0200","dataset":{"namespace":"n","name":"d"}}`, `1e999`, `-0.0e+1`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := lineage.ParseEvent(raw)
		valid := json.Valid(raw)
		if err != nil {
			e, ok := errors.AsType[*quarry.Error](err)
			if !ok || e.Code != quarry.EINVALID || e.Message == "" {
				t.Fatalf("error %#v", err)
			}
			if (e.Field == "body") == valid {
				t.Fatalf("valid JSON %v, but error %v", valid, err)
			}
			return
		}
		if !valid {
			t.Fatalf("parsed invalid JSON %q", raw)
		}
		var indented bytes.Buffer
		if err := json.Indent(&indented, raw, "", "\t"); err != nil {
			t.Fatal(err)
		}
		again := mustParse(t, indented.Bytes())
		if again.Digest != ev.Digest {
			t.Fatalf("indenting changed the digest")
		}
		evs, errs, err := lineage.ParseBatch(append(append([]byte("["), raw...), ']'))
		if err != nil || errs[0] != nil || evs[0].Digest != ev.Digest {
			t.Fatalf("as a batch: %v %v", err, errs)
		}
		// Strings decode as encoding/json decodes them.
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if p, _ := m["producer"].(string); p != ev.Producer {
			t.Fatalf("producer %q, encoding/json %q", ev.Producer, p)
		}
		if job, _ := m["job"].(map[string]any); ev.Job != nil && job["name"] != ev.Job.Name {
			t.Fatalf("job name %q, encoding/json %q", ev.Job.Name, job["name"])
		}
	})
}

func BenchmarkParseEvent(b *testing.B) {
	for _, bc := range []struct{ name, file string }{
		{"Airflow", "events/airflow_bigquery_copy_task_complete_cll.json"},
		{"SparkCTAS", "events/spark_hive_ctas_column_lineage_complete.json"},
		{"Static", "events/static_job_event.json"},
	} {
		raw := readFixture(b, bc.file)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := lineage.ParseEvent(raw); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

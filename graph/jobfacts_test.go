package graph_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/lineage/oltest"
)

const jobFactsQuery = `query($ns: String!, $name: String!) { job(namespace: $ns, name: $name) {
	facts { integration dag task operator owner tags schedule fileLocation engine command host } dagJobs { name } } }`

// TestJobFacts: the facts Airflow's, dbt's and Spark's own facets carry
// are kept on the job, and a job lists the other jobs of its DAG.
func TestJobFacts(t *testing.T) {
	s := newServer(t, graph.Limits{})
	copyTask := oltest.Events(t, "events/airflow_bigquery_copy_task_complete_cll.json")[0]
	// Another task of the same DAG, as the provider would report it.
	upload := bytes.ReplaceAll(copyTask, []byte(`"BQ.copy"`), []byte(`"BQ.upload"`))
	upload = bytes.ReplaceAll(upload, []byte(`"task_id":"copy"`), []byte(`"task_id":"upload"`))
	upload = bytes.ReplaceAll(upload, []byte(`01936893-9751-7b10-a4a7-cd7454722d0f`), []byte(`01936893-9751-7b10-a4a7-cd7454722d10`))
	s.mustPost(t, copyTask, upload)
	s.mustPost(t, oltest.Events(t, "events/dbt_postgres_run_stream_72_events.json")...)
	s.mustPost(t, oltest.Events(t, "events/spark_create_table_lifecycle_complete.json")...)

	for _, tc := range []struct {
		ns, name string
		want     map[string]any
		dagJobs  string
	}{
		{"airflow", "BQ.copy", map[string]any{"integration": "airflow", "dag": "BQ", "task": "copy", "operator": "BigQueryToBigQueryOperator",
			"owner": "airflow", "tags": "[]", "schedule": "None", "fileLocation": "/files/dags/bq.py"}, "[BQ.upload]"},
		{"dbt-test-namespace", "model.jaffle_shop.orders", map[string]any{"integration": "dbt", "dag": "dbt-run-jaffle_shop",
			"task": "model.jaffle_shop.orders", "fileLocation": "models/orders.sql", "engine": "dbt 1.8.2"}, ""},
		{"testColumnLevelLineage", "open_lineage_integration_create_table.execute_create_table_command.cll_test_cll_source1",
			map[string]any{"integration": "spark", "dag": "open_lineage_integration_create_table", "engine": "spark 3.3.4"}, "[]"},
	} {
		j := s.do(t, jobFactsQuery, map[string]any{"ns": tc.ns, "name": tc.name}).ok(t)["job"].(map[string]any)
		f, _ := j["facts"].(map[string]any)
		if f == nil {
			t.Fatalf("%s: no facts", tc.name)
		}
		for k, v := range tc.want {
			if got := f[k]; fmt.Sprint(got) != fmt.Sprint(v) {
				t.Errorf("%s: facts.%s = %v, want %v", tc.name, k, got, v)
			}
		}
		var names []string
		for _, d := range j["dagJobs"].([]any) {
			names = append(names, d.(map[string]any)["name"].(string))
		}
		if tc.dagJobs != "" && fmt.Sprint(names) != tc.dagJobs {
			t.Errorf("%s: dagJobs %v, want %s", tc.name, names, tc.dagJobs)
		}
		if tc.dagJobs == "" && len(names) < 4 {
			t.Errorf("%s: dagJobs %v, want the other models of the dbt run", tc.name, names)
		}
	}
}

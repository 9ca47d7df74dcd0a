package lineage_test

import (
	"fmt"
	"testing"

	"github.com/quarrydata/quarry/lineage"
)

// TestJobFactsLoose: the producers' own facets are read however their
// versions shape them, and one of an unexpected shape is skipped, never
// a reason to refuse the event.
func TestJobFactsLoose(t *testing.T) {
	event := func(runFacets string) []byte {
		return fmt.Appendf(nil, `{"eventType":"COMPLETE","eventTime":"2026-11-01T03:00:00Z","producer":"p",
			"run":{"runId":"0190b5c1-2f2a-7d3e-8a1b-000000000001","facets":%s},"job":{"namespace":"airflow","name":"nightly.load"}}`, runFacets)
	}
	for _, tc := range []struct {
		name, facets, want string
	}{
		{"TagsList", `{"airflow":{"dag":{"dag_id":"nightly","tags":["etl","daily"],"schedule_interval":"@daily"},"task":{"task_id":"load","operator_class":"PythonOperator"}}}`,
			"airflow nightly load PythonOperator [daily etl] @daily"},
		{"TagsPython", `{"airflow":{"dag":{"dag_id":"nightly","tags":"['etl', 'daily']","timetable_summary":"0 3 * * *"},"task":{"task_id":"load"}}}`,
			"airflow nightly load  [daily etl] 0 3 * * *"},
		{"OddShapes", `{"airflow":{"dag":{"dag_id":42,"tags":{"x":1},"schedule_interval":{"type":"cron"}},"task":"load"}}`,
			"airflow 42   [] "},
		{"QuarryRun", `{"quarry_run":{"command":"sh load.sh --password=***","host":"etl-1"}}`,
			"quarry run    [] "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := lineage.ParseEvent(event(tc.facets))
			if err != nil {
				t.Fatal(err)
			}
			f := ev.Job.Facts
			if f == nil {
				t.Fatal("no facts")
			}
			f.Normalize()
			if got := fmt.Sprint(f.Integration, " ", f.DAG, " ", f.Task, " ", f.Operator, " ", f.Tags, " ", f.Schedule); got != tc.want {
				t.Fatalf("facts %q, want %q", got, tc.want)
			}
		})
	}
	ev, err := lineage.ParseEvent(event(`{"nominalTime":{"nominalStartTime":"2026-11-01T03:00:00Z"}}`))
	if err != nil || ev.Job.Facts != nil {
		t.Fatalf("an event of no known producer: facts %+v, %v", ev.Job.Facts, err)
	}
}

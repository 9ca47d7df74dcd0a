package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store/storetest"
)

// TestJobFacts: a job keeps the facts its events carry, each event's over
// the last's field by field, and the DAG index follows the DAG they name.
func TestJobFacts(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	at := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	withFacts := func(job, run string, f quarry.JobFacts) quarry.LineageEvent {
		ev := runEvent(job, run, quarry.RunComplete, at, nil, nil)
		ev.Job.Facts = &f
		return ev
	}
	dag := func(name string) []string {
		ids, err := s.DAGJobs(ctx, etlNS, name)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		return ids
	}
	mustApply(t, s, withFacts("nightly.load", run1, quarry.JobFacts{Integration: "airflow", DAG: "nightly", Task: "load", Owner: "data", Tags: []string{"b", "a", "a"}}))
	mustApply(t, s, withFacts("nightly.copy", run2, quarry.JobFacts{Integration: "airflow", DAG: "nightly", Task: "copy"}))
	if got, want := dag("nightly"), []string{jid("nightly.copy"), jid("nightly.load")}; !slices.Equal(got, want) && !slices.Equal(got, []string{want[1], want[0]}) {
		t.Fatalf("DAG nightly: %v, want %v", got, want)
	}
	// A later event moves the task to another DAG and leaves the facts it
	// does not carry as they were.
	mustApply(t, s, withFacts("nightly.load", "0190b5c1-2f2a-7d3e-8a1b-0000000000f3", quarry.JobFacts{DAG: "hourly", Schedule: "@hourly"}))
	j, err := s.JobByName(ctx, etlNS, "nightly.load")
	if err != nil {
		t.Fatal(err)
	}
	if f := j.Facts; f == nil || f.DAG != "hourly" || f.Task != "load" || f.Owner != "data" || f.Schedule != "@hourly" || fmt.Sprint(f.Tags) != "[a b]" {
		t.Fatalf("facts %+v", j.Facts)
	}
	if got := dag("nightly"); !slices.Equal(got, []string{jid("nightly.copy")}) {
		t.Fatalf("DAG nightly after the move: %v", got)
	}
	if got := dag("hourly"); !slices.Equal(got, []string{jid("nightly.load")}) {
		t.Fatalf("DAG hourly: %v", got)
	}
	// A job without facts keeps none.
	mustApply(t, s, runEvent("plain", "0190b5c1-2f2a-7d3e-8a1b-0000000000f4", quarry.RunComplete, at, nil, nil))
	if j, err := s.JobByName(ctx, etlNS, "plain"); err != nil || j.Facts != nil {
		t.Fatalf("plain job: %+v %v", j, err)
	}
}

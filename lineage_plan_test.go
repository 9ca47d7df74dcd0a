package quarry_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
)

const (
	planRunID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
	planNS    = "postgres://db:5432"
)

func planEvent() quarry.LineageEvent {
	return quarry.LineageEvent{
		Kind: quarry.RunEvent, EventTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Digest: "00",
		Job:     &quarry.Job{Namespace: "airflow", Name: "load"},
		Run:     &quarry.RunReport{ID: planRunID, State: quarry.RunComplete},
		Inputs:  []quarry.DatasetReport{{Namespace: planNS, Name: "shop.public.a"}},
		Outputs: []quarry.DatasetReport{{Namespace: planNS, Name: "shop.public.b"}},
	}
}

func dsID(ns, name string) string { return quarry.NewID(quarry.EntityDataset, ns, name) }

func TestPlan(t *testing.T) {
	a, b := dsID(planNS, "shop.public.a"), dsID(planNS, "shop.public.b")
	job := quarry.NewID(quarry.EntityJob, "airflow", "load")

	t.Run("OK", func(t *testing.T) {
		ev := planEvent()
		ev.Run.ID = "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"
		ev.EventTime = ev.EventTime.In(time.FixedZone("", 3600))
		p, err := ev.Plan(nil)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Run.ID != planRunID {
			t.Errorf("run id %q, want it in canonical form", ev.Run.ID)
		}
		if p.Event != &ev || p.At.Location() != time.UTC || !p.At.Equal(ev.EventTime) || p.Job == nil || p.Job.ID != job {
			t.Errorf("plan %+v", p)
		}
		if ev.Job.ID != "" {
			t.Error("the event's job was normalized in place; the plan's is a copy")
		}
		if !reflect.DeepEqual(p.Inputs, []string{a}) || !reflect.DeepEqual(p.Outputs, []string{b}) {
			t.Errorf("inputs %v outputs %v", p.Inputs, p.Outputs)
		}
		want := []quarry.Edge{{From: a, To: b, JobID: job, Origin: quarry.OriginRun}}
		if !reflect.DeepEqual(p.Edges, want) {
			t.Errorf("edges %+v, want %+v", p.Edges, want)
		}
		if len(p.Datasets) != 2 || p.Datasets[0].Output || !p.Datasets[1].Output || p.Datasets[1].Dataset.ID != b {
			t.Errorf("datasets %+v", p.Datasets)
		}
	})

	// Issue 15: a 10 MB sql facet was stored, and every later event of
	// its job copied it. Each text a job or run keeps has a size limit;
	// past it the event is too large, naming the facet's field.
	t.Run("ErrTooLarge", func(t *testing.T) {
		for _, tc := range []struct {
			field string
			max   int
			set   func(*quarry.LineageEvent, string)
		}{
			{"job.facets.sql.query", quarry.MaxSQLLen, func(ev *quarry.LineageEvent, s string) { ev.Job.SQL = s }},
			{"job.facets.documentation.description", quarry.MaxDescriptionLen, func(ev *quarry.LineageEvent, s string) { ev.Job.Description = s }},
			{"job.facets.sourceCodeLocation.url", quarry.MaxURLLen, func(ev *quarry.LineageEvent, s string) { ev.Job.SourceURL = s }},
			{"job.facets.jobType", quarry.MaxJobTypeLen, func(ev *quarry.LineageEvent, s string) { ev.Job.Type = s }},
			{"run.facets.errorMessage.message", quarry.MaxDescriptionLen, func(ev *quarry.LineageEvent, s string) { ev.Run.ErrorMessage = s }},
			{"run.facets.errorMessage.stackTrace", quarry.MaxStackTraceLen, func(ev *quarry.LineageEvent, s string) { ev.Run.StackTrace = s }},
			{"outputs[0].description", quarry.MaxDescriptionLen, func(ev *quarry.LineageEvent, s string) { ev.Outputs[0].Description = s }},
		} {
			ev := planEvent()
			tc.set(&ev, strings.Repeat("x", tc.max))
			if _, err := ev.Plan(nil); err != nil {
				t.Fatalf("%s at its limit: %v", tc.field, err)
			}
			ev = planEvent()
			tc.set(&ev, strings.Repeat("x", tc.max+1))
			_, err := ev.Plan(nil)
			if e, ok := errors.AsType[*quarry.Error](err); !ok || e.Code != quarry.ETOOLARGE || e.Field != tc.field || !strings.Contains(e.Message, "the limit is") {
				t.Fatalf("%s past its limit: %v", tc.field, err)
			}
		}
	})

	t.Run("Kinds", func(t *testing.T) {
		ev := planEvent()
		ev.Outputs = []quarry.DatasetReport{{Namespace: "kafka://broker:9092", Name: "orders"}, {Namespace: "s3://bucket", Name: "/orders"}, {Namespace: "bigquery", Name: "p.d.t"}}
		p, err := ev.Plan(nil)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []quarry.DatasetKind
		for _, d := range p.Datasets[1:] {
			kinds = append(kinds, d.Dataset.Kind)
		}
		if want := []quarry.DatasetKind{quarry.KindStream, quarry.KindFile, quarry.KindTable}; !reflect.DeepEqual(kinds, want) {
			t.Errorf("kinds %v, want %v", kinds, want)
		}
	})

	t.Run("NamedTwice", func(t *testing.T) {
		// b is an input without facets and an output with some: one entry,
		// an output, with the output's facets; no edge from b to itself.
		ev := planEvent()
		ev.Inputs = append(ev.Inputs, quarry.DatasetReport{Namespace: planNS, Name: "shop.public.b"})
		ev.Outputs[0].Description = "B."
		p, err := ev.Plan(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Datasets) != 2 || !p.Datasets[1].Output || p.Datasets[1].Report != &ev.Outputs[0] || p.Datasets[1].Dataset.Provided.Description != "B." {
			t.Fatalf("datasets %+v", p.Datasets)
		}
		if p.Datasets[1].Digest != p.Datasets[1].Dataset.ProvidedDigest() || p.Datasets[0].Digest != [32]byte{} {
			t.Error("a digest is not that of the provided facts, or set without them")
		}
		if len(p.Edges) != 1 {
			t.Errorf("edges %+v", p.Edges)
		}
	})

	t.Run("ColumnLineage", func(t *testing.T) {
		// Spark reports a column pair once per use: one edge lists them,
		// direct uses first. An input named only here becomes a dataset.
		ev := planEvent()
		ev.Outputs[0].ColumnLineage = []quarry.ColumnLineage{
			{Column: "total", Inputs: []quarry.ColumnSource{
				{Namespace: planNS, Name: "shop.public.a", Field: "amount", Transformation: "INDIRECT/FILTER"},
				{Namespace: planNS, Name: "shop.public.a", Field: "amount", Transformation: "DIRECT/AGGREGATION"},
				{Namespace: planNS, Name: "shop.public.a", Field: "amount", Transformation: "DIRECT/AGGREGATION"},
				{Namespace: planNS, Name: "shop.public.c", Field: "rate", Transformation: "DIRECT/TRANSFORMATION"},
			}},
		}
		p, err := ev.Plan(nil)
		if err != nil {
			t.Fatal(err)
		}
		c := dsID(planNS, "shop.public.c")
		want := []quarry.Edge{
			{From: a, To: b, JobID: job, Origin: quarry.OriginRun},
			{From: a, To: b, JobID: job, FromColumn: "amount", ToColumn: "total", Transformation: "DIRECT/AGGREGATION, INDIRECT/FILTER", Origin: quarry.OriginRun},
			{From: c, To: b, JobID: job, FromColumn: "rate", ToColumn: "total", Transformation: "DIRECT/TRANSFORMATION", Origin: quarry.OriginRun},
		}
		if !reflect.DeepEqual(p.Edges, want) {
			t.Errorf("edges\n got %+v\nwant %+v", p.Edges, want)
		}
		if len(p.Datasets) != 3 || p.Datasets[2].Dataset.ID != c || p.Datasets[2].Report != nil || p.Datasets[2].Output {
			t.Errorf("datasets %+v", p.Datasets)
		}
	})

	t.Run("Aliases", func(t *testing.T) {
		// The aliases resolve every dataset's namespace, a renamed one's
		// previous one too.
		ev := planEvent()
		ev.Outputs[0].Lifecycle, ev.Outputs[0].PreviousName = "RENAME", "shop.public.old_b"
		canon := "postgres://primary:5432"
		p, err := ev.Plan(func(d *quarry.Dataset) {
			d.Namespace = canon
			d.ID = quarry.NewID(quarry.EntityDataset, d.Namespace, d.Name)
		})
		if err != nil {
			t.Fatal(err)
		}
		if p.Inputs[0] != dsID(canon, "shop.public.a") || p.Edges[0].To != dsID(canon, "shop.public.b") {
			t.Errorf("aliases not applied: %v %+v", p.Inputs, p.Edges)
		}
		if pd := p.Datasets[1]; pd.PrevID != dsID(canon, "shop.public.old_b") || pd.PrevName != canon+"/shop.public.old_b" {
			t.Errorf("previous identity %q %q", pd.PrevID, pd.PrevName)
		}
	})

	t.Run("DatasetEvent", func(t *testing.T) {
		ev := quarry.LineageEvent{Kind: quarry.DatasetEvent, Digest: "00", Outputs: []quarry.DatasetReport{{Namespace: planNS, Name: "shop.public.b"}}}
		p, err := ev.Plan(nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Job != nil || len(p.Edges) != 0 || p.Datasets[0].Output || !p.At.IsZero() {
			t.Errorf("plan %+v", p)
		}
	})

	for _, tc := range []struct {
		name  string
		edit  func(*quarry.LineageEvent)
		field string
	}{
		{"ErrDigest", func(ev *quarry.LineageEvent) { ev.Digest = "" }, "digest"},
		{"ErrKind", func(ev *quarry.LineageEvent) { ev.Kind = "RUNS" }, "kind"},
		{"ErrNoRun", func(ev *quarry.LineageEvent) { ev.Run = nil }, "run"},
		{"ErrRunID", func(ev *quarry.LineageEvent) { ev.Run.ID = "not-a-uuid" }, "run.runId"},
		{"ErrState", func(ev *quarry.LineageEvent) { ev.Run.State = "DONE" }, "eventType"},
		{"ErrNilRunID", func(ev *quarry.LineageEvent) { ev.Run.ID = "00000000-0000-0000-0000-000000000000" }, "run.runId"},
		{"ErrParentRunID", func(ev *quarry.LineageEvent) { ev.Run.ParentRunID = "x" }, "run.facets.parent.run.runId"},
		{"ErrNilParentRunID", func(ev *quarry.LineageEvent) { ev.Run.ParentRunID = "00000000-0000-0000-0000-000000000000" }, "run.facets.parent.run.runId"},
		{"ErrOwnParent", func(ev *quarry.LineageEvent) { ev.Run.ParentRunID = strings.ToUpper(ev.Run.ID) }, "run.facets.parent.run.runId"},
		{"ErrParentJob", func(ev *quarry.LineageEvent) { ev.Run.ParentJob = &quarry.Job{Namespace: "airflow"} }, "run.facets.parent.job.name"},
		{"ErrNoJob", func(ev *quarry.LineageEvent) { ev.Job = nil }, "job"},
		{"ErrJobName", func(ev *quarry.LineageEvent) { ev.Job.Name = " " }, "job.name"},
		{"ErrDatasetEvent", func(ev *quarry.LineageEvent) { ev.Kind, ev.Job, ev.Run = quarry.DatasetEvent, nil, nil }, "dataset"},
		{"ErrInputName", func(ev *quarry.LineageEvent) { ev.Inputs[0].Name = "" }, "inputs[0].name"},
		{"ErrPreviousName", func(ev *quarry.LineageEvent) {
			ev.Outputs[0].Lifecycle, ev.Outputs[0].PreviousName, ev.Outputs[0].PreviousNamespace = "RENAME", "x", "postgres://db:99999"
		}, "outputs[0].facets.lifecycleStateChange.previousIdentifier.namespace"},
		{"ErrAssertionName", func(ev *quarry.LineageEvent) {
			ev.Outputs[0].Checks = []quarry.Check{{Name: "", Status: quarry.CheckPass}}
		}, "outputs[0].facets.dataQualityAssertions.assertions[0].assertion"},
		{"ErrAssertionColumn", func(ev *quarry.LineageEvent) {
			ev.Outputs[0].Checks = []quarry.Check{{Name: "x", Column: " ", Status: quarry.CheckPass}}
		}, "outputs[0].facets.dataQualityAssertions.assertions[0].column"},
		{"ErrAssertionStatus", func(ev *quarry.LineageEvent) {
			ev.Outputs[0].Checks = []quarry.Check{{Name: "x", Status: "MAYBE"}}
		}, "outputs[0].facets.dataQualityAssertions.assertions[0].success"},
		{"ErrLineageField", func(ev *quarry.LineageEvent) {
			ev.Outputs[0].ColumnLineage = []quarry.ColumnLineage{{Column: "x", Inputs: []quarry.ColumnSource{{Namespace: planNS, Name: "shop.public.a", Field: " "}}}}
		}, "outputs[0].facets.columnLineage.fields.x.inputFields[0].field"},
		{"ErrLineageDataset", func(ev *quarry.LineageEvent) {
			ev.Outputs[0].ColumnLineage = []quarry.ColumnLineage{{Inputs: []quarry.ColumnSource{{Namespace: "postgres://db:99999", Name: "t", Field: "f"}}}}
		}, "outputs[0].facets.columnLineage.dataset[0].namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := planEvent()
			tc.edit(&ev)
			_, err := ev.Plan(nil)
			e, ok := errors.AsType[*quarry.Error](err)
			if !ok || e.Code != quarry.EINVALID || e.Field != tc.field {
				t.Fatalf("got %v, want invalid %s", err, tc.field)
			}
		})
	}
}

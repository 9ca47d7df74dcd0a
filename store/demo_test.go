package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
)

// The demo's ETL runs apply cleanly over the demo catalog, draw the graph
// they describe, and loading them again later adds only the newer runs.
func TestDemoLineage(t *testing.T) {
	ctx := context.Background()
	s, _ := openClocked(t)
	mustUpsertResult(t, s, quarry.DemoDatasets()...)
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	apply := func(at time.Time) (stored int) {
		res, errs := s.ApplyLineageBatch(ctx, quarry.DemoLineageEvents(at))
		for i, err := range errs {
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if !res[i].Duplicate {
				stored++
			}
		}
		return stored
	}
	if n := apply(now); n < 300 {
		t.Fatalf("stored %d demo events", n)
	}
	if n := apply(now); n != 0 {
		t.Fatalf("loading again stored %d events", n)
	}
	if n := apply(now.Add(6 * time.Hour)); n == 0 || n > 60 {
		t.Fatalf("six hours later stored %d events", n)
	}

	wh := "redshift://analytics.us-east-1:5439"
	revenue, err := s.DatasetByName(ctx, wh, "analytics.reporting.daily_revenue")
	if err != nil {
		t.Fatal(err)
	}
	writers, readers, err := s.DatasetJobs(ctx, revenue.ID)
	if err != nil || len(writers) != 1 || len(readers) != 1 {
		t.Fatalf("daily_revenue jobs: %v %v %v", writers, readers, err)
	}
	if revenue.LastUpdatedAt == nil {
		t.Fatal("daily_revenue has no lastUpdatedAt")
	}
	wau, err := s.JobByName(ctx, "dbt://analytics", "analytics.reporting.weekly_active_users")
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.Runs(ctx, wau.ID, 1, "")
	if err != nil || len(page.Runs) != 1 || page.Runs[0].State != quarry.RunFail || page.Runs[0].ErrorMessage == "" || page.Runs[0].ParentRunID == "" {
		t.Fatalf("weekly_active_users latest run: %+v %v", page, err)
	}
	parent, err := s.Run(ctx, page.Runs[0].ParentRunID)
	if err != nil {
		t.Fatal(err)
	}
	if kids, _ := s.RunChildren(ctx, parent.ID); len(kids) < 10 {
		t.Fatalf("the dbt run has %d model runs", len(kids))
	}
	payments, _ := s.DatasetByName(ctx, wh, "analytics.marts.fct_payments")
	checks, err := s.Checks(ctx, payments.ID)
	if err != nil || len(checks) != 2 {
		t.Fatalf("fct_payments checks %+v %v", checks, err)
	}
	edges := mustEdges(t, s, revenue.ID, true)
	cols := 0
	for _, e := range edges {
		if e.ToColumn != "" || e.FromColumn != "" {
			cols++
		}
	}
	if cols < 6 {
		t.Fatalf("daily_revenue has %d column edges", cols)
	}
}

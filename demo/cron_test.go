package demo_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
)

// The demo's cron job, reported as quarry run reports one: its runs, one
// of them failed with the script's stderr, its command line without the
// password, and the view it refreshes fresh as of its last run.
func TestCronJob(t *testing.T) {
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	st, _ := openStore(t, now)
	load(t, st, now)
	ctx := context.Background()
	j, err := st.JobByName(ctx, "cron", "refresh_customer_ltv")
	if err != nil {
		t.Fatal(err)
	}
	if f := j.Facts; f == nil || f.Integration != "quarry run" || f.Host != "etl-1.acme.internal" ||
		!strings.Contains(f.Command, "redshift://etl:***@analytics") || strings.Contains(f.Command, "s3cr3t") || j.Type != "BATCH/QUARRY/COMMAND" {
		t.Fatalf("job %+v facts %+v", j, j.Facts)
	}
	page, err := st.Runs(ctx, j.ID, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var failed []quarry.Run
	for _, r := range page.Runs {
		if r.State == quarry.RunFail {
			failed = append(failed, r)
		}
	}
	if len(page.Runs) < 9 || len(failed) != 1 || !strings.Contains(failed[0].ErrorMessage, "exited with code 2") ||
		!strings.Contains(failed[0].ErrorMessage, "recovery mode") {
		t.Fatalf("%d runs, failed %+v", len(page.Runs), failed)
	}
	clv, err := st.DatasetByName(ctx, warehouse, "analytics.reporting.customer_lifetime_value")
	if err != nil {
		t.Fatal(err)
	}
	last := page.Runs[0]
	if last.State != quarry.RunComplete || clv.LastUpdatedAt == nil || !clv.LastUpdatedAt.Equal(*last.EndedAt) {
		t.Fatalf("last run %+v, view updated at %v", last, clv.LastUpdatedAt)
	}
	if writers, _, err := st.DatasetJobs(ctx, clv.ID); err != nil || !slices.Contains(writers, j.ID) {
		t.Fatalf("writers of the view: %v %v", writers, err)
	}
}

package alert_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// BenchmarkEvaluateAlerts is one evaluator pass over 100k datasets of 15
// columns, each loaded every 6 hours for 10 loads (so each has a learnable
// policy) and last loaded between 0 and 50 hours ago: 10k have a policy
// set, 10k two check results (one failing in four). The first pass opens
// the alerts (reported as first-pass-ms); the timed passes find nothing
// new, as nearly every pass of a running server does. The catalog is
// written through the store's API (a million data changes: the setup takes
// a while).
func BenchmarkEvaluateAlerts(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	s := openStore(b, func() time.Time { return now })
	ids := make([]string, 0, n)
	batch := make([]quarry.Dataset, 0, 1000)
	for i := range n {
		batch = append(batch, storetest.Wide(i))
		if len(batch) == cap(batch) {
			res, err := s.UpsertDatasets(ctx, batch)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, res.IDs...)
			batch = batch[:0]
		}
	}
	// Many writers at once, so that the store's group commit takes the
	// million writes a few hundred at a time.
	var wg sync.WaitGroup
	var failed sync.Once
	const writers = 16
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				if err := seed(ctx, s, ids[i], i, now); err != nil {
					failed.Do(func() { b.Error(err) })
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	a := alert.New(s, &alert.Options{Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
		Webhooks: []quarry.Webhook{{Name: "slack", URL: "http://127.0.0.1:9/hook", Format: quarry.WebhookSlack}}})
	start := time.Now()
	first, err := a.Evaluate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	firstTook := time.Since(start)
	if first.Datasets != n || first.Open == 0 || len(first.Transitions) != first.Open {
		b.Fatalf("first pass: %d datasets, %d open, %d transitions", first.Datasets, first.Open, len(first.Transitions))
	}
	b.ResetTimer()
	for b.Loop() {
		pass, err := a.Evaluate(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(pass.Transitions) != 0 || pass.Open != first.Open {
			b.Fatalf("a pass at the same time changed something: %d transitions, %d open", len(pass.Transitions), pass.Open)
		}
	}
	b.ReportMetric(float64(firstTook.Milliseconds()), "first-pass-ms")
	b.ReportMetric(float64(first.Open), "open-alerts")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/pass")
}

// seed writes the i-th dataset's loads, policy and checks.
func seed(ctx context.Context, s *store.Store, id string, i int, now time.Time) error {
	last := now.Add(-time.Duration(i%50) * time.Hour)
	for k := range 10 { // newest first: only the first moves LastUpdatedAt
		if _, err := s.RecordDataChange(ctx, id, last.Add(-time.Duration(k)*6*time.Hour), ""); err != nil {
			return err
		}
	}
	if i%10 == 0 {
		if err := s.SetFreshnessPolicy(ctx, id, &quarry.FreshnessPolicy{WarnAfter: 12 * time.Hour, ErrorAfter: 24 * time.Hour}); err != nil {
			return err
		}
	}
	if i%10 == 5 {
		status := quarry.CheckPass
		if i%40 == 5 {
			status = quarry.CheckFail
		}
		for _, c := range []quarry.Check{
			{DatasetID: id, Name: "not_null_id", Column: "column_00", Status: status, ObservedAt: now},
			{DatasetID: id, Name: "row_count", Status: quarry.CheckPass, ObservedAt: now},
		} {
			if _, err := s.PutCheck(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

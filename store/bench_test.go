package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/store"
)

// wide returns a dataset with 15 columns, like a typical warehouse table.
func wide(n int) quarry.Dataset {
	d := quarry.Dataset{
		Namespace: "redshift://analytics.us-east-1:5439",
		Name:      fmt.Sprintf("analytics.marts.table_%07d", n),
		Provided:  quarry.Metadata{Description: "One row per order line, deduplicated, with currency converted to USD.", Owners: []string{"team:data-eng"}, Tags: []string{"finance", "tier1"}},
	}
	for c := range 15 {
		d.Columns = append(d.Columns, quarry.Column{Name: fmt.Sprintf("column_%02d", c), Type: "varchar(256)", Nullable: c > 0, Description: "A column of the table."})
	}
	return d
}

// BenchmarkUpsertBulk upserts new datasets with 15 columns, 1000 per
// transaction (how a crawl writes), fsync'd.
func BenchmarkUpsertBulk(b *testing.B) {
	s := MustOpen(b, nil)
	ctx := context.Background()
	const per = 1000
	batch := make([]quarry.Dataset, per)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			batch[i] = wide(n)
			n++
		}
		b.StartTimer()
		if _, err := s.UpsertDatasets(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "datasets/s")
}

// BenchmarkFsyncCommit is the physical limit: one bare bbolt transaction
// writing one key, fsync'd, one after another.
func BenchmarkFsyncCommit(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	i := 0
	for b.Loop() {
		i++
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			return bk.Put([]byte(fmt.Sprint(i)), make([]byte, 1500))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// BenchmarkUpsertSingle is single-dataset upserts from 1 and from 32
// concurrent writers: with group commit, 32 writers share fsyncs.
func BenchmarkUpsertSingle(b *testing.B) {
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := MustOpen(b, nil)
			ctx := context.Background()
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for {
						n := int(next.Add(1))
						if n > b.N {
							return
						}
						if _, err := s.UpsertDatasets(ctx, []quarry.Dataset{wide(n)}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "upserts/s")
		})
	}
}

// BenchmarkApplyLineage applies run events (START and COMPLETE of runs of
// 200 jobs, each reading one dataset and writing another with 4 column
// edges) to an fsync'd store, one writer at a time and from 32 writers
// sharing commits: the store's part of OpenLineage ingestion. apply writes
// each event into the catalog as it commits (reportRun's path); accept
// commits it to the lineage log (OpenLineage's path), and the applier folds
// the log in behind.
func BenchmarkApplyLineage(b *testing.B) {
	event := func(i int) quarry.LineageEvent {
		run := i / 2
		state := quarry.RunStart
		if i%2 == 1 {
			state = quarry.RunComplete
		}
		ev := runEvent(fmt.Sprintf("copy_%d", run%200), quarry.NewID("run", "bench", fmt.Sprint(run)), state, shT0.Add(time.Duration(i)*time.Second),
			[]string{fmt.Sprintf("shop.public.src_%d", run%200)}, []string{fmt.Sprintf("shop.public.dst_%d", run%200)})
		for _, c := range []string{"a", "b", "c", "d"} {
			ev.Outputs[0].ColumnLineage = append(ev.Outputs[0].ColumnLineage, quarry.ColumnLineage{Column: c,
				Inputs: []quarry.ColumnSource{{Namespace: shopNS, Name: ev.Inputs[0].Name, Field: c, Transformation: "DIRECT/IDENTITY"}}})
		}
		digest(&ev)
		return ev
	}
	for _, c := range []struct {
		accept  bool
		writers int
	}{{false, 1}, {false, 32}, {true, 1}, {true, 32}} {
		accept, writers := c.accept, c.writers
		name := "apply"
		if accept {
			name = "accept"
		}
		b.Run(fmt.Sprintf("%s/writers=%d", name, writers), func(b *testing.B) {
			reg := prometheus.NewRegistry()
			s := MustOpen(b, &store.Options{Logger: slog.New(slog.DiscardHandler), Registerer: reg})
			evs := make([]quarry.LineageEvent, b.N)
			for i := range evs {
				evs[i] = event(i)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range writers {
				wg.Go(func() {
					for {
						i := int(next.Add(1)) - 1
						if i >= b.N {
							return
						}
						var err error
						if accept {
							err = s.AcceptLineage(context.Background(), evs[i:i+1])[0]
						} else {
							_, err = s.ApplyLineage(context.Background(), &evs[i])
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(commitsPerSecond(b, reg), "commits/s")
			if accept { // and until the applier has folded them all in
				if err := s.SyncLineage(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "applied/s")
			}
		})
	}
}

// commitsPerSecond reads the store's group-commit histogram: how many
// transactions the benchmark's writes took, per second.
func commitsPerSecond(b *testing.B, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "quarry_store_group_commit_writes" {
			return float64(mf.GetMetric()[0].GetHistogram().GetSampleCount()) / b.Elapsed().Seconds()
		}
	}
	return 0
}

// BenchmarkEvaluateAlerts is one alert evaluator pass (package alert) over
// 100k datasets of 15 columns, each loaded every 6 hours for 10 loads (so
// each has a learnable policy) and last loaded between 0 and 50 hours ago:
// 10k have a policy set, 10k two check results (one failing in four). The first pass opens the
// alerts (reported as first-pass-ms); the timed passes find nothing new, as
// nearly every pass of a running server does. It lives here because it
// seeds the store with SeedFreshness, which bypasses the API.
func BenchmarkEvaluateAlerts(b *testing.B) {
	const n = 100_000
	s := MustOpen(b, &store.Options{NoSync: true})
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ids := make([]string, 0, n)
	batch := make([]quarry.Dataset, 0, 1000)
	for i := range n {
		batch = append(batch, wide(i))
		if len(batch) == cap(batch) {
			res, err := s.UpsertDatasets(ctx, batch)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, res.IDs...)
			batch = batch[:0]
		}
	}
	seeds := make([]store.FreshnessSeed, 0, 5000)
	for i, id := range ids {
		last := now.Add(-time.Duration(i%50) * time.Hour)
		sd := store.FreshnessSeed{ID: id}
		for k := range 10 {
			sd.Changes = append(sd.Changes, last.Add(-time.Duration(k)*6*time.Hour))
		}
		if i%10 == 0 {
			sd.Policy = &quarry.FreshnessPolicy{WarnAfter: 12 * time.Hour, ErrorAfter: 24 * time.Hour}
		}
		if i%10 == 5 {
			status := quarry.CheckPass
			if i%40 == 5 {
				status = quarry.CheckFail
			}
			sd.Checks = []quarry.Check{
				{Name: "not_null_id", Column: "column_00", Status: status, ObservedAt: now},
				{Name: "row_count", Status: quarry.CheckPass, ObservedAt: now},
			}
		}
		seeds = append(seeds, sd)
		if len(seeds) == cap(seeds) || i == len(ids)-1 {
			if err := store.SeedFreshness(s, seeds); err != nil {
				b.Fatal(err)
			}
			seeds = seeds[:0]
		}
	}
	a := alert.New(s, alert.Options{Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
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

package lineage_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage/lineagetest"
	"github.com/quarrydata/quarry/store"
)

// BenchmarkUpstreamProblems times a dataset page's upstream problems at
// depth 3 over the 200,000-node, 1M-edge benchmark graph, read against a
// real bbolt store of its 160,000 datasets in which one in fifty has an
// open check alert and one in a hundred is deprecated. It reports latency
// percentiles (p50-ms, p99-ms) and the mean numbers of upstream nodes
// walked and problems found, from random datasets and from the summaries
// (the deepest upstream).
//
//	go test -run '^$' -bench UpstreamProblems -benchtime 2000x ./lineage
func BenchmarkUpstreamProblems(b *testing.B) {
	w, g := benchGraph()
	ctx := quarry.WithActor(context.Background(), "bench")
	st, err := store.Open(filepath.Join(b.TempDir(), "quarry.db"), &store.Options{NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const chunk = 5000
	for i := 0; i < len(w.Datasets); i += chunk {
		var ds []quarry.Dataset
		for j := i; j < min(i+chunk, len(w.Datasets)); j++ {
			ds = append(ds, quarry.Dataset{Namespace: "postgres://wh.internal:5432", Name: fmt.Sprintf("wh.l%d.t%06d", w.Layer(j), j), Kind: quarry.KindTable})
		}
		if _, err := st.UpsertDatasets(ctx, ds); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now().UTC()
	var events []quarry.AlertEvent
	for i := 0; i < len(w.Datasets); i += 50 {
		id := w.Datasets[i]
		events = append(events, quarry.AlertEvent{Transition: quarry.AlertOpened, At: now, Alert: quarry.Alert{
			Key: quarry.CheckAlertKey(id, "", "row_count"), Kind: quarry.AlertCheck, DatasetID: id, Check: "row_count",
			Level: quarry.LevelError, Status: "FAIL", Message: "check row_count is FAIL", OpenedAt: now, ChangedAt: now}})
	}
	if err := st.RecordAlerts(ctx, now, events, nil, nil); err != nil {
		b.Fatal(err)
	}
	for i := 7; i < len(w.Datasets); i += 100 {
		if _, err := st.UpdateDataset(ctx, w.Datasets[i], quarry.DatasetUpdate{Deprecation: &quarry.DeprecationUpdate{Set: &quarry.Deprecation{Note: "bench"}}}); err != nil {
			b.Fatal(err)
		}
	}

	for _, starts := range []struct {
		name string
		pick func(rng *rand.Rand) string
	}{
		{"random", func(rng *rand.Rand) string { return w.Datasets[rng.IntN(len(w.Datasets))] }},
		{"summaries", func(rng *rand.Rand) string { return w.Datasets[w.Layers[3][0]+rng.IntN(lineagetest.Summaries)] }},
	} {
		b.Run("depth=3/"+starts.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 3))
			lat := make([]time.Duration, 0, 4096)
			var walked, found int
			for b.Loop() {
				id := starts.pick(rng)
				start := time.Now()
				ps, err := g.UpstreamProblems(ctx, id, 3, st)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				found += len(ps)
				paths, _, _ := g.UpstreamPaths(ctx, id, 3, 0)
				walked += len(paths)
			}
			reportLatency(b, lat)
			b.ReportMetric(float64(walked)/float64(len(lat)), "upstream/op")
			b.ReportMetric(float64(found)/float64(len(lat)), "problems/op")
		})
	}
}

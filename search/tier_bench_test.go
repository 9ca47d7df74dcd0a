package search_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// BenchmarkSearchSkewed times the scale benchmark's searches (cmd/quarry
// BenchmarkScale: words drawn as skewed as a warehouse's, customer in 84%
// of datasets) at the Search API, each kind searched in tiers (tier.go)
// and whole, alternately, so that both meet the same load of a shared
// machine. It needs a data directory that benchmark kept:
//
//	QUARRY_SEARCH_SKEWED_DIR=/var/tmp/q100k go test -run '^$' -bench SearchSkewed ./search/
//
// (the directory as QUARRY_SCALE_DIR=/var/tmp/q100k make bench-scale left
// it). It reports p50, p99 and CPU-ms per search, as the UI asks: a page
// of 20 with facets.
func BenchmarkSearchSkewed(b *testing.B) {
	dir := os.Getenv("QUARRY_SEARCH_SKEWED_DIR")
	if dir == "" {
		b.Skip("QUARRY_SEARCH_SKEWED_DIR is not set: give it a data directory of the scale benchmark")
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // as quarry serve runs
	}
	ctx := context.Background()
	st, err := store.Open(filepath.Join(dir, "quarry.db"), &store.Options{Logger: quiet, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	idx, err := search.Open(ctx, filepath.Join(dir, "index"), st, &search.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer idx.Close()
	if err := idx.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	// Exact names: tables the catalog has, as a user who knows one types it.
	var exact []string
	res, err := idx.Search(ctx, search.Query{Text: "churn", First: 4})
	if err != nil {
		b.Fatal(err)
	}
	for _, h := range res.Hits {
		exact = append(exact, h.Dataset.Name[strings.LastIndexByte(h.Dataset.Name, '.')+1:])
	}
	kinds := []struct {
		name    string
		queries []string
	}{
		{"one-word", []string{"customer", "revenue", "invoice", "churn"}},
		{"two-word", []string{"customer orders", "revenue region", "payment refund", "campaign clicks"}},
		{"dense", []string{"id", "amount", "status", "created at"}},
		{"prefix", []string{"cust", "reven", "fct_cust", "invent"}},
		{"exact-name", exact},
	}
	for _, k := range kinds {
		for _, way := range []struct {
			name string
			min  int
		}{{"tiered", 5000}, {"whole", -1}} {
			b.Run(k.name+"/"+way.name, func(b *testing.B) {
				ctx := search.WithTierMinForTest(ctx, way.min)
				approx := 0
				skewedLatency(b, func(i int) {
					res, err := idx.Search(ctx, search.Query{Text: k.queries[i%len(k.queries)], First: 20, Facets: true})
					if err != nil {
						b.Fatal(err)
					}
					if res.Approximate {
						approx++
					}
				})
				b.ReportMetric(float64(approx)/float64(b.N), "tiered/op")
			})
		}
	}
	// 8 clients at once, the kinds mixed, as the scale benchmark's second
	// part: CPU per search.
	for _, way := range []struct {
		name string
		min  int
	}{{"tiered", 5000}, {"whole", -1}} {
		b.Run("8-clients/"+way.name, func(b *testing.B) {
			ctx := search.WithTierMinForTest(ctx, way.min)
			var all []string
			for _, k := range kinds {
				all = append(all, k.queries...)
			}
			cpu := processCPU()
			var n atomic.Int64
			b.SetParallelism(4) // 8 goroutines on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if _, err := idx.Search(ctx, search.Query{Text: all[int(i)%len(all)], First: 20, Facets: true}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/1000/float64(n.Load()), "cpu-ms/op")
		})
	}
}

func skewedLatency(b *testing.B, op func(i int)) {
	var lat []time.Duration
	cpu := processCPU()
	i := 0
	for b.Loop() {
		start := time.Now()
		op(i)
		lat = append(lat, time.Since(start))
		i++
	}
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// TestSkewedSample compares a tiered search's sampled total and facets
// with the whole search's exact ones: the page must be the same, the
// total within a tenth, the largest buckets (a tenth of the hits or
// more) within a seventh: a bucket among the three largest of a sample
// is likely one that the sample has more of. Over the kept catalog of
// BenchmarkSearchSkewed when QUARRY_SEARCH_SKEWED_DIR names it, else over
// 40,000 datasets of the scale benchmark's skewed words built here (enough
// that `customer`, in 84% of them, is sampled, not counted).
func TestSkewedSample(t *testing.T) {
	ctx := context.Background()
	var idx *search.Index
	if dir := os.Getenv("QUARRY_SEARCH_SKEWED_DIR"); dir != "" {
		st, err := store.Open(filepath.Join(dir, "quarry.db"), &store.Options{Logger: quiet, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if idx, err = search.Open(ctx, filepath.Join(dir, "index"), st, &search.Options{Logger: quiet}); err != nil {
			t.Fatal(err)
		}
	} else {
		if testing.Short() {
			t.Skip("indexes 40,000 datasets")
		}
		st := storetest.MustOpen(t, &store.Options{NoSync: true})
		batch := make([]quarry.Dataset, 0, 1000)
		for i := range 40_000 {
			batch = append(batch, *search.SkewedDatasetForTest(i))
			if len(batch) == cap(batch) {
				if _, err := st.UpsertDatasets(ctx, batch); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		var err error
		if idx, err = search.Open(ctx, t.TempDir(), st, &search.Options{Logger: quiet}); err != nil {
			t.Fatal(err)
		}
		if err := idx.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	defer idx.Close()
	for _, text := range []string{"customer", "revenue", "invoice", "customer orders", "status"} {
		for _, f := range []search.Filter{{}, {Kinds: []string{"VIEW"}}} {
			q := search.Query{Text: text, First: 20, Facets: true, Filter: f}
			want, err := idx.Search(search.WithTierMinForTest(ctx, -1), q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := idx.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got.Hits, want.Hits, func(a, b search.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) {
				t.Errorf("%q %v: tiered page %v, want %v", text, f.Kinds, hitIDs(got.Hits), hitIDs(want.Hits))
			}
			off := func(a, b int) bool { return 10*(a-b) > b || 10*(b-a) > b }
			if off(got.Total, want.Total) {
				t.Errorf("%q %v: total %d, want about %d", text, f.Kinds, got.Total, want.Total)
			}
			exact := map[string]int{}
			for _, fc := range want.Facets {
				for _, b := range fc.Buckets {
					exact[fc.Field+"="+b.Value] = b.Count
				}
			}
			worst := 0.0
			for _, fc := range got.Facets {
				for _, b := range fc.Buckets[:min(3, len(fc.Buckets))] {
					w := exact[fc.Field+"="+b.Value]
					if w > 0 {
						worst = max(worst, float64(b.Count-w)/float64(w), float64(w-b.Count)/float64(w))
					}
					if d := b.Count - w; w >= want.Total/10 && (7*d > w || -7*d > w) {
						t.Errorf("%q %v: facet %s=%s %d, want about %d", text, f.Kinds, fc.Field, b.Value, b.Count, w)
					}
				}
			}
			t.Logf("%-16q %-6v approximate %-5v total %6d (exact %6d), top buckets off by %.1f%% at most", text, f.Kinds, got.Approximate, got.Total, want.Total, 100*worst)
		}
	}
}

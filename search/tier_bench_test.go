package search_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
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

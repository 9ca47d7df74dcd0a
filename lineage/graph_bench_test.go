package lineage_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/lineage/lineagetest"
	"github.com/quarrydata/quarry/store"
)

var bench struct {
	once    sync.Once
	wh      *lineagetest.Warehouse
	g       *lineage.Graph
	buildNs float64
	heapMB  float64
}

// benchGraph builds the Warehouse's graph once, through a Builder.
func benchGraph() (*lineagetest.Warehouse, *lineage.Graph) {
	bench.once.Do(func() {
		w := lineagetest.NewWarehouse()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		b := w.Builder()
		g := lineage.NewGraph(nil, nil, &lineage.GraphOptions{Logger: slog.New(slog.DiscardHandler)})
		g.Install(b, 0)
		bench.buildNs = float64(time.Since(start).Nanoseconds())
		runtime.GC()
		runtime.ReadMemStats(&after)
		bench.heapMB = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
		bench.wh, bench.g = w, g
	})
	return bench.wh, bench.g
}

// BenchmarkTraverse times traversals of a 200,000-node, 1M-edge graph
// from random start nodes and reports their latency percentiles (p50-ms,
// p99-ms), the mean number of nodes a traversal returned and the share of
// truncated ones. The "build" and "load" sub-benchmarks are measured once:
// they report the graph's build time from a Builder, its heap and the time
// Load takes from a bbolt store of the same lineage.
//
//	go test -run '^$' -bench Traverse -benchtime 2000x ./lineage
func BenchmarkTraverse(b *testing.B) {
	w, g := benchGraph()
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
		}
		st := g.Stats()
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(bench.buildNs/1e6, "build-ms")
		b.ReportMetric(bench.heapMB, "graph-MB")
		b.ReportMetric(float64(st.Nodes), "nodes")
		b.ReportMetric(float64(st.Columns), "columns")
		b.ReportMetric(float64(st.Edges), "edges")
	})

	all := len(w.Datasets) + len(w.Jobs)
	node := func(i int) string {
		if i < len(w.Datasets) {
			return w.Datasets[i]
		}
		return w.Jobs[i-len(w.Datasets)]
	}
	type startSet struct {
		name string
		pick func(rng *rand.Rand, up, datasetsOnly bool) string
	}
	starts := []startSet{
		{"random", func(rng *rand.Rand, _, datasetsOnly bool) string {
			if datasetsOnly {
				return w.Datasets[rng.IntN(len(w.Datasets))]
			}
			return node(rng.IntN(all))
		}},
		// The far ends: sources downstream, summaries upstream; most are
		// truncated by the limit.
		{"deep", func(rng *rand.Rand, up, _ bool) string {
			if up {
				return w.Datasets[w.Layers[3][0]+rng.IntN(lineagetest.Summaries)]
			}
			return w.Datasets[rng.IntN(lineagetest.Sources)]
		}},
	}
	for _, cl := range []bool{false, true} {
		for _, depth := range []int{5, 20} {
			for _, dir := range []lineage.Direction{lineage.Downstream, lineage.Upstream, lineage.Both} {
				for _, ss := range starts {
					if cl && (depth == 20 || dir == lineage.Both) {
						continue
					}
					name := fmt.Sprintf("depth=%d/limit=1000/%s/%s", depth, dir, ss.name)
					if cl {
						name = "columns/" + name
					}
					b.Run(name, func(b *testing.B) {
						rng := rand.New(rand.NewPCG(1, uint64(depth)))
						lat := make([]time.Duration, 0, 4096)
						var nodes, truncated int
						for b.Loop() {
							q := lineage.Query{Start: ss.pick(rng, dir == lineage.Upstream, cl), Direction: dir, Depth: depth, Limit: 1000, ColumnLevel: cl}
							if cl && rng.IntN(2) == 0 { // from one column, or from every column of a dataset
								q.Start += fmt.Sprintf("/c%d", rng.IntN(lineagetest.Columns))
							}
							start := time.Now()
							res, err := g.Traverse(context.Background(), q)
							lat = append(lat, time.Since(start))
							if err != nil {
								b.Fatal(err)
							}
							nodes += len(res.Nodes)
							if res.Truncated {
								truncated++
							}
						}
						reportLatency(b, lat)
						b.ReportMetric(float64(nodes)/float64(len(lat)), "nodes/op")
						b.ReportMetric(float64(truncated)/float64(len(lat)), "truncated/op")
					})
				}
			}
		}
	}

	b.Run("impact", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		lat := make([]time.Duration, 0, 4096)
		for b.Loop() {
			ds := w.Datasets[rng.IntN(len(w.Datasets))]
			start := time.Now()
			if _, _, err := g.Impact(context.Background(), ds, "", 1000); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})

	b.Run("load", func(b *testing.B) {
		loadNs, writeNs, st := loadFromStore(b, w)
		for b.Loop() {
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(loadNs/1e6, "load-ms")
		b.ReportMetric(writeNs/1e9, "write-s")
		if want := g.Stats(); st.Edges != want.Edges || st.Links != want.Links || st.Columns != want.Columns {
			b.Fatalf("loaded %+v, built %+v", st, want)
		}
	})
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) / 1e6 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// loadFromStore writes the Warehouse into a bbolt store, in bulk, and
// times Load from it.
func loadFromStore(b *testing.B, w *lineagetest.Warehouse) (loadNs, writeNs float64, st lineage.Stats) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(b.TempDir(), "quarry.db"), &store.Options{NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	const chunk = 5000
	for i := 0; i < len(w.Datasets); i += chunk {
		var ds []quarry.Dataset
		for j := i; j < min(i+chunk, len(w.Datasets)); j++ {
			ds = append(ds, quarry.Dataset{Namespace: "postgres://wh.internal:5432", Name: fmt.Sprintf("wh.l%d.t%06d", w.Layer(j), j), Kind: quarry.KindTable})
		}
		if _, err := s.UpsertDatasets(ctx, ds); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < len(w.Datasets); i += chunk {
		byOrigin := map[quarry.EdgeOrigin]map[string][]quarry.Edge{}
		for t := i; t < min(i+chunk, len(w.Datasets)); t++ {
			w.EdgesInto(t, func(e quarry.Edge) {
				if byOrigin[e.Origin] == nil {
					byOrigin[e.Origin] = map[string][]quarry.Edge{}
				}
				byOrigin[e.Origin][e.To] = append(byOrigin[e.Origin][e.To], e)
			})
		}
		for origin, byTarget := range byOrigin {
			if err := s.ReplaceEdges(ctx, origin, byTarget); err != nil {
				b.Fatal(err)
			}
		}
	}
	writeNs = float64(time.Since(start).Nanoseconds())
	g := lineage.NewGraph(s, s, &lineage.GraphOptions{Logger: slog.New(slog.DiscardHandler)})
	start = time.Now()
	if err := g.Load(ctx); err != nil {
		b.Fatal(err)
	}
	loadNs = float64(time.Since(start).Nanoseconds())
	return loadNs, writeNs, g.Stats()
}

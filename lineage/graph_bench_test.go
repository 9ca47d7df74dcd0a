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
	"github.com/quarrydata/quarry/store"
)

// warehouse is a synthetic lineage graph shaped like a warehouse: sources
// feed staging tables, staging feeds facts, facts feed summaries, with a
// few hub sources (dimensions) read by many, chains of facts and of
// summaries, jobs writing most tables and views (CATALOG) the rest, and
// column-level edges beside most table-level ones. 160,000 datasets and
// 40,000 jobs: 200,000 nodes and about 1M stored edges.
type warehouse struct {
	datasets []string // IDs
	jobs     []string
	layers   [4][2]int // sources, staging, facts, summaries: [first, end)
	jobSpans [4][2]int // the jobs writing each layer
}

const (
	whSources   = 60000
	whStaging   = 50000
	whFacts     = 30000
	whSummaries = 20000
	whHubs      = 200 // the first sources are dimensions, read everywhere
	whJobs      = 40000
	whColumns   = 6 // per dataset in column lineage: c0 .. c5
)

func newWarehouse() *warehouse {
	w := &warehouse{}
	n := 0
	for i, size := range []int{whSources, whStaging, whFacts, whSummaries} {
		w.layers[i] = [2]int{n, n + size}
		n += size
	}
	w.datasets = make([]string, n)
	for i := range w.datasets {
		w.datasets[i] = quarry.NewID(quarry.EntityDataset, "postgres://wh.internal:5432", fmt.Sprintf("wh.l%d.t%06d", w.layer(i), i))
	}
	w.jobs = make([]string, whJobs)
	for i := range w.jobs {
		w.jobs[i] = quarry.NewID(quarry.EntityJob, "airflow", fmt.Sprintf("dag.task%05d", i))
	}
	w.jobSpans = [4][2]int{{0, 0}, {0, 17500}, {17500, 31000}, {31000, whJobs}}
	return w
}

func (w *warehouse) layer(i int) int {
	for l := range w.layers {
		if i < w.layers[l][1] {
			return l
		}
	}
	return -1
}

// edgesInto calls fn with the stored edges into dataset t, all of one
// origin, the same every time.
func (w *warehouse) edgesInto(t int, fn func(quarry.Edge)) {
	l := w.layer(t)
	if l == 0 {
		return
	}
	rng := rand.New(rand.NewPCG(uint64(t), 7))
	pick := func(layer int) int {
		span := w.layers[layer]
		return span[0] + rng.IntN(span[1]-span[0])
	}
	var inputs []int
	switch l {
	case 1:
		for range 1 + rng.IntN(3) {
			inputs = append(inputs, pick(0))
		}
		if rng.IntN(5) == 0 {
			inputs = append(inputs, rng.IntN(whHubs))
		}
	case 2:
		for range 3 + rng.IntN(6) {
			inputs = append(inputs, pick(1))
		}
		if rng.IntN(10) == 0 && t > w.layers[2][0] { // a chain of facts
			inputs = append(inputs, w.layers[2][0]+rng.IntN(t-w.layers[2][0]))
		}
		if rng.IntN(3) == 0 {
			inputs = append(inputs, rng.IntN(whHubs))
		}
	case 3:
		for range 2 + rng.IntN(5) {
			inputs = append(inputs, pick(2))
		}
		if rng.IntN(10) < 3 && t > w.layers[3][0] { // a chain of summaries
			for range 1 + rng.IntN(2) {
				inputs = append(inputs, w.layers[3][0]+rng.IntN(t-w.layers[3][0]))
			}
		}
	}
	slices.Sort(inputs)
	inputs = slices.Compact(inputs)
	origin, job := quarry.OriginCatalog, ""
	if rng.IntN(10) < 7 {
		span := w.jobSpans[l]
		origin, job = quarry.OriginRun, w.jobs[span[0]+rng.IntN(span[1]-span[0])]
	}
	to := w.datasets[t]
	for _, in := range inputs {
		from := w.datasets[in]
		fn(quarry.Edge{From: from, To: to, JobID: job, Origin: origin})
		seen := map[[2]int]bool{}
		for range rng.IntN(4) {
			fc, tc := rng.IntN(whColumns), rng.IntN(whColumns)
			if rng.IntN(10) < 6 { // passed through under its name: column lineage runs through layers
				tc = fc
			}
			if seen[[2]int{fc, tc}] {
				continue
			}
			seen[[2]int{fc, tc}] = true
			fn(quarry.Edge{From: from, To: to, JobID: job, Origin: origin, FromColumn: fmt.Sprintf("c%d", fc), ToColumn: fmt.Sprintf("c%d", tc), Transformation: "DIRECT/IDENTITY"})
		}
		if rng.IntN(100) < 15 {
			fn(quarry.Edge{From: from, To: to, JobID: job, Origin: origin, FromColumn: fmt.Sprintf("c%d", rng.IntN(whColumns)), Transformation: "INDIRECT/JOIN"})
		}
	}
}

func (w *warehouse) identities(fn func(store.Identity)) {
	for i, id := range w.datasets {
		fn(store.Identity{Entity: quarry.EntityDataset, ID: id, Namespace: "postgres://wh.internal:5432", Name: fmt.Sprintf("wh.l%d.t%06d", w.layer(i), i)})
	}
	for i, id := range w.jobs {
		fn(store.Identity{Entity: quarry.EntityJob, ID: id, Namespace: "airflow", Name: fmt.Sprintf("dag.task%05d", i)})
	}
}

var bench struct {
	once    sync.Once
	wh      *warehouse
	g       *lineage.Graph
	buildNs float64
	heapMB  float64
}

// benchGraph builds the warehouse's graph once, through a Builder.
func benchGraph() (*warehouse, *lineage.Graph) {
	bench.once.Do(func() {
		w := newWarehouse()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		b := lineage.NewBuilder()
		w.identities(b.AddIdentity)
		for t := range w.datasets {
			w.edgesInto(t, func(e quarry.Edge) { b.AddEdge(&e) })
		}
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

	all := len(w.datasets) + len(w.jobs)
	node := func(i int) string {
		if i < len(w.datasets) {
			return w.datasets[i]
		}
		return w.jobs[i-len(w.datasets)]
	}
	type startSet struct {
		name string
		pick func(rng *rand.Rand, up, datasetsOnly bool) string
	}
	starts := []startSet{
		{"random", func(rng *rand.Rand, _, datasetsOnly bool) string {
			if datasetsOnly {
				return w.datasets[rng.IntN(len(w.datasets))]
			}
			return node(rng.IntN(all))
		}},
		// The far ends: sources downstream, summaries upstream; most are
		// truncated by the limit.
		{"deep", func(rng *rand.Rand, up, _ bool) string {
			if up {
				return w.datasets[w.layers[3][0]+rng.IntN(whSummaries)]
			}
			return w.datasets[rng.IntN(whSources)]
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
								q.Start += fmt.Sprintf("/c%d", rng.IntN(whColumns))
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
			ds := w.datasets[rng.IntN(len(w.datasets))]
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

// loadFromStore writes the warehouse into a bbolt store, in bulk, and
// times Load from it.
func loadFromStore(b *testing.B, w *warehouse) (loadNs, writeNs float64, st lineage.Stats) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(b.TempDir(), "quarry.db"), &store.Options{NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	const chunk = 5000
	for i := 0; i < len(w.datasets); i += chunk {
		var ds []quarry.Dataset
		for j := i; j < min(i+chunk, len(w.datasets)); j++ {
			ds = append(ds, quarry.Dataset{Namespace: "postgres://wh.internal:5432", Name: fmt.Sprintf("wh.l%d.t%06d", w.layer(j), j), Kind: quarry.KindTable})
		}
		if _, err := s.UpsertDatasets(ctx, ds); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < len(w.datasets); i += chunk {
		byOrigin := map[quarry.EdgeOrigin]map[string][]quarry.Edge{}
		for t := i; t < min(i+chunk, len(w.datasets)); t++ {
			w.edgesInto(t, func(e quarry.Edge) {
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

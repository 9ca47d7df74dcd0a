package lineage_test

import (
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
)

// BenchmarkGraphHeap builds the lineage graph of a catalog of a million
// datasets named like the scale benchmark's (seven namespaces, names such
// as dw2.marketing.int_customer_revenue_N), each written by one of 100,000
// jobs from its neighbour, and reports what the garbage collector pays
// for holding it: the live heap it adds (graph-MB), the heap objects it
// adds (objects), and the median of five forced collections with it live
// (gc-ms). The collector marks every pointer of a live graph at every
// cycle, so at a million datasets its strings and index cost the serving
// process CPU and latency in proportion.
//
//	go test -run '^$' -bench GraphHeap ./lineage
func BenchmarkGraphHeap(b *testing.B) {
	const datasets, perJob = 1_000_000, 10
	words := []string{"customer", "order", "revenue", "payment", "product", "session", "account", "invoice", "region", "campaign", "status", "refund"}
	prefixes := []string{"fct", "dim", "stg", "raw", "agg", "rpt", "int", "snap"}
	schemas := []string{"sales", "finance", "marketing", "ops", "support"}
	ns := func(i int) string { return fmt.Sprintf("postgres://warehouse-%d.internal:5432", i%7) }
	name := func(i int) string {
		return fmt.Sprintf("dw%d.%s.%s_%s_%s_%d", i%5, schemas[i%5], prefixes[i%len(prefixes)], words[i*7%len(words)], words[i*13%len(words)], i)
	}
	id := func(i int) string { return quarry.NewID(quarry.EntityDataset, ns(i), name(i)) }
	jobName := func(j int) string { return fmt.Sprintf("dag.load_%06d", j) }
	jobID := func(j int) string { return quarry.NewID(quarry.EntityJob, "airflow", jobName(j)) }

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	bl := lineage.NewBuilder()
	bl.Grow(datasets + datasets/perJob)
	ids := make([]string, datasets) // the edges' IDs, dropped before measuring
	for i := range datasets {
		ids[i] = id(i)
		bl.AddIdentity(quarry.Identity{Entity: quarry.EntityDataset, ID: ids[i], Namespace: ns(i), Name: name(i)})
	}
	for j := range datasets / perJob {
		bl.AddIdentity(quarry.Identity{Entity: quarry.EntityJob, ID: jobID(j), Namespace: "airflow", Name: jobName(j)})
	}
	for i := range datasets {
		e := quarry.Edge{From: ids[(i+datasets-1)%datasets], To: ids[i], JobID: jobID(i / perJob), Origin: quarry.OriginRun}
		bl.AddEdge(&e)
	}
	ids = nil
	g := lineage.NewGraph(nil, nil, &lineage.GraphOptions{Logger: slog.New(slog.DiscardHandler)})
	g.Install(bl, 0)
	build := time.Since(start)

	runtime.GC()
	runtime.ReadMemStats(&after)
	gcs := make([]time.Duration, 5)
	for i := range gcs {
		t := time.Now()
		runtime.GC()
		gcs[i] = time.Since(t)
	}
	slices.Sort(gcs)
	for b.Loop() {
	}
	st := g.Stats()
	if st.Nodes != datasets+datasets/perJob || st.Edges != datasets {
		b.Fatalf("the graph holds %+v", st)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(build.Milliseconds()), "build-ms")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "graph-MB")
	b.ReportMetric(float64(int64(after.HeapObjects)-int64(before.HeapObjects)), "objects")
	b.ReportMetric(float64(gcs[len(gcs)/2].Microseconds())/1000, "gc-ms")
	runtime.KeepAlive(g)
}

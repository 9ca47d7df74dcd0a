// Package lineagetest generates a synthetic warehouse-shaped lineage graph
// for benchmarks of the lineage graph and of the API over it.
package lineagetest

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
)

// Warehouse is a synthetic lineage graph shaped like a warehouse: sources
// feed staging tables, staging feeds facts, facts feed summaries, with a
// few hub sources (dimensions) read by many, chains of facts and of
// summaries, jobs writing most tables and views (CATALOG) the rest, and
// column-level edges beside most table-level ones. 160,000 datasets and
// 40,000 jobs: 200,000 nodes and about 1M stored edges.
type Warehouse struct {
	Datasets []string // IDs
	Jobs     []string
	Layers   [4][2]int // sources, staging, facts, summaries: [first, end)
	jobSpans [4][2]int // the jobs writing each layer
}

const (
	Sources   = 60000
	Staging   = 50000
	Facts     = 30000
	Summaries = 20000
	Hubs      = 200 // the first sources are dimensions, read everywhere
	Jobs      = 40000
	Columns   = 6 // per dataset in column lineage: c0 .. c5
)

// NewWarehouse returns the warehouse; it is the same every time.
func NewWarehouse() *Warehouse {
	w := &Warehouse{}
	n := 0
	for i, size := range []int{Sources, Staging, Facts, Summaries} {
		w.Layers[i] = [2]int{n, n + size}
		n += size
	}
	w.Datasets = make([]string, n)
	for i := range w.Datasets {
		w.Datasets[i] = quarry.NewID(quarry.EntityDataset, "postgres://wh.internal:5432", fmt.Sprintf("wh.l%d.t%06d", w.Layer(i), i))
	}
	w.Jobs = make([]string, Jobs)
	for i := range w.Jobs {
		w.Jobs[i] = quarry.NewID(quarry.EntityJob, "airflow", fmt.Sprintf("dag.task%05d", i))
	}
	w.jobSpans = [4][2]int{{0, 0}, {0, 17500}, {17500, 31000}, {31000, Jobs}}
	return w
}

// Layer is the layer of dataset i: 0 sources, 1 staging, 2 facts, 3 summaries.
func (w *Warehouse) Layer(i int) int {
	for l := range w.Layers {
		if i < w.Layers[l][1] {
			return l
		}
	}
	return -1
}

// EdgesInto calls fn with the stored edges into dataset t, all of one
// origin, the same every time.
func (w *Warehouse) EdgesInto(t int, fn func(quarry.Edge)) {
	l := w.Layer(t)
	if l == 0 {
		return
	}
	rng := rand.New(rand.NewPCG(uint64(t), 7))
	pick := func(layer int) int {
		span := w.Layers[layer]
		return span[0] + rng.IntN(span[1]-span[0])
	}
	var inputs []int
	switch l {
	case 1:
		for range 1 + rng.IntN(3) {
			inputs = append(inputs, pick(0))
		}
		if rng.IntN(5) == 0 {
			inputs = append(inputs, rng.IntN(Hubs))
		}
	case 2:
		for range 3 + rng.IntN(6) {
			inputs = append(inputs, pick(1))
		}
		if rng.IntN(10) == 0 && t > w.Layers[2][0] { // a chain of facts
			inputs = append(inputs, w.Layers[2][0]+rng.IntN(t-w.Layers[2][0]))
		}
		if rng.IntN(3) == 0 {
			inputs = append(inputs, rng.IntN(Hubs))
		}
	case 3:
		for range 2 + rng.IntN(5) {
			inputs = append(inputs, pick(2))
		}
		if rng.IntN(10) < 3 && t > w.Layers[3][0] { // a chain of summaries
			for range 1 + rng.IntN(2) {
				inputs = append(inputs, w.Layers[3][0]+rng.IntN(t-w.Layers[3][0]))
			}
		}
	}
	slices.Sort(inputs)
	inputs = slices.Compact(inputs)
	origin, job := quarry.OriginCatalog, ""
	if rng.IntN(10) < 7 {
		span := w.jobSpans[l]
		origin, job = quarry.OriginRun, w.Jobs[span[0]+rng.IntN(span[1]-span[0])]
	}
	to := w.Datasets[t]
	for _, in := range inputs {
		from := w.Datasets[in]
		fn(quarry.Edge{From: from, To: to, JobID: job, Origin: origin})
		seen := map[[2]int]bool{}
		for range rng.IntN(4) {
			fc, tc := rng.IntN(Columns), rng.IntN(Columns)
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
			fn(quarry.Edge{From: from, To: to, JobID: job, Origin: origin, FromColumn: fmt.Sprintf("c%d", rng.IntN(Columns)), Transformation: "INDIRECT/JOIN"})
		}
	}
}

// Identities calls fn with the identity of every dataset and job.
func (w *Warehouse) Identities(fn func(quarry.Identity)) {
	for i, id := range w.Datasets {
		fn(quarry.Identity{Entity: quarry.EntityDataset, ID: id, Namespace: "postgres://wh.internal:5432", Name: fmt.Sprintf("wh.l%d.t%06d", w.Layer(i), i)})
	}
	for i, id := range w.Jobs {
		fn(quarry.Identity{Entity: quarry.EntityJob, ID: id, Namespace: "airflow", Name: fmt.Sprintf("dag.task%05d", i)})
	}
}

// Builder returns a lineage builder holding the whole warehouse.
func (w *Warehouse) Builder() *lineage.Builder {
	b := lineage.NewBuilder()
	w.Identities(b.AddIdentity)
	for t := range w.Datasets {
		w.EdgesInto(t, func(e quarry.Edge) { b.AddEdge(&e) })
	}
	return b
}

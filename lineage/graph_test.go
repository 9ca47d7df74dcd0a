package lineage_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

const ns = "postgres://wh.internal:5432"

func dsID(name string) string  { return quarry.NewID(quarry.EntityDataset, ns, name) }
func jobID(name string) string { return quarry.NewID(quarry.EntityJob, "airflow", name) }

// jobNames names jobs, which the store cannot hold yet, and the store
// names the datasets: an Identities as the server will plug it.
type jobNames struct {
	*store.Store
	jobs map[string]quarry.Identity
}

func (j *jobNames) EachIdentity(ctx context.Context, entity string, fn func(quarry.Identity) error) error {
	if entity != quarry.EntityJob {
		return j.Store.EachIdentity(ctx, entity, fn)
	}
	for _, id := range slices.Sorted(maps.Keys(j.jobs)) {
		if err := fn(j.jobs[id]); err != nil {
			return err
		}
	}
	return nil
}

func (j *jobNames) Identity(ctx context.Context, entity, id string) (quarry.Identity, error) {
	if entity != quarry.EntityJob {
		return j.Store.Identity(ctx, entity, id)
	}
	if x, ok := j.jobs[id]; ok {
		return x, nil
	}
	return quarry.Identity{}, quarry.Errorf(quarry.ENOTFOUND, "job %s not found", id)
}

type fixture struct {
	t   testing.TB
	st  *store.Store
	ids *jobNames
	g   *lineage.Graph
}

// newFixture opens a store with the given datasets and jobs (by name) and
// a graph loaded from it.
func newFixture(tb testing.TB, datasets, jobs []string) *fixture {
	tb.Helper()
	f := &fixture{t: tb, st: storetest.MustOpen(tb, &store.Options{NoSync: true})}
	f.ids = &jobNames{Store: f.st, jobs: map[string]quarry.Identity{}}
	f.addDatasets(datasets...)
	for _, j := range jobs {
		f.ids.jobs[jobID(j)] = quarry.Identity{Entity: quarry.EntityJob, ID: jobID(j), Namespace: "airflow", Name: j}
	}
	f.g = f.load()
	return f
}

func (f *fixture) addDatasets(names ...string) {
	f.t.Helper()
	if len(names) == 0 {
		return
	}
	var ds []quarry.Dataset
	for _, n := range names {
		ds = append(ds, quarry.Dataset{Namespace: ns, Name: n, Kind: quarry.KindTable})
	}
	if _, err := f.st.UpsertDatasets(context.Background(), ds); err != nil {
		f.t.Fatal(err)
	}
}

// load returns a new graph loaded from the store.
func (f *fixture) load() *lineage.Graph {
	f.t.Helper()
	g := lineage.NewGraph(f.st, f.ids, &lineage.GraphOptions{Logger: slog.New(slog.DiscardHandler)})
	if err := g.Load(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return g
}

// set replaces the edges of one origin into each target named by an edge
// of edges, then catches the graph up.
func (f *fixture) set(origin quarry.EdgeOrigin, edges ...quarry.Edge) {
	f.t.Helper()
	byTarget := map[string][]quarry.Edge{}
	for _, e := range edges {
		e.Origin = origin
		byTarget[e.To] = append(byTarget[e.To], e)
	}
	f.replace(origin, byTarget)
}

// clear removes the edges of one origin into target.
func (f *fixture) clear(origin quarry.EdgeOrigin, target string) {
	f.t.Helper()
	f.replace(origin, map[string][]quarry.Edge{dsID(target): nil})
}

func (f *fixture) replace(origin quarry.EdgeOrigin, byTarget map[string][]quarry.Edge) {
	f.t.Helper()
	if err := f.st.ReplaceEdges(context.Background(), origin, byTarget); err != nil {
		f.t.Fatal(err)
	}
	f.catchUp()
}

func (f *fixture) catchUp() {
	f.t.Helper()
	if err := f.g.CatchUp(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	if seq, _ := f.st.LastSeq(context.Background()); f.g.Applied() != seq {
		f.t.Fatalf("caught up to %d, the store is at %d", f.g.Applied(), seq)
	}
}

func (f *fixture) traverse(q lineage.Query) *lineage.Result {
	f.t.Helper()
	res, err := f.g.Traverse(context.Background(), q)
	if err != nil {
		f.t.Fatalf("Traverse(%+v): %v", q, err)
	}
	return res
}

// e is a table-level edge between datasets named from and to, through job
// when one is named.
func e(from, to, job string) quarry.Edge {
	out := quarry.Edge{From: dsID(from), To: dsID(to)}
	if job != "" {
		out.JobID = jobID(job)
	}
	return out
}

// ce is a column-level edge "from.col -> to.col"; an empty to column is
// an INDIRECT dependency of the whole output.
func ce(from, fromCol, to, toCol, job, transformation string) quarry.Edge {
	out := e(from, to, job)
	out.FromColumn, out.ToColumn, out.Transformation = fromCol, toCol, transformation
	return out
}

// label names a node shortly: "a" for dataset a, "J:load" for job load,
// "a.id" for column id of a.
func label(n lineage.Node) string {
	switch n.Kind {
	case lineage.KindJob:
		return "J:" + n.Name
	case lineage.KindColumn:
		return n.Name + "." + n.Column
	}
	return n.Name
}

// nodes renders a result's nodes as "label:distance", in order.
func nodes(res *lineage.Result) string {
	var out []string
	for _, n := range res.Nodes {
		out = append(out, fmt.Sprintf("%s:%d", label(n), n.Distance))
	}
	return strings.Join(out, " ")
}

// edges renders a result's edges as "from>to", in order, with
// "[job]" for an edge that carries a job.
func edges(res *lineage.Result) string {
	labels := map[string]string{}
	for _, n := range res.Nodes {
		labels[n.ID] = label(n)
	}
	var out []string
	for _, e := range res.Edges {
		s := labels[e.From] + ">" + labels[e.To]
		if e.JobID != "" {
			s += "[" + e.JobID[:4] + "]"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func assertResult(tb testing.TB, res *lineage.Result, wantNodes, wantEdges string, truncated bool) {
	tb.Helper()
	if got := nodes(res); got != wantNodes {
		tb.Errorf("nodes:\n got  %s\n want %s", got, wantNodes)
	}
	if got := edges(res); got != wantEdges {
		tb.Errorf("edges:\n got  %s\n want %s", got, wantEdges)
	}
	if res.Truncated != truncated {
		tb.Errorf("truncated = %v, want %v", res.Truncated, truncated)
	}
}

func node(tb testing.TB, res *lineage.Result, lbl string) lineage.Node {
	tb.Helper()
	for _, n := range res.Nodes {
		if label(n) == lbl {
			return n
		}
	}
	tb.Fatalf("no node %s in %s", lbl, nodes(res))
	return lineage.Node{}
}

func assertCode(tb testing.TB, err error, code, field string) {
	tb.Helper()
	if got := quarry.ErrorCode(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if qe, ok := err.(*quarry.Error); ok && qe.Field != field {
		tb.Fatalf("error %v: field %q, want %q", err, qe.Field, field)
	}
}

func TestTraverseShapes(t *testing.T) {
	t.Run("Chain", func(t *testing.T) {
		f := newFixture(t, []string{"a", "b", "c", "d"}, nil)
		f.set(quarry.OriginCatalog, e("a", "b", ""), e("b", "c", ""), e("c", "d", ""))
		assertResult(t, f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Depth: 2}),
			"a:0 b:1 c:2", "a>b b>c", false)
		assertResult(t, f.traverse(lineage.Query{Start: dsID("d"), Direction: lineage.Upstream}),
			"d:0 c:1 b:2 a:3", "c>d b>c a>b", false)
		assertResult(t, f.traverse(lineage.Query{Start: dsID("b"), Depth: 1}), // Both by default
			"b:0 a:1 c:1", "a>b b>c", false)
		res := f.traverse(lineage.Query{Start: dsID("b"), Depth: 1})
		if n := node(t, res, "b"); n.Kind != lineage.KindDataset || n.Namespace != ns || n.Name != "b" || n.ID != dsID("b") || n.Degree != 2 {
			t.Errorf("node b = %+v", n)
		}
		if n := node(t, res, "a"); n.Degree != 1 {
			t.Errorf("node a has degree %d, want 1", n.Degree)
		}
	})

	t.Run("Diamond", func(t *testing.T) {
		f := newFixture(t, []string{"a", "b", "c", "d"}, nil)
		f.set(quarry.OriginCatalog, e("a", "b", ""), e("a", "c", ""), e("b", "d", ""), e("c", "d", ""))
		assertResult(t, f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream}),
			"a:0 b:1 c:1 d:2", "a>b a>c b>d c>d", false)
		assertResult(t, f.traverse(lineage.Query{Start: dsID("d"), Direction: lineage.Upstream}),
			"d:0 b:1 c:1 a:2", "b>d c>d a>b a>c", false)
	})

	t.Run("Cycle", func(t *testing.T) {
		f := newFixture(t, []string{"a", "b", "c"}, nil)
		f.set(quarry.OriginCatalog, e("a", "b", ""), e("b", "c", ""), e("c", "a", ""), e("c", "c", ""))
		assertResult(t, f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Depth: 50}),
			"a:0 b:1 c:2", "c>a a>b b>c c>c", false)
		// Both is upstream plus downstream: c is one hop upstream.
		assertResult(t, f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Both, Depth: 50}),
			"a:0 b:1 c:1", "c>a a>b b>c c>c", false)
	})

	t.Run("BothIsNotUndirected", func(t *testing.T) {
		// x feeds b too, but is neither upstream nor downstream of a.
		f := newFixture(t, []string{"a", "b", "x"}, nil)
		f.set(quarry.OriginCatalog, e("a", "b", ""), e("x", "b", ""))
		assertResult(t, f.traverse(lineage.Query{Start: dsID("a"), Depth: 5}), "a:0 b:1", "a>b", false)
		assertResult(t, f.traverse(lineage.Query{Start: dsID("b"), Depth: 5}), "b:0 a:1 x:1", "a>b x>b", false)
	})

	t.Run("Alone", func(t *testing.T) {
		f := newFixture(t, []string{"a"}, nil)
		assertResult(t, f.traverse(lineage.Query{Start: dsID("a")}), "a:0", "", false)
	})
}

// TestTraverseJobs checks the bipartite table level: a run edge A -> B of
// job J is A -> J -> B, and edges collapse per (from, to, job).
func TestTraverseJobs(t *testing.T) {
	f := newFixture(t, []string{"a", "b", "c", "d"}, []string{"load", "agg"})
	f.set(quarry.OriginRun, e("a", "c", "load"), e("b", "c", "load"), e("c", "d", "agg"),
		ce("a", "id", "c", "id", "load", "DIRECT/IDENTITY")) // collapses into a -> load
	f.set(quarry.OriginCatalog, e("a", "c", ""))
	f.set(quarry.OriginManual, e("a", "c", ""))
	load, agg := jobID("load")[:4], jobID("agg")[:4]

	res := f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Depth: 1})
	assertResult(t, res, "a:0 c:1 J:load:1", "a>c J:load>c["+load+"] a>J:load["+load+"]", false)
	for _, e := range res.Edges {
		want := quarry.OriginRun
		if e.JobID == "" {
			want = quarry.OriginCatalog // of CATALOG and MANUAL, the first
		}
		if e.Origin != want {
			t.Errorf("edge %+v: origin %s, want %s", e, e.Origin, want)
		}
	}
	if n := node(t, res, "J:load"); n.Kind != lineage.KindJob || n.ID != jobID("load") || n.Namespace != "airflow" || n.Degree != 3 {
		t.Errorf("job node = %+v", n)
	}
	if n := node(t, res, "c"); n.Degree != 3 { // load, agg, a
		t.Errorf("c has degree %d, want 3", n.Degree)
	}

	t.Run("DepthCountsDatasetHops", func(t *testing.T) {
		assertResult(t, f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Depth: 2}),
			"a:0 c:1 J:load:1 J:agg:2 d:2", "a>c J:load>c["+load+"] a>J:load["+load+"] c>J:agg["+agg+"] J:agg>d["+agg+"]", false)
		assertResult(t, f.traverse(lineage.Query{Start: dsID("d"), Direction: lineage.Upstream, Depth: 2}),
			"d:0 J:agg:1 c:1 a:2 b:2 J:load:2", "J:agg>d["+agg+"] c>J:agg["+agg+"] a>c J:load>c["+load+"] a>J:load["+load+"] b>J:load["+load+"]", false)
	})

	t.Run("StartAtJob", func(t *testing.T) {
		assertResult(t, f.traverse(lineage.Query{Start: jobID("load"), Direction: lineage.Downstream, Depth: 1}),
			"J:load:0 c:1", "J:load>c["+load+"]", false)
		assertResult(t, f.traverse(lineage.Query{Start: jobID("load"), Direction: lineage.Downstream, Depth: 2}),
			"J:load:0 c:1 J:agg:2 d:2", "J:load>c["+load+"] c>J:agg["+agg+"] J:agg>d["+agg+"]", false)
		assertResult(t, f.traverse(lineage.Query{Start: jobID("load"), Direction: lineage.Upstream}),
			"J:load:0 a:1 b:1", "a>J:load["+load+"] b>J:load["+load+"]", false)
		assertResult(t, f.traverse(lineage.Query{Start: jobID("load"), Depth: 1}),
			"J:load:0 a:1 b:1 c:1", "a>J:load["+load+"] b>J:load["+load+"] J:load>c["+load+"] a>c", false)
	})

	t.Run("JobWithoutIdentity", func(t *testing.T) {
		f.set(quarry.OriginRun, e("d", "b", "unnamed"))
		res := f.traverse(lineage.Query{Start: dsID("b"), Direction: lineage.Upstream, Depth: 1})
		n := node(t, res, "J:")
		if n.ID != jobID("unnamed") || n.Namespace != "" || n.Name != "" {
			t.Fatalf("unnamed job = %+v", n)
		}
		// Once named, it is named.
		f.ids.jobs[jobID("unnamed")] = quarry.Identity{Entity: quarry.EntityJob, ID: jobID("unnamed"), Namespace: "airflow", Name: "unnamed"}
		got, err := f.load().Traverse(context.Background(), lineage.Query{Start: dsID("b"), Direction: lineage.Upstream, Depth: 1})
		if err != nil {
			t.Fatal(err)
		}
		node(t, got, "J:unnamed")
	})
}

func TestTraverseLimit(t *testing.T) {
	names := []string{"a"}
	var fan []quarry.Edge
	for i := range 9 {
		b := fmt.Sprintf("b%d", i)
		names = append(names, b, "c"+b)
		fan = append(fan, e("a", b, ""), e(b, "c"+b, ""))
	}
	f := newFixture(t, names, nil)
	f.set(quarry.OriginCatalog, fan...)

	res := f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Limit: 4})
	if len(res.Nodes) != 4 || !res.Truncated {
		t.Fatalf("limit 4: %d nodes (%s), truncated %v", len(res.Nodes), nodes(res), res.Truncated)
	}
	for _, n := range res.Nodes[1:] {
		if n.Distance != 1 { // nearer nodes first
			t.Errorf("limit 4 took %s at distance %d before every node at distance 1", label(n), n.Distance)
		}
	}
	if len(res.Edges) != 3 {
		t.Errorf("limit 4: edges %s, want only those between its nodes", edges(res))
	}
	// The same nodes from a graph built another way.
	if again, _ := f.load().Traverse(context.Background(), lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Limit: 4}); !reflect.DeepEqual(again, res) {
		t.Errorf("a freshly loaded graph limits differently:\n %s\n %s", nodes(again), nodes(res))
	}

	res = f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Limit: 10})
	if len(res.Nodes) != 10 || res.Nodes[9].Distance != 1 || !res.Truncated {
		t.Fatalf("limit 10: %s, truncated %v", nodes(res), res.Truncated)
	}
	res = f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Limit: 19})
	if len(res.Nodes) != 19 || res.Truncated || len(res.Edges) != 18 {
		t.Fatalf("limit 19, exactly all: %d nodes, %d edges, truncated %v", len(res.Nodes), len(res.Edges), res.Truncated)
	}
	res = f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Depth: 1})
	if len(res.Nodes) != 10 || res.Truncated {
		t.Fatalf("depth 1: %d nodes, truncated %v; a depth does not truncate", len(res.Nodes), res.Truncated)
	}
	res = f.traverse(lineage.Query{Start: dsID("cb3"), Limit: 1})
	assertResult(t, res, "cb3:0", "", true)
}

func TestTraverseColumns(t *testing.T) {
	f := newFixture(t, []string{"a", "b", "c"}, []string{"load"})
	load := jobID("load")[:4]
	f.set(quarry.OriginRun,
		e("a", "b", "load"),
		ce("a", "id", "b", "id", "load", "DIRECT/IDENTITY"),
		ce("a", "amount", "b", "total", "load", "DIRECT/AGGREGATION"),
		ce("a", "flag", "b", "", "load", "INDIRECT/FILTER"),
	)
	f.set(quarry.OriginCatalog, e("b", "c", ""), ce("b", "total", "c", "revenue", "", "DIRECT/IDENTITY"))

	res := f.traverse(lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, ColumnLevel: true})
	assertResult(t, res, "a.amount:0 a.flag:0 a.id:0 b:1 b.id:1 b.total:1 c.revenue:2",
		"a.flag>b["+load+"] a.id>b.id["+load+"] a.amount>b.total["+load+"] b.total>c.revenue", false)
	for _, e := range res.Edges {
		if strings.HasSuffix(e.From, "/amount") && (e.Transformation != "DIRECT/AGGREGATION" || e.Origin != quarry.OriginRun || e.To != dsID("b")+"/total") {
			t.Errorf("edge %+v", e)
		}
	}
	if n := node(t, res, "b"); n.Kind != lineage.KindDataset || n.ID != dsID("b") || n.Degree != 1 {
		t.Errorf("the whole of b, which a.flag filters: %+v", n)
	}
	if n := node(t, res, "b.total"); n.ID != dsID("b")+"/total" || n.DatasetID != dsID("b") || n.Column != "total" || n.Degree != 2 {
		t.Errorf("column node b.total = %+v", n)
	}

	t.Run("StartAtColumn", func(t *testing.T) {
		assertResult(t, f.traverse(lineage.Query{Start: dsID("a") + "/amount", Direction: lineage.Downstream}),
			"a.amount:0 b.total:1 c.revenue:2", "a.amount>b.total["+load+"] b.total>c.revenue", false)
		assertResult(t, f.traverse(lineage.Query{Start: dsID("c") + "/revenue", Direction: lineage.Upstream, Depth: 1}),
			"c.revenue:0 b.total:1", "b.total>c.revenue", false)
		assertResult(t, f.traverse(lineage.Query{Start: dsID("b") + "/total", ColumnLevel: true}),
			"b.total:0 a.amount:1 c.revenue:1", "a.amount>b.total["+load+"] b.total>c.revenue", false)
		// A column without column lineage is alone.
		assertResult(t, f.traverse(lineage.Query{Start: dsID("c") + "/other"}), "c.other:0", "", false)
	})

	t.Run("UpstreamOfDataset", func(t *testing.T) {
		// Every column of b, and b as a whole, which a.flag filters.
		assertResult(t, f.traverse(lineage.Query{Start: dsID("b"), Direction: lineage.Upstream, ColumnLevel: true}),
			"b:0 b.id:0 b.total:0 a.amount:1 a.flag:1 a.id:1",
			"a.flag>b["+load+"] a.id>b.id["+load+"] a.amount>b.total["+load+"]", false)
	})

	t.Run("DatasetWithoutColumnLineage", func(t *testing.T) {
		f.addDatasets("z")
		f.catchUp()
		assertResult(t, f.traverse(lineage.Query{Start: dsID("z"), ColumnLevel: true}), "z:0", "", false)
	})

	t.Run("ErrJob", func(t *testing.T) {
		_, err := f.g.Traverse(context.Background(), lineage.Query{Start: jobID("load"), ColumnLevel: true})
		assertCode(t, err, quarry.EINVALID, "start")
	})
}

func TestTraverseErrors(t *testing.T) {
	f := newFixture(t, []string{"a"}, nil)
	ctx := context.Background()
	for _, tt := range []struct {
		name        string
		q           lineage.Query
		code, field string
	}{
		{"ErrNotFound", lineage.Query{Start: dsID("nothing")}, quarry.ENOTFOUND, ""},
		{"ErrColumnNotFound", lineage.Query{Start: dsID("nothing") + "/id"}, quarry.ENOTFOUND, ""},
		{"ErrStartRequired", lineage.Query{}, quarry.EINVALID, "start"},
		{"ErrDepth", lineage.Query{Start: dsID("a"), Depth: lineage.DefaultMaxDepth + 1}, quarry.EINVALID, "depth"},
		{"ErrLimit", lineage.Query{Start: dsID("a"), Limit: lineage.DefaultMaxLimit + 1}, quarry.EINVALID, "limit"},
		{"ErrDirection", lineage.Query{Start: dsID("a"), Direction: 7}, quarry.EINVALID, "direction"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.g.Traverse(ctx, tt.q)
			assertCode(t, err, tt.code, tt.field)
		})
	}
	t.Run("Caps", func(t *testing.T) {
		g := lineage.NewGraph(f.st, f.st, &lineage.GraphOptions{MaxDepth: 2, MaxLimit: 5, Logger: slog.New(slog.DiscardHandler)})
		if err := g.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := g.Traverse(ctx, lineage.Query{Start: dsID("a"), Depth: 2, Limit: 5}); err != nil {
			t.Fatal(err)
		}
		_, err := g.Traverse(ctx, lineage.Query{Start: dsID("a"), Depth: 3})
		assertCode(t, err, quarry.EINVALID, "depth")
		_, err = g.Traverse(ctx, lineage.Query{Start: dsID("a"), Limit: 6})
		assertCode(t, err, quarry.EINVALID, "limit")
		_, _, err = g.Impact(ctx, dsID("a"), "", 6)
		assertCode(t, err, quarry.EINVALID, "limit")
	})
}

// TestUpdates checks that what commits is traversable after CatchUp.
func TestUpdates(t *testing.T) {
	f := newFixture(t, []string{"a", "b", "c", "x"}, []string{"j1", "j2"})
	down := lineage.Query{Start: dsID("a"), Direction: lineage.Downstream, Depth: 5}
	f.set(quarry.OriginCatalog, e("a", "b", ""))
	assertResult(t, f.traverse(down), "a:0 b:1", "a>b", false)

	t.Run("Add", func(t *testing.T) {
		f.set(quarry.OriginCatalog, e("b", "c", ""))
		assertResult(t, f.traverse(down), "a:0 b:1 c:2", "a>b b>c", false)
	})
	t.Run("Replace", func(t *testing.T) {
		f.set(quarry.OriginCatalog, e("x", "b", ""))
		assertResult(t, f.traverse(down), "a:0", "", false)
		assertResult(t, f.traverse(lineage.Query{Start: dsID("b"), Direction: lineage.Upstream}), "b:0 x:1", "x>b", false)
	})
	t.Run("OtherOriginStays", func(t *testing.T) {
		f.set(quarry.OriginRun, e("a", "b", "j1"))
		f.set(quarry.OriginManual, e("a", "b", ""))
		assertResult(t, f.traverse(down), "a:0 b:1 J:j1:1 c:2", "a>b J:j1>b["+jobID("j1")[:4]+"] a>J:j1["+jobID("j1")[:4]+"] b>c", false)
		f.set(quarry.OriginRun, e("a", "b", "j2")) // another job writes it now
		assertResult(t, f.traverse(down), "a:0 b:1 J:j2:1 c:2", "a>b J:j2>b["+jobID("j2")[:4]+"] a>J:j2["+jobID("j2")[:4]+"] b>c", false)
		res := f.traverse(lineage.Query{Start: jobID("j1")})
		assertResult(t, res, "J:j1:0", "", false)
		if res.Nodes[0].Degree != 0 {
			t.Errorf("a job without edges has degree %d", res.Nodes[0].Degree)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		f.clear(quarry.OriginRun, "b")
		f.clear(quarry.OriginManual, "b")
		assertResult(t, f.traverse(down), "a:0", "", false)
		f.clear(quarry.OriginCatalog, "c")
		assertResult(t, f.traverse(lineage.Query{Start: dsID("b")}), "b:0 x:1", "x>b", false)
	})
	t.Run("NewDataset", func(t *testing.T) {
		f.addDatasets("d")
		f.set(quarry.OriginCatalog, e("c", "d", ""))
		res := f.traverse(lineage.Query{Start: dsID("d")})
		assertResult(t, res, "d:0 c:1", "c>d", false)
	})
	t.Run("Removed", func(t *testing.T) {
		ctx := context.Background()
		if err := f.st.MarkRemoved(ctx, time.Now(), dsID("c")); err != nil {
			t.Fatal(err)
		}
		f.catchUp()
		res := f.traverse(lineage.Query{Start: dsID("d")})
		assertResult(t, res, "d:0 c:1", "c>d", false) // lineage outlives removal
		if !node(t, res, "c").Removed || node(t, res, "d").Removed {
			t.Errorf("removed: %+v", res.Nodes)
		}
		f.set(quarry.OriginCatalog, ce("c", "id", "d", "id", "", ""))
		if n := node(t, f.traverse(lineage.Query{Start: dsID("d") + "/id"}), "c.id"); !n.Removed {
			t.Errorf("a column of a removed dataset: %+v", n)
		}
		if err := f.st.Restore(ctx, dsID("c")); err != nil {
			t.Fatal(err)
		}
		f.catchUp()
		if node(t, f.traverse(lineage.Query{Start: dsID("d")}), "c").Removed {
			t.Errorf("c is still removed after Restore")
		}
	})
}

// TestRun checks that a running graph sees a commit within a second.
func TestRun(t *testing.T) {
	f := newFixture(t, []string{"a", "b"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.g.Run(ctx)
	}()
	var readers sync.WaitGroup
	defer func() {
		cancel()
		<-done
		readers.Wait()
	}()
	// Readers meanwhile, for the race detector.
	for range 2 {
		readers.Go(func() {
			for ctx.Err() == nil {
				if _, err := f.g.Traverse(ctx, lineage.Query{Start: dsID("a"), ColumnLevel: true}); err != nil && ctx.Err() == nil {
					t.Error(err)
				}
				if _, _, err := f.g.Impact(ctx, dsID("a"), "id", 0); err != nil && ctx.Err() == nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range 20 {
		col := quarry.Edge{From: dsID("a"), To: dsID("b"), FromColumn: "id", ToColumn: fmt.Sprintf("c%d", i), Origin: quarry.OriginManual}
		if err := f.st.ReplaceEdges(ctx, quarry.OriginManual, map[string][]quarry.Edge{dsID("b"): {col}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.st.ReplaceEdges(ctx, quarry.OriginCatalog, map[string][]quarry.Edge{dsID("b"): {{From: dsID("a"), To: dsID("b"), Origin: quarry.OriginCatalog}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		res := f.traverse(lineage.Query{Start: dsID("a"), ColumnLevel: true})
		if edges(res) == "a.id>b.c19" && len(f.traverse(lineage.Query{Start: dsID("a")}).Edges) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second after the commit: %s", nodes(res))
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCatchUpMatchesLoad applies random changes to the store and checks
// that the graph that caught up with them answers every query as a graph
// loaded afresh does.
func TestCatchUpMatchesLoad(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { catchUpMatchesLoad(t, seed) })
	}
}

func catchUpMatchesLoad(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	var names []string
	for i := range 12 {
		names = append(names, fmt.Sprintf("d%02d", i))
	}
	jobs := []string{"j0", "j1", "j2"}
	cols := []string{"id", "x", "y"}
	f := newFixture(t, names, jobs)
	origins := []quarry.EdgeOrigin{quarry.OriginRun, quarry.OriginCatalog, quarry.OriginManual}
	for round := range 60 {
		origin := origins[rng.IntN(3)]
		byTarget := map[string][]quarry.Edge{}
		for range 1 + rng.IntN(3) {
			to := names[rng.IntN(len(names))]
			var es []quarry.Edge
			for range rng.IntN(5) {
				from, job := names[rng.IntN(len(names))], ""
				if origin == quarry.OriginRun || rng.IntN(4) == 0 {
					job = jobs[rng.IntN(len(jobs))]
				}
				x := e(from, to, job)
				switch rng.IntN(3) {
				case 1:
					x = ce(from, cols[rng.IntN(3)], to, cols[rng.IntN(3)], job, []string{"", "DIRECT/IDENTITY", "DIRECT/AGGREGATION"}[rng.IntN(3)])
				case 2:
					x = ce(from, cols[rng.IntN(3)], to, "", job, "INDIRECT/JOIN")
				}
				x.Origin = origin
				es = append(es, x)
			}
			byTarget[dsID(to)] = es
		}
		f.replace(origin, byTarget)
		if rng.IntN(5) == 0 {
			if err := f.st.MarkRemoved(context.Background(), time.Now(), dsID(names[rng.IntN(len(names))])); err != nil {
				t.Fatal(err)
			}
			f.catchUp()
		}
		fresh := f.load()
		var starts []string
		for _, n := range names {
			starts = append(starts, dsID(n))
			for _, c := range cols {
				starts = append(starts, dsID(n)+"/"+c)
			}
		}
		for _, j := range jobs {
			starts = append(starts, jobID(j))
		}
		for _, start := range starts {
			for _, q := range []lineage.Query{
				{Start: start, Direction: lineage.Upstream, Depth: 4},
				{Start: start, Direction: lineage.Downstream, Depth: 4, Limit: 5},
				{Start: start, Direction: lineage.Both, Depth: 10},
				{Start: start, Direction: lineage.Both, ColumnLevel: true, Depth: 3},
				{Start: start, Direction: lineage.Downstream, ColumnLevel: true, Limit: 4},
			} {
				got, err1 := f.g.Traverse(context.Background(), q)
				want, err2 := fresh.Traverse(context.Background(), q)
				if quarry.ErrorCode(err1) != quarry.ErrorCode(err2) || !reflect.DeepEqual(got, want) {
					t.Fatalf("round %d, %+v:\n caught up %s | %s | %v\n loaded    %s | %s | %v", round, q, nodes(got), edges(got), err1, nodes(want), edges(want), err2)
				}
			}
			if !strings.Contains(start, "/") && len(start) == 36 {
				for _, c := range []string{"", "x"} {
					got, gt, err1 := f.g.Impact(context.Background(), start, c, 3)
					want, wt, err2 := fresh.Impact(context.Background(), start, c, 3)
					if quarry.ErrorCode(err1) != quarry.ErrorCode(err2) || gt != wt || !reflect.DeepEqual(got, want) {
						t.Fatalf("round %d, impact of %s %q:\n caught up %+v %v %v\n loaded    %+v %v %v", round, start, c, got, gt, err1, want, wt, err2)
					}
				}
			}
		}
		// Nodes no edge names any more stay in the graph that caught up.
		if got, want := f.g.Stats(), fresh.Stats(); got.Edges != want.Edges || got.Links != want.Links || got.Columns != want.Columns {
			t.Fatalf("round %d: stats %+v, loaded %+v", round, got, want)
		}
	}
}

func TestImpact(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, []string{"a", "b", "c", "d", "e", "x"}, []string{"load"})
	f.set(quarry.OriginRun, e("a", "b", "load"), e("a", "e", "load"),
		ce("a", "amount", "b", "total", "load", "DIRECT/AGGREGATION"),
		ce("a", "flag", "b", "", "load", "INDIRECT/FILTER"),
		ce("a", "amount", "e", "amount", "load", "DIRECT/IDENTITY"),
		ce("a", "amount", "e", "amount_eur", "load", "DIRECT/TRANSFORMATION"))
	f.set(quarry.OriginCatalog, e("b", "c", ""), e("c", "d", ""), e("d", "a", ""), e("x", "d", ""),
		ce("b", "total", "c", "revenue", "", "DIRECT/IDENTITY"),
		ce("b", "id", "c", "id", "", "DIRECT/IDENTITY"),
		ce("c", "revenue", "d", "revenue", "", "DIRECT/IDENTITY"),
		ce("d", "revenue", "a", "amount", "", "DIRECT/IDENTITY")) // back to the start
	if err := f.st.MarkRemoved(ctx, time.Now(), dsID("c")); err != nil {
		t.Fatal(err)
	}
	f.catchUp()

	render := func(out []lineage.Impacted) string {
		var s []string
		for _, i := range out {
			r := fmt.Sprintf("%s:%d", i.Name, i.Distance)
			if len(i.Columns) > 0 {
				r += "(" + strings.Join(i.Columns, ",") + ")"
			}
			if i.Removed {
				r += "!"
			}
			s = append(s, r)
		}
		return strings.Join(s, " ")
	}
	for _, tt := range []struct {
		name, column string
		limit        int
		want         string
		truncated    bool
	}{
		{"Dataset", "", 0, "b:1 e:1 c:2! d:3", false},
		{"Column", "amount", 0, "b:1(total) e:1(amount,amount_eur) c:2(revenue)! d:3(revenue)", false},
		{"Indirect", "flag", 0, "b:1", false},
		{"NoColumnLineage", "nothing", 0, "", false},
		{"Limit", "", 2, "b:1 e:1", true},
		{"ColumnLimit", "amount", 3, "b:1(total) e:1(amount,amount_eur) c:2(revenue)!", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, truncated, err := f.g.Impact(ctx, dsID("a"), tt.column, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := render(out); got != tt.want || truncated != tt.truncated {
				t.Fatalf("Impact = %s, truncated %v; want %s, %v", got, truncated, tt.want, tt.truncated)
			}
			if len(out) > 0 && (out[0].DatasetID != dsID("b") || out[0].Namespace != ns) {
				t.Fatalf("first impacted = %+v", out[0])
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		_, _, err := f.g.Impact(ctx, dsID("nothing"), "", 0)
		assertCode(t, err, quarry.ENOTFOUND, "")
		_, _, err = f.g.Impact(ctx, jobID("load"), "", 0)
		assertCode(t, err, quarry.ENOTFOUND, "")
	})
}

// TestChurn grows one dataset's lineage a source at a time, each source
// named between the last one and the target: lists outgrow their room and
// move, their holes are compacted, and ranks run out of gaps.
func TestChurn(t *testing.T) {
	f := newFixture(t, []string{"t", "u"}, nil)
	var sources []string
	for r := range 120 {
		name := "s" + strings.Repeat("m", r+1) // after every source so far, before t
		f.addDatasets(name)
		sources = append(sources, name)
		var es []quarry.Edge
		for i, s := range sources {
			es = append(es, e(s, "t", ""), ce(s, "id", "t", fmt.Sprintf("c%d", i), "", ""))
		}
		es = append(es, e("t", "u", ""))
		f.set(quarry.OriginCatalog, es...)
		if r%10 != 9 {
			continue
		}
		fresh := f.load()
		for _, q := range []lineage.Query{
			{Start: dsID("t"), Direction: lineage.Upstream, Depth: 1},
			{Start: dsID("u"), Direction: lineage.Upstream, Depth: 2, Limit: 50},
			{Start: dsID("t"), ColumnLevel: true},
		} {
			got := f.traverse(q)
			w, err := fresh.Traverse(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("round %d, %+v:\n caught up %s\n loaded    %s", r, q, nodes(got), nodes(w))
			}
			for i := 1; i < len(got.Nodes); i++ {
				a, b := got.Nodes[i-1], got.Nodes[i]
				if a.Distance == b.Distance && a.Kind == b.Kind && a.Name+"."+a.Column > b.Name+"."+b.Column {
					t.Fatalf("round %d: %s before %s", r, label(a), label(b))
				}
			}
		}
		if got, want := f.g.Stats(), fresh.Stats(); got.Links != want.Links || got.Edges != want.Edges {
			t.Fatalf("round %d: stats %+v, loaded %+v", r, got, want)
		}
	}
}

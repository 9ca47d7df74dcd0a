package lineage_test

import (
	"context"
	"log/slog"
	"reflect"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
)

// A builder sized ahead (Load sizes it by the store's dataset count), or
// resized after it named some nodes, builds the graph it builds unsized.
func TestBuilderGrow(t *testing.T) {
	ns := "postgres://wh.internal:5432"
	id := func(name string) string { return quarry.NewID(quarry.EntityDataset, ns, name) }
	job := quarry.NewID(quarry.EntityJob, "airflow", "dag.load")
	build := func(grow func(b *lineage.Builder, step int)) *lineage.Result {
		t.Helper()
		b := lineage.NewBuilder()
		for i, name := range []string{"wh.a", "wh.b", "wh.c", "wh.d"} {
			grow(b, i)
			b.AddIdentity(quarry.Identity{Entity: quarry.EntityDataset, ID: id(name), Namespace: ns, Name: name, Removed: name == "wh.d"})
		}
		b.AddIdentity(quarry.Identity{Entity: quarry.EntityJob, ID: job, Namespace: "airflow", Name: "dag.load"})
		grow(b, 4)
		for _, e := range []quarry.Edge{
			{From: id("wh.a"), To: id("wh.b"), JobID: job, Origin: quarry.OriginRun},
			{From: id("wh.b"), To: id("wh.c"), Origin: quarry.OriginCatalog},
			{From: id("wh.c"), To: id("wh.d"), JobID: job, Origin: quarry.OriginRun, FromColumn: "x", ToColumn: "y"},
		} {
			b.AddEdge(&e)
		}
		g := lineage.NewGraph(nil, nil, &lineage.GraphOptions{Logger: slog.New(slog.DiscardHandler)})
		g.Install(b, 0)
		res, err := g.Traverse(context.Background(), lineage.Query{Start: id("wh.a"), Direction: lineage.Downstream, Depth: 5})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	want := build(func(*lineage.Builder, int) {})
	if len(want.Nodes) != 5 || len(want.Edges) != 5 {
		t.Fatalf("unsized: %d nodes, %d edges: %+v", len(want.Nodes), len(want.Edges), want)
	}
	for name, grow := range map[string]func(*lineage.Builder, int){
		"ahead":  func(b *lineage.Builder, step int) { b.Grow(map[int]int{0: 5}[step]) },
		"midway": func(b *lineage.Builder, step int) { b.Grow(map[int]int{2: 1, 4: 1000}[step]) },
	} {
		if got := build(grow); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
}

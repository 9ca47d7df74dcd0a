package lineage_test

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// gatedEdges is a real store whose scan of every edge (the graph's load)
// waits until gate is closed: a large catalog's load, which takes seconds.
type gatedEdges struct {
	*store.Store
	gate chan struct{}
}

func (s *gatedEdges) EachEdge(ctx context.Context, fn func(*quarry.Edge) error) error {
	<-s.gate
	return s.Store.EachEdge(ctx, fn)
}

// A graph that Run loads in the background answers no traversal before it
// has loaded (it would say that nothing is connected): the traversal
// waits, then answers from the loaded graph, a write made during the load
// included; one whose context ends first is told the graph is loading.
func TestTraversalWaitsForTheLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		st := storetest.MustOpen(t, &store.Options{NoSync: true})
		var ds []quarry.Dataset
		for _, n := range []string{"a", "b", "c"} {
			ds = append(ds, quarry.Dataset{Namespace: ns, Name: n, Kind: quarry.KindTable})
		}
		if _, err := st.UpsertDatasets(ctx, ds); err != nil {
			t.Fatal(err)
		}
		ab := quarry.Edge{From: dsID("a"), To: dsID("b"), Origin: quarry.OriginManual}
		if err := st.ReplaceEdges(ctx, quarry.OriginManual, map[string][]quarry.Edge{dsID("b"): {ab}}); err != nil {
			t.Fatal(err)
		}
		gated := &gatedEdges{Store: st, gate: make(chan struct{})}
		g := lineage.NewGraph(gated, st, &lineage.GraphOptions{Logger: slog.New(slog.DiscardHandler)})
		done := make(chan struct{})
		go func() { g.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()

		type answer struct {
			res *lineage.Result
			err error
		}
		answers := make(chan answer, 1)
		go func() {
			res, err := g.Traverse(ctx, lineage.Query{Start: dsID("a"), Direction: lineage.Downstream})
			answers <- answer{res, err}
		}()
		synctest.Wait() // the load waits at its gate; the traversal for the load
		select {
		case a := <-answers:
			t.Fatalf("a traversal answered before the graph loaded: %+v, %v", a.res, a.err)
		default:
		}
		if g.Loaded() {
			t.Fatal("the graph says it is loaded while its load waits")
		}

		// Told the graph is loading when its time runs out first.
		short, stop := context.WithTimeout(ctx, 5*time.Second)
		_, err := g.Traverse(short, lineage.Query{Start: dsID("a")})
		stop()
		if quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
			t.Fatalf("a traversal that timed out while the graph loads: %v; want %s", err, quarry.EUNAVAILABLE)
		}

		// A write while the graph loads: after the load, the graph follows.
		ac := quarry.Edge{From: dsID("a"), To: dsID("c"), Origin: quarry.OriginManual}
		if err := st.ReplaceEdges(ctx, quarry.OriginManual, map[string][]quarry.Edge{dsID("c"): {ac}}); err != nil {
			t.Fatal(err)
		}
		close(gated.gate)
		a := <-answers
		if a.err != nil {
			t.Fatal(a.err)
		}
		if len(a.res.Edges) == 0 || a.res.Edges[0].From != dsID("a") {
			t.Fatalf("after the load, a's downstream: %+v", a.res)
		}
		synctest.Wait() // Run applies the write made during the load
		res, err := g.Traverse(ctx, lineage.Query{Start: dsID("a"), Direction: lineage.Downstream})
		if err != nil {
			t.Fatal(err)
		}
		var to []string
		for _, e := range res.Edges {
			to = append(to, e.To)
		}
		if len(to) != 2 {
			t.Fatalf("a's downstream edges go to %v; want b and c (c's written during the load)", to)
		}
	})
}

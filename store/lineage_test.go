package store_test

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// lid returns the ID of a dataset of the shop database.
func lid(name string) string { return quarry.NewID(quarry.EntityDataset, shopNS, name) }

func edge(from, to string, origin quarry.EdgeOrigin) quarry.Edge {
	return quarry.Edge{From: lid(from), To: lid(to), Origin: origin}
}

func colEdge(from, fromCol, to, toCol string, origin quarry.EdgeOrigin) quarry.Edge {
	e := edge(from, to, origin)
	e.FromColumn, e.ToColumn, e.Transformation = fromCol, toCol, "DIRECT/IDENTITY"
	return e
}

func compareEdges(a, b quarry.Edge) int {
	return cmp.Or(
		cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To),
		cmp.Compare(a.Origin, b.Origin), cmp.Compare(a.JobID, b.JobID),
		cmp.Compare(a.FromColumn, b.FromColumn), cmp.Compare(a.ToColumn, b.ToColumn),
	)
}

// withoutTime returns edges sorted, with UpdatedAt cleared.
func withoutTime(es []quarry.Edge) []quarry.Edge {
	out := slices.Clone(es)
	for i := range out {
		out[i].UpdatedAt = time.Time{}
	}
	slices.SortFunc(out, compareEdges)
	return out
}

func mustEdges(tb testing.TB, s *store.Store, id string, upstream bool) []quarry.Edge {
	tb.Helper()
	es, err := s.Edges(context.Background(), id, upstream)
	if err != nil {
		tb.Fatal(err)
	}
	return es
}

func assertEdges(tb testing.TB, s *store.Store, id string, upstream bool, want ...quarry.Edge) []quarry.Edge {
	tb.Helper()
	got := mustEdges(tb, s, id, upstream)
	if g, w := withoutTime(got), withoutTime(want); !slices.Equal(g, w) {
		dir := "downstream"
		if upstream {
			dir = "upstream"
		}
		tb.Fatalf("%s of %s:\n got  %+v\n want %+v", dir, id, g, w)
	}
	slices.SortFunc(got, compareEdges)
	return got
}

func mustReplace(tb testing.TB, s *store.Store, origin quarry.EdgeOrigin, byTarget map[string][]quarry.Edge) {
	tb.Helper()
	if err := s.ReplaceEdges(context.Background(), origin, byTarget); err != nil {
		tb.Fatal(err)
	}
}

func TestReplaceEdges(t *testing.T) {
	ctx := context.Background()
	s, clock := openClocked(t)
	v := lid("shop.public.order_totals") // a view over orders and users
	seq := lastSeq(t, s)

	catalog := func() []quarry.Edge {
		return []quarry.Edge{
			edge("shop.public.orders", "shop.public.order_totals", quarry.OriginCatalog),
			edge("shop.public.users", "shop.public.order_totals", quarry.OriginCatalog),
			colEdge("shop.public.orders", "total", "shop.public.order_totals", "total", quarry.OriginCatalog),
		}
	}
	mustReplace(t, s, quarry.OriginCatalog, map[string][]quarry.Edge{v: catalog()})
	got := assertEdges(t, s, v, true, catalog()...)
	for _, e := range got {
		if !e.UpdatedAt.Equal(shT0) {
			t.Fatalf("edge %+v: updated at %v, want %v", e, e.UpdatedAt, shT0)
		}
	}
	changes := mustChanges(t, s, seq)
	if len(changes) != 1 || changes[0].ID != v || changes[0].Op != quarry.OpLineage || changes[0].Entity != quarry.EntityDataset || !changes[0].At.Equal(shT0) {
		t.Fatalf("changelog = %+v", changes)
	}
	seq++

	// Downstream of orders are its table- and column-level edges; nothing
	// leads into it.
	assertEdges(t, s, lid("shop.public.orders"), false, catalog()[0], catalog()[2])
	assertEdges(t, s, lid("shop.public.orders"), true)
	assertEdges(t, s, lid("shop.public.users"), false, catalog()[1])
	assertEdges(t, s, v, false)

	// A run's lineage into the same view.
	runEdge := edge("shop.public.payments", "shop.public.order_totals", quarry.OriginRun)
	runEdge.JobID = quarry.NewID(quarry.EntityJob, "airflow", "refresh_totals")
	mustReplace(t, s, quarry.OriginRun, map[string][]quarry.Edge{v: {runEdge}})
	assertEdges(t, s, v, true, append(catalog(), runEdge)...)
	if got := lastSeq(t, s); got != seq+1 {
		t.Fatalf("changelog %d -> %d", seq, got)
	}
	seq++

	t.Run("Identical", func(t *testing.T) {
		clock.Advance(time.Hour)
		mustReplace(t, s, quarry.OriginCatalog, map[string][]quarry.Edge{v: catalog()})
		if got := lastSeq(t, s); got != seq {
			t.Fatalf("an identical replace appended to the changelog: %d -> %d", seq, got)
		}
		for _, e := range assertEdges(t, s, v, true, append(catalog(), runEdge)...) {
			if e.Origin == quarry.OriginCatalog && !e.UpdatedAt.Equal(shT0) {
				t.Fatalf("an identical replace rewrote %+v", e)
			}
		}
		// In another order, and with a duplicate, it is still the same set.
		same := catalog()
		slices.Reverse(same)
		same = append(same, same[0])
		mustReplace(t, s, quarry.OriginCatalog, map[string][]quarry.Edge{v: same})
		if got := lastSeq(t, s); got != seq {
			t.Fatalf("a reordered replace appended to the changelog: %d -> %d", seq, got)
		}
	})

	t.Run("Different", func(t *testing.T) {
		at := clock.Advance(time.Hour)
		next := []quarry.Edge{
			edge("shop.public.users", "shop.public.order_totals", quarry.OriginCatalog),   // kept
			edge("shop.public.refunds", "shop.public.order_totals", quarry.OriginCatalog), // new
		}
		mustReplace(t, s, quarry.OriginCatalog, map[string][]quarry.Edge{v: next})
		got := assertEdges(t, s, v, true, append(slices.Clone(next), runEdge)...)
		for _, e := range got {
			want := shT0
			if e.From == lid("shop.public.refunds") {
				want = at
			}
			if !e.UpdatedAt.Equal(want) {
				t.Errorf("edge from %s (%s): updated at %v, want %v", e.From, e.Origin, e.UpdatedAt, want)
			}
		}
		changes := mustChanges(t, s, seq)
		if len(changes) != 1 || changes[0].ID != v || changes[0].Op != quarry.OpLineage || !changes[0].At.Equal(at) {
			t.Fatalf("changelog = %+v", changes)
		}
		seq++
		// The dropped edges are gone from both indexes.
		assertEdges(t, s, lid("shop.public.orders"), false)
		assertEdges(t, s, lid("shop.public.refunds"), false, next[1])
		assertEdges(t, s, lid("shop.public.payments"), false, runEdge)
	})

	t.Run("Attributes", func(t *testing.T) {
		// Same ends, columns, job and origin, another transformation: the
		// set is not identical, so the stored edge must become the new one.
		w := lid("shop.public.order_report")
		e := colEdge("shop.public.orders", "total", "shop.public.order_report", "amount", quarry.OriginCatalog)
		mustReplace(t, s, quarry.OriginCatalog, map[string][]quarry.Edge{w: {e}})
		before := lastSeq(t, s)
		at := clock.Advance(time.Hour)
		e.Transformation = "INDIRECT/AGGREGATION"
		mustReplace(t, s, quarry.OriginCatalog, map[string][]quarry.Edge{w: {e}})
		seq = lastSeq(t, s)
		got := mustEdges(t, s, w, true)
		if len(got) != 1 || got[0].Transformation != "INDIRECT/AGGREGATION" || !got[0].UpdatedAt.Equal(at) {
			t.Fatalf("edges after changing the transformation = %+v", got)
		}
		if seq != before+1 {
			t.Fatalf("changelog %d -> %d, want one record", before, seq)
		}
	})

	t.Run("ManyTargets", func(t *testing.T) {
		a, b := lid("shop.public.a"), lid("shop.public.b")
		ea := edge("shop.public.src_a", "shop.public.a", quarry.OriginManual)
		eb := edge("shop.public.src_b", "shop.public.b", quarry.OriginManual)
		at := clock.Advance(time.Hour)
		mustReplace(t, s, quarry.OriginManual, map[string][]quarry.Edge{b: {eb}, a: {ea}, v: nil})
		assertEdges(t, s, a, true, ea)
		assertEdges(t, s, b, true, eb)
		changes := mustChanges(t, s, seq)
		var ids []string
		for _, c := range changes {
			if c.Op != quarry.OpLineage || !c.At.Equal(at) {
				t.Fatalf("change %+v", c)
			}
			ids = append(ids, c.ID)
		}
		// One record per target whose edges changed (v had no manual edges),
		// in ID order.
		want := []string{a, b}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("changed targets = %v, want %v", ids, want)
		}
		seq = lastSeq(t, s)
	})

	t.Run("Empty", func(t *testing.T) {
		mustReplace(t, s, quarry.OriginCatalog, map[string][]quarry.Edge{v: {}})
		assertEdges(t, s, v, true, runEdge)
		if got := lastSeq(t, s); got != seq+1 {
			t.Fatalf("changelog %d -> %d", seq, got)
		}
		seq++
		assertEdges(t, s, lid("shop.public.users"), false)
		// Nothing left to remove: no record.
		mustReplace(t, s, quarry.OriginCatalog, map[string][]quarry.Edge{v: nil})
		mustReplace(t, s, quarry.OriginCatalog, nil)
		if got := lastSeq(t, s); got != seq {
			t.Fatalf("removing nothing appended to the changelog: %d -> %d", seq, got)
		}
		mustReplace(t, s, quarry.OriginRun, map[string][]quarry.Edge{v: nil})
		assertEdges(t, s, v, true)
		assertEdges(t, s, lid("shop.public.payments"), false)
	})

	t.Run("InputUntouched", func(t *testing.T) {
		// Like UpsertDatasets, ReplaceEdges must not write into its caller's
		// slices (which may be shared or reused).
		in := []quarry.Edge{edge("shop.public.orders", "shop.public.input_check", quarry.OriginManual)}
		clock.Advance(time.Hour)
		mustReplace(t, s, quarry.OriginManual, map[string][]quarry.Edge{lid("shop.public.input_check"): in})
		seq = lastSeq(t, s)
		if !in[0].UpdatedAt.IsZero() {
			t.Fatalf("ReplaceEdges wrote into its input: %+v", in[0])
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		x := lid("shop.public.x")
		good := edge("shop.public.stock", "shop.public.x", quarry.OriginCatalog)
		wrongTo := edge("shop.public.stock", "shop.public.y", quarry.OriginCatalog)
		wrongOrigin := edge("shop.public.stock", "shop.public.x", quarry.OriginRun)
		badFrom := good
		badFrom.From = "orders"
		for _, tc := range []struct {
			name     string
			byTarget map[string][]quarry.Edge
			field    string
		}{
			{"ToDiffersFromKey", map[string][]quarry.Edge{x: {good, wrongTo}}, "edges"},
			{"WrongOrigin", map[string][]quarry.Edge{x: {good, wrongOrigin}}, "edges"},
			{"FromNotAnID", map[string][]quarry.Edge{x: {badFrom}}, "edges"},
			{"KeyNotAnID", map[string][]quarry.Edge{"shop.public.x": {}}, "to"},
			// One bad target fails the others too.
			{"AllOrNothing", map[string][]quarry.Edge{x: {good}, lid("shop.public.y"): {good}}, "edges"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := lastSeq(t, s)
				err := s.ReplaceEdges(ctx, quarry.OriginCatalog, tc.byTarget)
				assertCode(t, err, quarry.EINVALID, tc.field)
				if got := lastSeq(t, s); got != before {
					t.Fatalf("a failed replace appended to the changelog: %d -> %d", before, got)
				}
				assertEdges(t, s, x, true)
				assertEdges(t, s, lid("shop.public.y"), true)
				assertEdges(t, s, lid("shop.public.stock"), false)
			})
		}
	})
}

package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

func allEdges(tb testing.TB, s *store.Store) []quarry.Edge {
	tb.Helper()
	var out []quarry.Edge
	if err := s.EachEdge(context.Background(), func(e *quarry.Edge) error {
		out = append(out, *e)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestEachEdge(t *testing.T) {
	ctx := context.Background()
	s, _ := openClocked(t)
	job := quarry.NewID(quarry.EntityJob, "airflow", "load")
	byTarget := map[string][]quarry.Edge{}
	add := func(e quarry.Edge) { byTarget[e.To] = append(byTarget[e.To], e) }
	for _, e := range []quarry.Edge{
		edge("a", "b", quarry.OriginCatalog),
		colEdge("a", "id", "b", "id", quarry.OriginCatalog),
		colEdge("a", `we"ird\`, "b", "ünïcödé <&>", quarry.OriginCatalog),
		colEdge("a", "nul\x00name", "b", "x", quarry.OriginCatalog), // a key edgeKey cannot split
		{From: lid("a"), To: lid("c"), FromColumn: "flag", Origin: quarry.OriginCatalog, Transformation: "INDIRECT/FILTER"},
		{From: lid("c"), To: lid("a"), Origin: quarry.OriginCatalog}, // a cycle
	} {
		add(e)
	}
	tricky := colEdge("a", "t", "b", "t", quarry.OriginCatalog)
	tricky.Transformation = `DIRECT/"QUOTED"\ \u00e9`
	add(tricky)
	mustReplace(t, s, quarry.OriginCatalog, byTarget)
	run := edge("a", "b", quarry.OriginRun)
	run.JobID = job
	mustReplace(t, s, quarry.OriginRun, map[string][]quarry.Edge{lid("b"): {run}})

	var want []quarry.Edge
	for _, id := range []string{lid("a"), lid("b"), lid("c")} {
		want = append(want, mustEdges(t, s, id, false)...)
	}
	got := allEdges(t, s)
	if g, w := withoutTime(got), withoutTime(want); !slices.Equal(g, w) {
		t.Fatalf("EachEdge:\n got  %+v\n want %+v", g, w)
	}
	for _, e := range got {
		if !e.UpdatedAt.IsZero() {
			t.Fatalf("EachEdge read UpdatedAt of %+v", e)
		}
	}

	t.Run("ErrStops", func(t *testing.T) {
		n := 0
		stop := fmt.Errorf("stop")
		err := s.EachEdge(ctx, func(*quarry.Edge) error {
			n++
			return stop
		})
		if err != stop || n != 1 {
			t.Fatalf("EachEdge = %v after %d calls, want the callback's error after 1", err, n)
		}
	})

	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.EachEdge(ctx, func(*quarry.Edge) error { return nil }); err != context.Canceled {
			t.Fatalf("EachEdge = %v, want context.Canceled", err)
		}
	})
}

// TestEachEdgeChunks scans more edges than one read transaction takes.
func TestEachEdgeChunks(t *testing.T) {
	s, _ := openClocked(t)
	const targets, per = 100, 200 // 20,000 edges: more than one chunk
	byTarget := map[string][]quarry.Edge{}
	for i := range targets {
		to := lid(fmt.Sprintf("t%d", i))
		for j := range per {
			byTarget[to] = append(byTarget[to], quarry.Edge{From: lid(fmt.Sprintf("s%d", j)), To: to, Origin: quarry.OriginCatalog})
		}
	}
	mustReplace(t, s, quarry.OriginCatalog, byTarget)
	got := allEdges(t, s)
	if len(got) != targets*per {
		t.Fatalf("EachEdge gave %d edges, want %d", len(got), targets*per)
	}
	seen := map[[2]string]bool{}
	for i, e := range got {
		if seen[[2]string{e.From, e.To}] {
			t.Fatalf("edge %d %s -> %s seen twice", i, e.From, e.To)
		}
		seen[[2]string{e.From, e.To}] = true
		if i > 0 && e.From+e.To < got[i-1].From+got[i-1].To {
			t.Fatalf("edge %d out of key order", i)
		}
	}
}

func TestIdentity(t *testing.T) {
	ctx := context.Background()
	s, clock := openClocked(t)
	inv := invoice()
	ids := mustUpsert(t, s, inv, quarry.Dataset{Namespace: shopNS, Name: "shop.public.users"})

	t.Run("OK", func(t *testing.T) {
		got, err := s.Identity(ctx, quarry.EntityDataset, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		want := quarry.Identity{Entity: quarry.EntityDataset, ID: ids[0], Namespace: shopNS, Name: "shop.public.invoices"}
		if got != want {
			t.Fatalf("Identity = %+v, want %+v", got, want)
		}
	})

	if err := s.MarkRemoved(ctx, clock.Advance(time.Hour), ids[1]); err != nil {
		t.Fatal(err)
	}

	t.Run("Removed", func(t *testing.T) {
		got, err := s.Identity(ctx, quarry.EntityDataset, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		if !got.Removed || got.Name != "shop.public.users" {
			t.Fatalf("Identity = %+v, want users, removed", got)
		}
	})

	t.Run("Each", func(t *testing.T) {
		var got []quarry.Identity
		if err := s.EachIdentity(ctx, quarry.EntityDataset, func(id quarry.Identity) error {
			got = append(got, id)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := []quarry.Identity{
			{Entity: quarry.EntityDataset, ID: ids[0], Namespace: shopNS, Name: "shop.public.invoices"},
			{Entity: quarry.EntityDataset, ID: ids[1], Namespace: shopNS, Name: "shop.public.users", Removed: true},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("EachIdentity:\n got  %+v\n want %+v", got, want)
		}
		n := 0
		if err := s.EachIdentity(ctx, quarry.EntityJob, func(quarry.Identity) error { n++; return nil }); err != nil || n != 0 {
			t.Fatalf("EachIdentity of jobs in a store without any: %d, %v", n, err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Identity(ctx, quarry.EntityDataset, lid("shop.public.nothing"))
		assertCode(t, err, quarry.ENOTFOUND, "")
		_, err = s.Identity(ctx, quarry.EntityJob, quarry.NewID(quarry.EntityJob, "airflow", "nothing"))
		assertCode(t, err, quarry.ENOTFOUND, "")
	})

	t.Run("ErrEntity", func(t *testing.T) {
		_, err := s.Identity(ctx, "source", ids[0])
		assertCode(t, err, quarry.EINVALID, "entity")
		err = s.EachIdentity(ctx, "source", func(quarry.Identity) error { return nil })
		assertCode(t, err, quarry.EINVALID, "entity")
	})
}

// DatasetCount is how many datasets EachIdentity names, removed ones
// included: what a lineage graph's load sizes itself by.
func TestDatasetCount(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	ids := mustUpsert(t, s, orders(1), orders(2), orders(3))
	if err := s.MarkRemoved(ctx, time.Now(), ids[1]); err != nil {
		t.Fatal(err)
	}
	named := 0
	if err := s.EachIdentity(ctx, quarry.EntityDataset, func(quarry.Identity) error { named++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DatasetCount(ctx); err != nil || n != named || n != 3 {
		t.Fatalf("DatasetCount = %d, %v; EachIdentity named %d", n, err, named)
	}
}

package search_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// TestAPauseInWritesCompactsTheIndex: written while nothing merges by
// compact's plans (as while the follower is behind), the index merges as
// bulkPlan does (up to 100 segments a size tier); once the follower keeps
// up with the writes, Run merges it by writePlan (up to ten a tier), and
// once they pause, to one a tier, which searches pay less for. With a
// smallest tier of one document, 60 datasets written one at a time are
// tiers of 1, 10 and 100 documents.
func TestAPauseInWritesCompactsTheIndex(t *testing.T) {
	search.SetMergeFloorForTest(t, 1)
	ctx := t.Context()
	st := storetest.MustOpen(t, &store.Options{Logger: quiet, NoSync: true})
	idx, err := search.Open(ctx, t.TempDir(), st, &search.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	n := 0
	write := func() {
		t.Helper()
		mustUpsert(t, st, quarry.Dataset{Namespace: "postgres://db:5432", Name: fmt.Sprintf("crm.public.t%02d", n)})
		n++
		if err := idx.CatchUp(ctx); err != nil { // a segment each
			t.Fatal(err)
		}
	}
	for range 60 {
		write()
	}
	bulk, writing, compacted := search.MergeBudgetsForTest(int64(n))
	if !(compacted < writing && writing < bulk) {
		t.Fatalf("the plans leave %d, %d and %d segments of %d documents: the test needs fewer each", bulk, writing, compacted, n)
	}
	settled := func() int {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); idx.Settling(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the index still merges after 20 s")
			}
		}
		return idx.SegmentsForTest()
	}
	if got := settled(); got <= writing || got > bulk {
		t.Fatalf("written without Run, the index has %d segments; bulkPlan leaves %d at most, writePlan %d", got, bulk, writing)
	}

	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { idx.Run(ctx2); close(done) }()
	defer func() { cancel(); <-done }()
	// Writes every 100 ms, caught up at once: no pause for compact. Up to
	// 90 segments, bulkPlan would merge none.
	for {
		write()
		_, writing, _ := search.MergeBudgetsForTest(int64(n))
		if got := idx.SegmentsForTest(); got <= writing+1 { // the last write's segment may be new
			break
		}
		if n == 90 {
			t.Fatalf("written as Run keeps up, the index still has %d segments of %d documents; writePlan leaves %d", idx.SegmentsForTest(), n, writing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, _, compacted = search.MergeBudgetsForTest(int64(n))
	waitFor(t, 20*time.Second, func() bool { return idx.SegmentsForTest() <= compacted })
	res, err := idx.Search(ctx, search.Query{})
	if err != nil || res.Total != n {
		t.Fatalf("after compacting, the index holds %d datasets (%v), want %d", res.Total, err, n)
	}
}

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

// TestAPauseInWritesCompactsTheIndex: while writes come, the index merges
// as bleve's default plan does (up to ten segments a size tier); once they
// pause, Run merges it to one a tier, which searches pay less for. With a
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
	const n = 60
	for i := range n {
		mustUpsert(t, st, quarry.Dataset{Namespace: "postgres://db:5432", Name: fmt.Sprintf("crm.public.t%02d", i)})
		if err := idx.CatchUp(ctx); err != nil { // a segment each
			t.Fatal(err)
		}
	}
	writing, compacted := search.MergeBudgetsForTest(n)
	if compacted >= writing {
		t.Fatalf("the plans leave %d and %d segments of %d documents: the test needs the second fewer", writing, compacted, n)
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
	if got := settled(); got <= compacted || got > writing {
		t.Fatalf("written without Run, the index has %d segments; bleve's plan leaves %d at most, compact's %d", got, writing, compacted)
	}

	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { idx.Run(ctx2); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 20*time.Second, func() bool { return idx.SegmentsForTest() <= compacted })
	res, err := idx.Search(ctx, search.Query{})
	if err != nil || res.Total != n {
		t.Fatalf("after compacting, the index holds %d datasets (%v), want %d", res.Total, err, n)
	}
}

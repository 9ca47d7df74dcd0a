package search_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// blockWords are the words of the block-skipping test's catalog, the
// first the most common.
var blockWords = strings.Fields("customer order revenue status invoice payment region product account event")

// blockDataset is dataset i of that catalog: names of one to four words
// (a name's length weighs its score, so scores differ), the same name in
// several namespaces (so some tie exactly), words in descriptions and
// columns, every seventh a view.
func blockDataset(i int, version int) quarry.Dataset {
	r := rand.New(rand.NewPCG(uint64(i), uint64(version)))
	word := func() string { return blockWords[min(r.IntN(len(blockWords)), r.IntN(len(blockWords)))] }
	parts := make([]string, 1+r.IntN(4))
	for j := range parts {
		parts[j] = word()
	}
	prefix := []string{"", "fct_", "dim_", "stg_"}[r.IntN(4)]
	d := quarry.Dataset{
		Namespace: fmt.Sprintf("pg://db%d", i),
		Name:      fmt.Sprintf("s%d.%s%s", i%3, prefix, strings.Join(parts, "_")),
		Kind:      quarry.KindTable,
		Provided:  quarry.Metadata{Description: fmt.Sprintf("One row per %s and %s, by %s.", word(), word(), word())},
	}
	if i%7 == 6 {
		d.Kind = quarry.KindView
	}
	for j := range 2 + r.IntN(4) {
		d.Columns = append(d.Columns, quarry.Column{Name: fmt.Sprintf("%s_%d", word(), j), Type: "text"})
	}
	return d
}

// A tiered search skips the blocks of documents that cannot beat the page
// it holds (blockmax.go): each page is still the whole query's, hit for
// hit and score for score, over several segments, deleted documents,
// filters and later pages.
func TestBlockSkippingIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 9,000 datasets")
	}
	ctx := context.Background()
	st := storetest.MustOpen(t, &store.Options{NoSync: true})
	upsert := func(from, to, version int) {
		t.Helper()
		var batch []quarry.Dataset
		for i := from; i < to; i++ {
			batch = append(batch, blockDataset(i, version))
			if len(batch) == 1000 || i == to-1 {
				if _, err := st.UpsertDatasets(ctx, batch); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	upsert(0, 8000, 0)
	idx, err := search.Open(ctx, t.TempDir(), st, &search.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	idx.SetRebuildBatchForTest(3000) // three segments
	if err := idx.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	// Renamed ones (the old documents deleted), and new ones: a segment
	// more.
	upsert(2000, 2600, 1)
	upsert(8000, 9000, 0)
	if err := idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	queries := []string{"customer", "order", "revenue", "status", "invoice", "customer order", "revenue region", "order status", "payment", "cust", "ord", "reven", "regio", "fct_cust"}
	pages := []search.Query{{First: 1}, {First: 5, Facets: true}, {First: 20}, {First: 20, After: "20"}, {First: 10, Facets: true, Filter: search.Filter{Kinds: []string{"VIEW"}}}}
	wholeCtx := search.WithTierMinForTest(ctx, -1)
	tieredCtx, skipped := search.WithBlocksSkippedForTest(search.WithTierMinForTest(ctx, 0))
	for _, text := range queries {
		for _, p := range pages {
			q := p
			q.Text = text
			// A merge in the background renumbers documents, and among
			// those that tie the first found changes: a page is compared
			// with the whole query's on the same segments.
			var want, got *search.Results
			for try := 0; ; try++ {
				before := idx.SegmentsForTest()
				if want, err = idx.Search(wholeCtx, q); err != nil {
					t.Fatal(err)
				}
				if got, err = idx.Search(tieredCtx, q); err != nil {
					t.Fatal(err)
				}
				if idx.SegmentsForTest() == before || try == 20 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if !slices.EqualFunc(got.Hits, want.Hits, func(a, b search.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) || got.HasNext != want.HasNext {
				t.Errorf("%q first %d after %q %v: tiered page %v %v, want %v %v", text, q.First, q.After, q.Filter.Kinds, names(got.Hits), scores(got.Hits), names(want.Hits), scores(want.Hits))
			}
			// Not tiered (a prefix; skipped still), the counts are exact.
			if !got.Approximate && (got.Total != want.Total || !reflect.DeepEqual(got.Facets, want.Facets)) {
				t.Errorf("%q first %d %v: total %d facets %v, want %d %v", text, q.First, q.Filter.Kinds, got.Total, got.Facets, want.Total, want.Facets)
			}
		}
	}
	if skipped.Load() == 0 {
		t.Error("no block was skipped: the test checks nothing")
	}
	t.Logf("%d blocks skipped", skipped.Load())
}

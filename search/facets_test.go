package search_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// TestFacetsExact checks the facets that Search counts against bleve's
// own facet builder while datasets are added over several index batches
// (so several segments, some merged), edited, removed and restored.
func TestFacetsExact(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(vs ...string) string { return vs[r.IntN(len(vs))] }
	var ids []string
	queries := []search.Query{
		{}, {Text: "orders"}, {Text: "customer revenue"}, {Text: "events"},
		{Text: "orders", Filter: search.Filter{Tags: []string{"pii"}}},
		{Text: "", Filter: search.Filter{IncludeRemoved: true}},
		{Text: "customer", Filter: search.Filter{IncludeRemoved: true, Kinds: []string{"VIEW"}}},
		{Filter: search.Filter{Tags: []string{"gold"}}},
	}
	for round := range 8 {
		var batch []quarry.Dataset
		for i := range 40 {
			n := round*40 + i
			d := quarry.Dataset{
				Namespace: fmt.Sprintf("postgres://db%d:5432", r.IntN(4)),
				Name:      fmt.Sprintf("%s.%s.%s_%d", pick("dw", "crm"), pick("sales", "ops", "marts"), pick("orders", "customer_revenue", "events"), n),
				Kind:      quarry.DatasetKind(pick("TABLE", "VIEW")),
				Provided: quarry.Metadata{
					Owners: []string{fmt.Sprintf("team:%d", r.IntN(30))}, // more than a facet shows
					Tags:   []string{pick("pii", "tier1", "gold")},
				},
			}
			if r.IntN(3) == 0 {
				d.Provided.Tags = append(d.Provided.Tags, pick("finance", "pii"))
			}
			batch = append(batch, d)
		}
		res, err := c.st.UpsertDatasets(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.IDs...)
		for range 10 { // edits land in later index batches than the datasets
			owners := []string{fmt.Sprintf("team:%d", r.IntN(30)), "team:edited"}
			if _, err := c.st.UpdateDataset(ctx, ids[r.IntN(len(ids))], quarry.DatasetUpdate{Owners: &owners}); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.st.MarkRemoved(ctx, time.Now(), ids[r.IntN(len(ids))], ids[r.IntN(len(ids))]); err != nil {
			t.Fatal(err)
		}
		if err := c.st.Restore(ctx, ids[r.IntN(len(ids))]); err != nil {
			t.Fatal(err)
		}
		if err := c.idx.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		for _, q := range queries {
			q.Facets = true
			var res *search.Results
			// Counted hit by hit, and through the values' bitmaps (as a
			// segment's thousands of hits are).
			for _, bits := range []bool{false, true} {
				c.idx.CountFacetsByBitmapsForTest(bits)
				var err error
				if res, err = c.idx.Search(ctx, q); err != nil {
					t.Fatal(err)
				}
				want, err := c.idx.BleveFacetsForTest(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(res.Facets, want) {
					t.Fatalf("round %d, %+v, through bitmaps %v:\n got %v\nwant %v", round, q, bits, res.Facets, want)
				}
				if len(want[0].Buckets) == 0 && res.Total > 0 {
					t.Fatalf("round %d, %+v: no namespace buckets for %d hits", round, q, res.Total)
				}
			}
			kinds := 0 // one kind per dataset
			for _, b := range res.Facets[3].Buckets {
				kinds += b.Count
			}
			if kinds != res.Total {
				t.Fatalf("round %d, %+v: %d hits, %d by kind", round, q, res.Total, kinds)
			}
			if q.Text == "" && len(q.Filter.Tags) == 1 {
				if tags := res.Facets[4].Buckets; res.Total == 0 || !slices.Contains(tags, search.Bucket{Value: "gold", Count: res.Total}) {
					t.Fatalf("round %d: the filter by tag: %d hits, tags %v", round, res.Total, tags)
				}
			}
		}
	}
}

// TestNameOrderExact checks that an empty query lists datasets in the
// order bleve's sort on their names' doc values gives, page by page, while
// datasets (some with the same name in several namespaces) are added over
// several index batches, renamed by edits and removed.
func TestNameOrderExact(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	var ids []string
	for round := range 6 {
		var batch []quarry.Dataset
		inBatch := map[string]bool{}
		for len(batch) < 30 {
			d := quarry.Dataset{
				Namespace: fmt.Sprintf("postgres://db%d:5432", r.IntN(3)),
				Name:      fmt.Sprintf("dw.s%d.t_%d", r.IntN(3), r.IntN(40)), // the same names recur
				Kind:      quarry.KindTable,
				Provided:  quarry.Metadata{Tags: []string{[]string{"pii", "gold"}[r.IntN(2)]}},
			}
			if !inBatch[d.Namespace+d.Name] {
				inBatch[d.Namespace+d.Name] = true
				batch = append(batch, d)
			}
		}
		res, err := c.st.UpsertDatasets(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.IDs...)
		if err := c.st.MarkRemoved(ctx, time.Now(), ids[r.IntN(len(ids))]); err != nil {
			t.Fatal(err)
		}
		if err := c.idx.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		for _, f := range []search.Filter{{}, {Tags: []string{"gold"}}, {IncludeRemoved: true}} {
			for _, after := range []string{"", "7", "40", "150"} {
				for _, facets := range []bool{false, true} {
					q := search.Query{Filter: f, First: 7, After: after, Facets: facets}
					res, err := c.idx.Search(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, h := range res.Hits {
						got = append(got, h.ID)
					}
					want, err := c.idx.BleveOrderForTest(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("round %d, %+v:\n got %v\nwant %v", round, q, got, want)
					}
				}
			}
		}
	}
}

// TestFilterByColumns checks that a filtered search that checks a text
// search's hits against the facet columns (as it does where the filter is
// wide; here, always) finds,
// scores, orders, counts and facets what bleve's conjunction of the text
// and the filter does, over several index segments, and that a filter
// does not change the scores of the hits it keeps.
func TestFilterByColumns(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	words := []string{"orders", "customer", "revenue", "payments", "events"}
	for batch := range 3 { // more segments
		var ds []quarry.Dataset
		for i := range 60 {
			n := batch*60 + i
			ds = append(ds, quarry.Dataset{
				Namespace: fmt.Sprintf("postgres://filter-%d:5432", n%3), Name: fmt.Sprintf("db%d.s%d.%s_%s_%d", n%2, n%4, words[n%5], words[(n/5)%5], n),
				Kind:     []quarry.DatasetKind{quarry.KindTable, quarry.KindView}[n%2],
				Provided: quarry.Metadata{Tags: []string{[]string{"pii", "finance", "tier1"}[n%3], []string{"gold", "pii"}[n%2]}, Owners: []string{fmt.Sprintf("team:t%d", n%7)}},
				Columns:  []quarry.Column{{Name: words[(n+1)%5] + "_id", Type: "int"}, {Name: "amount", Type: "numeric"}},
			})
		}
		mustUpsert(t, c.st, ds...)
		if err := c.idx.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	filters := []search.Filter{
		{Kinds: []string{"VIEW"}},
		{Tags: []string{"pii"}},
		{Tags: []string{"finance", "gold"}, Schemas: []string{"s1", "s2"}},
		{Owners: []string{"team:t3"}},
		{Namespaces: []string{"postgres://filter-1:5432"}, Kinds: []string{"TABLE"}},
		{Databases: []string{"db0"}, Tags: []string{"nobody-has-this"}},
		{Kinds: []string{"TABLE", "VIEW"}, IncludeRemoved: true},
	}
	checked := 0
	for _, f := range filters { // no text: listed by name, and scored (JSON has no NaN)
		res, err := c.idx.Search(ctx, search.Query{Filter: f, First: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			if math.IsNaN(h.Score) || math.IsInf(h.Score, 0) {
				t.Fatalf("%+v: %s scores %g", f, h.ID, h.Score)
			}
		}
	}
	for _, text := range []string{"orders", "customer revenue", "amount", "id", "ord", "paymnets", "zzz"} {
		unfiltered, err := c.idx.Search(ctx, search.Query{Text: text, First: 100})
		if err != nil {
			t.Fatal(err)
		}
		scores := map[string]float64{}
		for _, h := range unfiltered.Hits {
			scores[h.ID] = h.Score
		}
		for _, f := range filters {
			q := search.Query{Text: text, Filter: f, First: 100, Facets: true, NoMatches: true}
			got, err := c.idx.SearchFilteredForTest(ctx, q, "columns")
			if err != nil {
				t.Fatal(err)
			}
			want, err := c.idx.SearchFilteredForTest(ctx, q, "conjunction")
			if err != nil {
				t.Fatal(err)
			}
			auto, err := c.idx.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for way, res := range map[string]*search.Results{"columns": got, "as it chose": auto} {
				if msg := sameResults(res, want); msg != "" {
					t.Fatalf("%q %+v: by %s, %s", text, f, way, msg)
				}
			}
			for _, h := range got.Hits {
				if s, ok := scores[h.ID]; ok && math.Abs(h.Score-s) > 1e-9*s {
					t.Fatalf("%q %+v: %s scores %g filtered, %g unfiltered", text, f, h.ID, h.Score, s)
				}
			}
			checked += got.Total
		}
	}
	if checked < 200 {
		t.Fatalf("%d filtered hits in all: the test tests little", checked)
	}
}

// sameResults says how a differs from b ("": in nothing): the same total,
// facets and hits with the same scores, in the same order but for hits of
// equal scores, which come in index order, and bleve's merging of segments
// may change that between two searches (so a page ending in a tie may end
// in other hits).
func sameResults(a, b *search.Results) string {
	if a.Total != b.Total || len(a.Hits) != len(b.Hits) || !reflect.DeepEqual(a.Facets, b.Facets) {
		return fmt.Sprintf("%d hits, facets %v; want %d, %v", a.Total, a.Facets, b.Total, b.Facets)
	}
	byScore := func(hits []search.Hit) []search.Hit {
		return slices.SortedFunc(slices.Values(hits), func(a, b search.Hit) int {
			return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
		})
	}
	as, bs := byScore(a.Hits), byScore(b.Hits)
	if a.HasNext && len(as) > 0 { // the page's last score may go on past it, in either order
		last := as[len(as)-1].Score
		for len(as) > 0 && as[len(as)-1].Score == last {
			as, bs = as[:len(as)-1], bs[:len(bs)-1]
		}
	}
	for i := range as {
		if as[i].ID != bs[i].ID || math.Abs(as[i].Score-bs[i].Score) > 1e-9*bs[i].Score || math.Abs(a.Hits[i].Score-b.Hits[i].Score) > 1e-9*b.Hits[i].Score {
			return fmt.Sprintf("hit %d is %s (%g); want %s (%g)", i, as[i].ID, as[i].Score, bs[i].ID, bs[i].Score)
		}
	}
	return ""
}

// A running index builds the facet columns of its segments before a
// search asks (the first search after a start or a merge waited 200 ms
// for them at a million datasets).
func TestRunBuildsFacetColumnsAhead(t *testing.T) {
	ctx := context.Background()
	st := storetest.MustOpen(t, &store.Options{NoSync: true})
	if _, err := st.UpsertDatasets(ctx, []quarry.Dataset{{Namespace: "pg://db", Name: "shop.orders", Kind: quarry.KindTable}}); err != nil {
		t.Fatal(err)
	}
	idx := openCaughtUp(t, st)
	if n := idx.FacetSegmentsForTest(); n != 0 {
		t.Fatalf("%d segments' columns built before Run", n)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { idx.Run(rctx); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); idx.FacetSegmentsForTest() == 0 || idx.FacetSegmentsForTest() < idx.SegmentsForTest(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s of Run, %d of %d segments' facet columns built", idx.FacetSegmentsForTest(), idx.SegmentsForTest())
		}
	}
}

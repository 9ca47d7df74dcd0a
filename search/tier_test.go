package search_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
)

// tieredQueries are words that many of the judged catalog's datasets
// have, searched by tiers when forced to (the catalog is too small for it
// otherwise): each page must be the one the whole query finds.
var tieredQueries = []string{
	"customer", "customers", "id", "order", "film", "sales", "product", "name", "date", "payment", "cust", "stg", "address", "amount", "status",
	"customer orders", "film actor", "order items", "sales order", "product category", "customer address", "customer id", "order status", "sales order detail",
}

// checkTiered runs each query whole and in tiers and fails when a tiered
// page differs from the whole query's, hit for hit and score for score. It
// returns how many were tiered (said Approximate).
func checkTiered(t *testing.T, c *catalog, queries []string) int {
	t.Helper()
	ctx := context.Background()
	whole, tiered := search.WithTierMinForTest(ctx, -1), search.WithTierMinForTest(ctx, 0)
	n := 0
	for _, text := range queries {
		for _, first := range []int{1, 5, 10, 20} {
			q := search.Query{Text: text, First: first, Facets: true}
			want, err := c.idx.Search(whole, q)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.idx.Search(tiered, q)
			if err != nil {
				t.Fatal(err)
			}
			if want.Approximate {
				t.Errorf("%q: a search whole says its counts are approximate", text)
			}
			if got.Approximate {
				n++
				// A sample of the documents with the word: the whole
				// query's typos and prefixes are not in it, and the field
				// of all words stems a little more than the ranking does.
				if d := got.Total - want.Total; got.Total < len(got.Hits) || d*d > max(want.Total*want.Total/25, 25) {
					t.Errorf("%q: tiered total %d, want about %d", text, got.Total, want.Total)
				}
				if len(got.Facets) != len(want.Facets) || len(want.Facets) > 0 && len(got.Facets[0].Buckets) == 0 {
					t.Errorf("%q: tiered facets %v, want about %v", text, got.Facets, want.Facets)
				}
			} else if got.Total != want.Total {
				t.Errorf("%q: total %d, want %d (not said approximate)", text, got.Total, want.Total)
			}
			if !slices.EqualFunc(got.Hits, want.Hits, func(a, b search.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) || got.HasNext != want.HasNext {
				t.Errorf("%q, first %d: tiered page %v, want %v", text, first, hitIDs(got.Hits), hitIDs(want.Hits))
			}
		}
	}
	return n
}

func hitIDs(hits []search.Hit) []string {
	return hitsOf(hits, func(h search.Hit) string { return h.ID })
}

// hitsOf is what f says of each hit.
func hitsOf[T any](hits []search.Hit, f func(search.Hit) T) []T {
	out := make([]T, 0, len(hits))
	for _, h := range hits {
		out = append(out, f(h))
	}
	return out
}

func TestTieredSearchIsExact(t *testing.T) {
	c := newCatalog(t)
	if n := checkTiered(t, c, tieredQueries); n == 0 {
		t.Error("no search was tiered: the test checks nothing")
	} else {
		t.Logf("%d of %d searches tiered", n, 4*len(tieredQueries))
	}
}

// A query whose tier could not tell its page is searched whole the next
// time (without its tier), and finds the same page, total and facets.
func TestTierMissSearchesAlike(t *testing.T) {
	c := newCatalog(t)
	ctx := search.WithTierMinForTest(context.Background(), 0)
	for _, text := range tieredQueries {
		q := search.Query{Text: text, First: 10, Facets: true}
		before := c.idx.TierMissesForTest()
		first, err := c.idx.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		missed := c.idx.TierMissesForTest() > before
		again, err := c.idx.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if missed && (!slices.EqualFunc(again.Hits, first.Hits, func(a, b search.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) || again.Total != first.Total || !reflect.DeepEqual(again.Facets, first.Facets)) {
			t.Errorf("%q: after its tier missed, page %v (total %d), first %v (total %d)", text, hitIDs(again.Hits), again.Total, hitIDs(first.Hits), first.Total)
		}
	}
	if c.idx.TierMissesForTest() == 0 {
		t.Error("no tier missed: the test checks nothing")
	}
}

// tieredQuery is a query of tieredQueries that idx searches in tiers
// (said Approximate) in ctx, and its results.
func tieredQuery(t *testing.T, ctx context.Context, idx *search.Index) (search.Query, *search.Results) {
	t.Helper()
	for _, text := range tieredQueries {
		for _, first := range []int{1, 5, 10, 20} {
			q := search.Query{Text: text, First: first, Facets: true}
			res, err := idx.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if res.Approximate {
				return q, res
			}
		}
	}
	t.Fatal("no search was tiered: no count beside its page")
	return search.Query{}, nil
}

// A search's count beside its page (a tiered search's sample, a skipping
// search's total and facets) runs on a goroutine of its own: a panic
// there fails the search with an error, as one on the search's goroutine
// does, rather than ending the process; the next search answers as before.
func TestAPanicBesideThePageFailsTheSearch(t *testing.T) {
	c := newCatalog(t)
	ctx := search.WithTierMinForTest(context.Background(), 0)
	q, want := tieredQuery(t, ctx, c.idx)
	besides := 0
	c.idx.SetBesideForTest(func() {
		besides++
		panic("a bleve bug")
	})
	_, err := c.idx.Search(ctx, q)
	c.idx.SetBesideForTest(nil)
	if err == nil || !strings.Contains(err.Error(), "panic in the search index: a bleve bug") || besides == 0 {
		t.Fatalf("%q, a panic beside the page: %v (%d counts began)", q.Text, err, besides)
	}
	got, err := c.idx.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q after the panic: %+v, want %+v", q.Text, got, want)
	}
}

// panickyPages is a real store whose reads of a page's datasets panic
// while panics is set.
type panickyPages struct {
	*store.Store
	panics atomic.Bool
}

func (s *panickyPages) DatasetsByID(ctx context.Context, ids []string) ([]*quarry.Dataset, error) {
	if s.panics.Load() {
		panic("a store bug")
	}
	return s.Store.DatasetsByID(ctx, ids)
}

// A search whose page panics still waits for the count beside it before
// it lets go of the index: a rebuild's swap may close the index once no
// search holds it, and a count still reading it then would read
// unmapped segments.
func TestAPanickedPageWaitsForTheCountBesideIt(t *testing.T) {
	c := newCatalog(t)
	c.idx.Close()
	st := &panickyPages{Store: c.st}
	idx, err := search.Open(t.Context(), c.dir, st, &search.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	ctx := search.WithTierMinForTest(context.Background(), 0)
	q, _ := tieredQuery(t, ctx, idx)
	began, release := make(chan struct{}), make(chan struct{})
	var ended atomic.Bool
	idx.SetBesideForTest(func() {
		close(began)
		<-release
		ended.Store(true)
	})
	st.panics.Store(true)
	searched := make(chan error, 1)
	go func() {
		_, err := idx.Search(ctx, q)
		searched <- err
	}()
	<-began
	select {
	case err := <-searched: // the page panicked and the search ended with the count still running
		t.Fatalf("the search ended (%v) before the count beside its page", err)
	case <-time.After(500 * time.Millisecond): // long enough for a search to come back from a panic
	}
	close(release)
	if err := <-searched; err == nil || !strings.Contains(err.Error(), "a store bug") || !ended.Load() {
		t.Fatalf("after the count ended (%v): %v", ended.Load(), err)
	}
}

package search_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
)

// Searches that read their terms' postings decoded (hot.go) find the same
// pages, scored to the bit, with the same totals and the same matches (the
// page's search of them leaving out terms none of its hits has), as those
// that read them through zap: whole, tiered and skipping blocks, with datasets edited and
// removed since (deleted documents in older segments), and with a budget
// so small that every term is decoded again.
func TestHotPostingsSearchAsZap(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	page, err := c.st.ListDatasets(ctx, store.ListOptions{First: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range page.Datasets {
		id := d.ID
		switch i % 9 {
		case 0:
			desc := "Customer orders and revenue, edited."
			if _, err := c.st.UpdateDataset(ctx, id, quarry.DatasetUpdate{Description: &desc}); err != nil {
				t.Fatal(err)
			}
		case 4:
			if err := c.st.MarkRemoved(ctx, time.Now(), id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	modes := map[string]context.Context{
		"whole":  search.WithTierMinForTest(ctx, -1),
		"tiered": search.WithTierMinForTest(ctx, 0),
		"as is":  ctx,
	}
	type key struct{ mode, text string }
	run := func() map[key][]*search.Results {
		out := map[key][]*search.Results{}
		for mode, mctx := range modes {
			for _, text := range tieredQueries {
				for _, q := range []search.Query{{Text: text, First: 20}, {Text: text, First: 5, Facets: true}, {Text: text, First: 10, Filter: search.Filter{Kinds: []string{"TABLE"}}}} {
					res, err := c.idx.Search(mctx, q)
					if err != nil {
						t.Fatal(err)
					}
					out[key{mode, text}] = append(out[key{mode, text}], res)
				}
			}
		}
		return out
	}
	c.idx.SetHotPostingsForTest(-1, 0)
	want := run()
	for _, budget := range []int{1 << 30, 1} {
		c.idx.SetHotPostingsForTest(1, budget)
		for k, got := range run() {
			for i, g := range got {
				w := want[k][i]
				if !slices.EqualFunc(g.Hits, w.Hits, func(a, b search.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) || g.Total != w.Total || g.HasNext != w.HasNext {
					t.Fatalf("budget %d, %s %q #%d: page %v (total %d), want %v (total %d)", budget, k.mode, k.text, i, hitIDs(g.Hits), g.Total, hitIDs(w.Hits), w.Total)
				}
				for j := range g.Hits {
					if !reflect.DeepEqual(g.Hits[j].Matches, w.Hits[j].Matches) {
						t.Fatalf("budget %d, %s %q #%d, hit %s: matches %v, want %v", budget, k.mode, k.text, i, g.Hits[j].ID, g.Hits[j].Matches, w.Hits[j].Matches)
					}
				}
			}
		}
	}
}

// Searches at once share the decoded postings, decoding, keeping and
// evicting them (a budget of 64 KB) while others read: each finds what it
// finds alone. Run with -race, it also checks their locking.
func TestHotPostingsConcurrentSearches(t *testing.T) {
	c := newCatalog(t)
	ctx := search.WithTierMinForTest(context.Background(), 0)
	c.idx.SetHotPostingsForTest(-1, 0)
	want := map[string][]search.Hit{}
	for _, text := range tieredQueries {
		res, err := c.idx.Search(ctx, search.Query{Text: text, First: 10})
		if err != nil {
			t.Fatal(err)
		}
		want[text] = res.Hits
	}
	c.idx.SetHotPostingsForTest(1, 64<<10)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 3 * len(tieredQueries) {
				text := tieredQueries[(g+i)%len(tieredQueries)]
				res, err := c.idx.Search(ctx, search.Query{Text: text, First: 10})
				if err == nil && !slices.EqualFunc(res.Hits, want[text], func(a, b search.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) {
					err = fmt.Errorf("%q: page %v, want %v", text, hitIDs(res.Hits), hitIDs(want[text]))
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// The terms whose postings were decoded when the index closed are decoded
// again when it has opened, before a search asks; searches find the same.
func TestHotTermsWarmAfterARestart(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	c.idx.SetHotPostingsForTest(1, 1<<30)
	var before []*search.Results
	for _, text := range tieredQueries {
		res, err := c.idx.Search(ctx, search.Query{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, res)
	}
	kept := c.idx.HotTermsForTest()
	if kept == 0 {
		t.Fatal("no postings decoded: the test checks nothing")
	}
	if err := c.idx.Close(); err != nil {
		t.Fatal(err)
	}
	c.open(t)
	if n := c.idx.HotTermsForTest(); n != 0 {
		t.Fatalf("%d terms decoded before the index warmed", n)
	}
	c.idx.WarmForTest()
	if n := c.idx.HotTermsForTest(); n != kept {
		t.Fatalf("%d terms decoded after a restart, want the %d decoded before it", n, kept)
	}
	for i, text := range tieredQueries {
		res, err := c.idx.Search(ctx, search.Query{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(res.Hits, before[i].Hits, func(a, b search.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) {
			t.Fatalf("%q after a restart: %v, want %v", text, hitIDs(res.Hits), hitIDs(before[i].Hits))
		}
	}
}

package search_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// In a catalog where a word is in the columns of most datasets (more than
// a tenth, and more than 10,000 of them), a search of that one word scores
// where it says something: two tables named with it score alike whether
// their columns have it or not, and a prefix of it finds the names that
// start with it, not every dataset whose columns do.
func TestCommonWordScoresWhereItTellsSomething(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 12,000 datasets")
	}
	ctx := context.Background()
	st := storetest.MustOpen(t, &store.Options{NoSync: true})
	cols := func(names ...string) []quarry.Column {
		var out []quarry.Column
		for _, n := range names {
			out = append(out, quarry.Column{Name: n, Type: "bigint"})
		}
		return out
	}
	batch := []quarry.Dataset{
		{Namespace: "pg://db", Name: "shop.customer_accounts", Kind: quarry.KindTable, Columns: cols("customer_id", "opened_at")},
		{Namespace: "pg://db", Name: "shop.customer_balances", Kind: quarry.KindTable, Columns: cols("account_no", "balance")},
	}
	for i := range 12_000 {
		kind := quarry.KindTable
		if i%10 == 9 {
			kind = quarry.KindView
		}
		batch = append(batch, quarry.Dataset{Namespace: "pg://db", Name: fmt.Sprintf("shop.t%05d", i), Kind: kind, Columns: cols("customer_id", fmt.Sprintf("c%d", i%97))})
		if len(batch) >= 1000 {
			if _, err := st.UpsertDatasets(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := st.UpsertDatasets(ctx, batch); err != nil {
		t.Fatal(err)
	}
	idx := openCaughtUp(t, st)
	// Settled into one segment: a background merge between two searches
	// renumbers the documents, and among the thousands that score alike
	// the first ones are others.
	if err := idx.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	// In tiers (the first walks the clauses that score and the first
	// datasets that score 0), each page is the whole query's, filtered too
	// (a page of views: the first datasets are tables).
	for _, text := range []string{"customer", "customer_id", "shop", "cust", "id"} {
		for _, first := range []int{1, 2, 5, 20} {
			for _, f := range []search.Filter{{}, {Kinds: []string{"VIEW"}}} {
				q := search.Query{Text: text, First: first, Filter: f}
				want, err := idx.Search(search.WithTierMinForTest(ctx, -1), q)
				if err != nil {
					t.Fatal(err)
				}
				got, err := idx.Search(search.WithTierMinForTest(ctx, 0), q)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.EqualFunc(got.Hits, want.Hits, func(a, b search.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) || got.HasNext != want.HasNext {
					t.Errorf("%q %v, first %d: tiered page %v %v, want %v %v", text, f.Kinds, first, names(got.Hits), scores(got.Hits), names(want.Hits), scores(want.Hits))
				}
			}
		}
	}
	for _, tier := range []int{-1, 0} { // whole, and in tiers
		tctx := search.WithTierMinForTest(ctx, tier)
		res, err := idx.Search(tctx, search.Query{Text: "customer", First: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) < 2 || res.Hits[0].Score != res.Hits[1].Score || !slices.Contains(names(res.Hits[:2]), "shop.customer_accounts") || !slices.Contains(names(res.Hits[:2]), "shop.customer_balances") {
			t.Errorf("tier %d: customer: %v %v, want the two customer_ tables first, scored alike", tier, names(res.Hits), scores(res.Hits))
		}
		if res.Total != 12_002 {
			t.Errorf("tier %d: customer: total %d, want 12002 (every dataset has the word)", tier, res.Total)
		}
		res, err = idx.Search(tctx, search.Query{Text: "cust", First: 5})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(res.Hits); len(got) != 2 || !slices.Contains(got, "shop.customer_accounts") || !slices.Contains(got, "shop.customer_balances") {
			t.Errorf("tier %d: cust: %v (total %d), want the two names that start with it", tier, got, res.Total)
		}
		// So does the prefix being typed after another word.
		res, err = idx.Search(tctx, search.Query{Text: "shop cust", First: 5})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(res.Hits); len(got) != 2 || !slices.Contains(got, "shop.customer_accounts") || !slices.Contains(got, "shop.customer_balances") {
			t.Errorf("tier %d: shop cust: %v (total %d), want the two names with cust", tier, got, res.Total)
		}
		res, err = idx.Search(tctx, search.Query{Text: "id", First: 5})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 12_001 || len(res.Hits) != 5 {
			t.Errorf("tier %d: id: total %d, %d hits, want 12001 and a page", tier, res.Total, len(res.Hits))
		}
		// In tiers, a page of datasets that score 0 (id is in no name and
		// common where it is) is the first tier's, the total sampled.
		if res.Approximate != (tier == 0) {
			t.Errorf("tier %d: id: approximate %v", tier, res.Approximate)
		}
	}
}

func names(hits []search.Hit) []string {
	return hitsOf(hits, func(h search.Hit) string { return h.Dataset.Name })
}

func scores(hits []search.Hit) []float64 {
	return hitsOf(hits, func(h search.Hit) float64 { return h.Score })
}

// openCaughtUp opens an index of st in a temporary directory, closed when
// the test ends, with every dataset of st indexed.
func openCaughtUp(t *testing.T, st *store.Store) *search.Index {
	t.Helper()
	ctx := context.Background()
	idx, err := search.Open(ctx, t.TempDir(), st, &search.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	if err := idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	return idx
}

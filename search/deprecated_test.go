package search_test

import (
	"context"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// Of two datasets that match a query equally, the live one ranks first,
// with the higher score, whichever ranked first before the other was
// deprecated; its exact name still finds the deprecated one first.
func TestDeprecatedRanksBelowLive(t *testing.T) {
	ctx := context.Background()
	st := storetest.MustOpen(t, &store.Options{Logger: quiet, NoSync: true})
	twin := func(name string) quarry.Dataset {
		return quarry.Dataset{Namespace: "postgres://wh:5432", Name: name, Provided: quarry.Metadata{Description: "Monthly revenue per merchant."},
			Columns: []quarry.Column{{Name: "merchant_id", Ordinal: 1}, {Name: "revenue", Ordinal: 2}}}
	}
	mustUpsert(t, st, twin("wh.mart.merchant_revenue_a"))
	mustUpsert(t, st, twin("wh.mart.merchant_revenue_b"))
	c := &catalog{st: st, dir: t.TempDir()}
	c.open(t)
	q := search.Query{Text: "monthly revenue merchant"}
	hits := func() []search.Hit {
		t.Helper()
		res, err := c.idx.Search(ctx, q)
		if err != nil || len(res.Hits) != 2 {
			t.Fatalf("hits %+v %v", res, err)
		}
		return res.Hits
	}
	before := hits()
	if before[0].Score != before[1].Score {
		t.Fatalf("the twins score %v and %v", before[0].Score, before[1].Score)
	}
	first, second := before[0].ID, before[1].ID
	if _, err := st.UpdateDataset(ctx, first, quarry.DatasetUpdate{Deprecation: &quarry.DeprecationUpdate{Set: &quarry.Deprecation{ReplacementID: second}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	after := hits()
	if after[0].ID != second || after[1].ID != first || after[0].Score <= after[1].Score {
		t.Fatalf("after deprecating %s: %+v", first, after)
	}
	name := c.names(t, search.Query{Text: "wh.mart.merchant_revenue_a"})
	if len(name) == 0 || name[0] != "wh.mart.merchant_revenue_a" {
		t.Fatalf("by its name: %v", name)
	}
}

package search_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry/search"
)

// A typo finds a dataset whose description or columns have the word, not
// only those whose name has it: the demo has five datasets that speak of
// revenue.
func TestTypoInDescriptions(t *testing.T) {
	c := newCatalog(t)
	got := c.names(t, search.Query{Text: "reveneu"})
	for _, want := range []string{
		"analytics.reporting.daily_revenue",
		"analytics.reporting.monthly_revenue_by_category",
		"shop.public.orders",
		"finance/revenue_export.csv",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("reveneu: %v lacks %s", got, want)
		}
	}
	if len(got) < 5 {
		t.Errorf("reveneu: %d hits %v, want the 5 revenue datasets", len(got), got)
	}
	// The dataset named for it still comes first.
	if first := c.names(t, search.Query{Text: "daily reveneu"}); len(first) == 0 || first[0] != "analytics.reporting.daily_revenue" {
		t.Errorf("daily reveneu: %v", first)
	}
}

func TestDidYouMean(t *testing.T) {
	c := newCatalog(t)
	for _, tc := range []struct{ query, want string }{
		{"custmer_lifetme_value", "customer lifetime value"},
		{"revenue", ""}, // found: nothing to correct
	} {
		res, err := c.idx.Search(context.Background(), search.Query{Text: tc.query})
		if err != nil {
			t.Fatal(err)
		}
		if res.DidYouMean != tc.want {
			t.Errorf("%q (%d hits): did you mean %q, want %q", tc.query, res.Total, res.DidYouMean, tc.want)
		}
	}
}

func TestSortOrders(t *testing.T) {
	c := newCatalog(t)
	byName := c.names(t, search.Query{Text: "revenue", Sort: search.SortName})
	if len(byName) < 3 || !slices.IsSorted(byName) {
		t.Errorf("revenue by name: %v", byName)
	}
	ctx := context.Background()
	res, err := c.idx.Search(ctx, search.Query{Text: "revenue", Sort: search.SortUpdated})
	if err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for i, h := range res.Hits {
		d, err := c.st.Dataset(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		at := d.UpdatedAt
		if d.LastUpdatedAt != nil {
			at = *d.LastUpdatedAt
		}
		if i > 0 && at.Truncate(time.Second).After(last) {
			t.Errorf("revenue by update: %s (%v) after one updated %v", d.Name, at, last)
		}
		last = at.Truncate(time.Second)
	}
	if _, err := c.idx.Search(ctx, search.Query{Text: "revenue", Sort: "size"}); err == nil || !strings.Contains(err.Error(), "sort") {
		t.Errorf("sort by size: %v", err)
	}
}

package search_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
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
			res, err := c.idx.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := c.idx.BleveFacetsForTest(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Facets, want) {
				t.Fatalf("round %d, %+v:\n got %v\nwant %v", round, q, res.Facets, want)
			}
			if len(want[0].Buckets) == 0 && res.Total > 0 {
				t.Fatalf("round %d, %+v: no namespace buckets for %d hits", round, q, res.Total)
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

package search_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// TestPopularityRanking: of two datasets that match alike, the used one
// ranks first, whichever ranked first before; an exact name still beats a
// popular partial match; sort popularity orders every hit by use, and
// the unused by relevance.
func TestPopularityRanking(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	st := storetest.MustOpen(t, &store.Options{Logger: quiet, NoSync: true})
	ns := "postgres://wh:5432"
	twin := func(name string) quarry.Dataset {
		return quarry.Dataset{Namespace: ns, Name: name, Database: "wh", Provided: quarry.Metadata{Description: "Monthly revenue per merchant."},
			Columns: []quarry.Column{{Name: "merchant_id", Ordinal: 1}, {Name: "revenue", Ordinal: 2}}}
	}
	for _, n := range []string{"wh.mart.merchant_revenue_a", "wh.mart.merchant_revenue_b", "wh.mart.orders", "wh.mart.orders_archive"} {
		mustUpsert(t, st, twin(n))
	}
	c := &catalog{st: st, dir: t.TempDir()}
	c.open(t)
	pop := search.NewPopularity(st, func() time.Time { return now })
	c.idx.UsePopularity(pop)
	q := search.Query{Text: "monthly revenue merchant"}
	before := c.names(t, q)
	if len(before) != 4 {
		t.Fatalf("hits %v", before)
	}
	// Use the twin that ranked second, and the archive a lot.
	use := func(name string, reads int64, users ...string) {
		t.Helper()
		d := quarry.UsageDay{Reads: reads}
		for _, u := range users {
			d.Users = append(d.Users, quarry.UsageUser{Name: u, Calls: 1})
		}
		err := st.RecordUsage(ctx, ns, "wh", store.UsageRecord{Baseline: &store.UsageBaseline{}, Day: quarry.UsageDayOf(now),
			Datasets: map[string]quarry.UsageDay{quarry.NewID(quarry.EntityDataset, ns, name): d}})
		if err != nil {
			t.Fatal(err)
		}
	}
	isTwin := func(n string) bool { return n == "wh.mart.merchant_revenue_a" || n == "wh.mart.merchant_revenue_b" }
	twins := slices.DeleteFunc(slices.Clone(before), func(n string) bool { return !isTwin(n) })
	used := twins[1] // the twin that ranked second
	use(used, 50, "analyst_a")
	use("wh.mart.orders_archive", 100000, "a", "b", "c", "d", "e")
	pop.Invalidate()
	after := c.names(t, q)
	if got := slices.DeleteFunc(slices.Clone(after), func(n string) bool { return !isTwin(n) }); got[0] != used {
		t.Fatalf("the used twin %s is not above its equal: %v (before %v)", used, after, before)
	}
	if p, err := pop.Popularity(ctx, quarry.NewID(quarry.EntityDataset, ns, "wh.mart.orders_archive")); err != nil || p != 100 {
		t.Fatalf("the most used dataset's percentile is %v, %v", p, err)
	}
	if p, _ := pop.Popularity(ctx, quarry.NewID(quarry.EntityDataset, ns, used)); p != 50 {
		t.Fatalf("the second of two used datasets' percentile is %v", p)
	}
	if got := c.names(t, search.Query{Text: "orders"}); len(got) < 2 || got[0] != "wh.mart.orders" {
		t.Fatalf("orders: %v; the exact name must beat its popular namesake", got)
	}
	got := c.names(t, search.Query{Text: "monthly revenue merchant", Sort: search.SortPopularity})
	if len(got) != 4 || got[0] != "wh.mart.orders_archive" || got[1] != used {
		t.Fatalf("sorted by popularity: %v", got)
	}
	if got := c.names(t, search.Query{Sort: search.SortPopularity}); len(got) != 4 || got[0] != "wh.mart.orders_archive" {
		t.Fatalf("everything by popularity: %v", got)
	}
}

// relevanceUsage is the judged catalog's use (the usage kind of
// testdata/relevance.tsv): of the twins pagila and sakila hold, analysts
// read sakila's actor and pagila's inventory; film_category is read by
// everyone, to show that a popular partial match stays below an exact
// name (film).
var relevanceUsage = []struct {
	namespace, database, name string
	reads                     int64
	users                     int
}{
	{"mysql", "sakila", "sakila.actor", 500, 3},
	{"postgres", "pagila", "pagila.public.inventory", 200, 2},
	{"postgres", "pagila", "pagila.public.film_category", 1_000_000, 40},
	{"mysql", "sakila", "sakila.film_text", 1_000_000, 40},
}

// useRelevanceCatalog records relevanceUsage in the catalog's store, in
// the namespaces its crawls gave, and ranks its searches with popularity.
func useRelevanceCatalog(t *testing.T, c *catalog) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	for _, u := range relevanceUsage {
		ns := ""
		for _, n := range []string{"postgres", "mysql"} {
			if u.namespace != n {
				continue
			}
			res, err := c.idx.Search(ctx, search.Query{Text: u.name, First: 1})
			if err != nil || len(res.Hits) == 0 || res.Hits[0].Dataset.Name != u.name {
				t.Fatalf("%s: %+v %v", u.name, res, err)
			}
			ns = res.Hits[0].Dataset.Namespace
		}
		d := quarry.UsageDay{Reads: u.reads}
		for i := range u.users {
			d.Users = append(d.Users, quarry.UsageUser{Name: "analyst_" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Calls: 1})
		}
		err := c.st.RecordUsage(ctx, ns, u.database, store.UsageRecord{Baseline: &store.UsageBaseline{}, Day: quarry.UsageDayOf(now),
			Datasets: map[string]quarry.UsageDay{quarry.NewID(quarry.EntityDataset, ns, u.name): d}})
		if err != nil {
			t.Fatal(err)
		}
	}
	c.idx.UsePopularity(search.NewPopularity(c.st, nil))
}

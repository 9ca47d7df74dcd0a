package search_test

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/demo"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

var quiet = slog.New(slog.DiscardHandler)

// catalog is a real store holding the demo catalog, and its index on disk.
type catalog struct {
	st  *store.Store
	idx *search.Index
	dir string
}

func newCatalog(t testing.TB) *catalog {
	t.Helper()
	dir := t.TempDir()
	st := storetest.MustOpen(t, &store.Options{Logger: quiet, NoSync: true})
	// The demo's jobs too: dataset searches must not return them.
	if _, err := demo.Load(context.Background(), st, time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	c := &catalog{st: st, dir: filepath.Join(dir, "index")}
	c.open(t)
	return c
}

func (c *catalog) open(t testing.TB) {
	t.Helper()
	idx, err := search.Open(context.Background(), c.dir, c.st, &search.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	c.idx = idx
}

// names runs a search and returns the hits' dataset names.
func (c *catalog) names(t testing.TB, q search.Query) []string {
	t.Helper()
	res, err := c.idx.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range res.Hits {
		d, err := c.st.Dataset(context.Background(), h.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Name)
	}
	return out
}

func TestSearchDemo(t *testing.T) {
	c := newCatalog(t)
	for _, tc := range []struct{ query, first string }{
		// (two tables are named order_items: the shop's and its raw copy)
		{"daily_revenue", "analytics.reporting.daily_revenue"},
		{"revenue", "analytics.reporting.daily_revenue"},
		{"analytics.reporting.daily_revenue", "analytics.reporting.daily_revenue"},
		{"marts.fct_orders", "analytics.marts.fct_orders"},
		{"fctOrders", "analytics.marts.fct_orders"},
		{"order items", "analytics.raw.order_items|shop.public.order_items"},
		{"dialy_revenue", "analytics.reporting.daily_revenue"},
		{"order_events", "shop.order_events"},
		{"revenue_export", "finance/revenue_export.csv"},
	} {
		if got := c.names(t, search.Query{Text: tc.query}); len(got) == 0 || !slices.Contains(strings.Split(tc.first, "|"), got[0]) {
			t.Errorf("%q: first %v, want %s", tc.query, got[:min(3, len(got))], tc.first)
		}
	}
}

func TestSearchJobs(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	jobs := func(q string) []string {
		t.Helper()
		hits, err := c.idx.SearchJobs(ctx, q, 5)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			j, err := c.st.Job(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, j.Name)
		}
		return out
	}
	for _, tc := range []struct{ query, first string }{
		{"daily_revenue", "analytics.reporting.daily_revenue"},
		{"copy orders", "shop_to_warehouse.copy_orders"},
		{"dbt run", "dbt_run"},
		{"spreadsheet", "finance_export.revenue_csv"},                             // its description
		{"IAM_ROLE acme-staging categories", "shop_to_warehouse.copy_categories"}, // its SQL
	} {
		if got := jobs(tc.query); len(got) == 0 || got[0] != tc.first {
			t.Errorf("%q: %v, want %s first", tc.query, got, tc.first)
		}
	}
	if got := jobs(""); len(got) != 5 || got[0] > got[1] {
		t.Errorf("an empty query lists jobs by name: %v", got)
	}
	// Dataset searches leave jobs out, totals and facets included.
	res, err := c.idx.Search(ctx, search.Query{Text: "", First: 100, Facets: true})
	if err != nil || res.Total != len(demo.Datasets()) {
		t.Fatalf("an empty dataset search counts %d, want %d (%v)", res.Total, len(demo.Datasets()), err)
	}
}

func TestSearchInput(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	t.Run("EmptyListsByName", func(t *testing.T) {
		got := c.names(t, search.Query{Text: "   ", First: 5})
		if len(got) != 5 || !slices.IsSorted(got) {
			t.Fatalf("empty query: %v", got)
		}
	})
	t.Run("SyntaxIsText", func(t *testing.T) {
		for _, q := range []string{`+orders -users`, `name:orders`, `ord*`, `"unterminated`, `(revenue`, `~`, `a:b:c`, `\`, `/regex/`} {
			if _, err := c.idx.Search(ctx, search.Query{Text: q}); err != nil {
				t.Errorf("%q: %v", q, err)
			}
		}
	})
	t.Run("Paging", func(t *testing.T) {
		res, err := c.idx.Search(ctx, search.Query{Text: "orders", First: 3})
		if err != nil || len(res.Hits) != 3 || !res.HasNext || res.Total < 5 {
			t.Fatalf("page 1: %+v %v", res, err)
		}
		next, err := c.idx.Search(ctx, search.Query{Text: "orders", First: 3, After: res.EndCursor})
		if err != nil || len(next.Hits) == 0 || next.Hits[0].ID == res.Hits[0].ID {
			t.Fatalf("page 2: %+v %v", next, err)
		}
		big, _ := c.idx.Search(ctx, search.Query{First: 5000})
		if len(big.Hits) > 100 {
			t.Fatalf("first is not capped: %d hits", len(big.Hits))
		}
		for _, after := range []string{"x", "-1", "10001", "9223372036854775807"} {
			if _, err := c.idx.Search(ctx, search.Query{After: after}); quarry.ErrorCode(err) != quarry.EINVALID {
				t.Fatalf("cursor %q: %v", after, err)
			}
		}
	})
	t.Run("Limits", func(t *testing.T) {
		if _, err := c.idx.Search(ctx, search.Query{Text: strings.Repeat("revenue ", 200)}); quarry.ErrorCode(err) != quarry.EINVALID {
			t.Fatalf("a 1600-byte query: %v", err)
		}
		start := time.Now()
		for _, q := range []string{strings.Repeat("x", 999), "\xff\xfe revenue", "İstanbul ǅǆǄ ßßßßßßßß", "a\x00b"} {
			if _, err := c.idx.Search(ctx, search.Query{Text: q}); err != nil {
				t.Fatalf("%.20q: %v", q, err)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("odd queries took %v", d)
		}
	})
	t.Run("FiltersAndFacets", func(t *testing.T) {
		res, err := c.idx.Search(ctx, search.Query{Text: "orders", Filter: search.Filter{Kinds: []string{"VIEW"}}})
		if err != nil || len(res.Hits) == 0 {
			t.Fatalf("%+v %v", res, err)
		}
		for _, n := range c.names(t, search.Query{Text: "orders", Filter: search.Filter{Kinds: []string{"VIEW"}}}) {
			if !strings.Contains(n, "staging") {
				t.Fatalf("a non-view passed the kind filter: %s", n)
			}
		}
		res, _ = c.idx.Search(ctx, search.Query{Facets: true})
		counts := map[string]map[string]int{}
		for _, f := range res.Facets {
			counts[f.Field] = map[string]int{}
			for _, b := range f.Buckets {
				counts[f.Field][b.Value] = b.Count
			}
		}
		if counts["kind"]["VIEW"] != 6 || counts["database"]["billing"] != 4 || counts["namespace"]["postgres://shop-db.internal:5432"] != 15 || counts["schema"]["marts"] != 6 || counts["tags"]["pii"] == 0 {
			t.Fatalf("facets: %v", counts)
		}
	})
	t.Run("Matches", func(t *testing.T) {
		res, _ := c.idx.Search(ctx, search.Query{Text: "acquisition_channel"})
		if len(res.Hits) == 0 {
			t.Fatal("no hit")
		}
		var col bool
		for _, m := range res.Hits[0].Matches {
			if m.Field == "column" && strings.Contains(m.Text, "<mark>") {
				col = true
			}
		}
		if !col {
			t.Fatalf("the column match is not shown: %+v", res.Hits[0].Matches)
		}
	})
}

func TestIndexFollowsTheStore(t *testing.T) {
	c := newCatalog(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.idx.Run(ctx)

	id := mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: "crm.public.prospects", Provided: quarry.Metadata{Description: "Leads from the website."}})
	// Searchable within a second of the commit.
	waitFor(t, time.Second, func() bool {
		return slices.Contains(c.names(t, search.Query{Text: "prospects"}), "crm.public.prospects")
	})

	// A person's edit is searchable too, and removal hides the dataset.
	desc := "Sales leads, scored nightly."
	if _, err := c.st.UpdateDataset(ctx, id, quarry.DatasetUpdate{Description: &desc}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool {
		return slices.Contains(c.names(t, search.Query{Text: "scored leads"}), "crm.public.prospects")
	})
	if err := c.st.MarkRemoved(ctx, time.Now(), id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, func() bool {
		return !slices.Contains(c.names(t, search.Query{Text: "prospects"}), "crm.public.prospects")
	})
	if got := c.names(t, search.Query{Text: "prospects", Filter: search.Filter{IncludeRemoved: true}}); !slices.Contains(got, "crm.public.prospects") {
		t.Fatalf("includeRemoved: %v", got)
	}
}

func TestIndexReopenAndRebuild(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	seq, _ := c.st.LastSeq(ctx)
	if c.idx.Applied() != seq {
		t.Fatalf("applied %d, store at %d", c.idx.Applied(), seq)
	}
	c.idx.Close()
	// Writes while the index is closed are caught up on open.
	mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: "crm.public.prospects"})
	c.open(t)
	if got := c.names(t, search.Query{Text: "prospects"}); len(got) == 0 {
		t.Fatal("a write made while the index was closed is missing")
	}
	// A corrupt or missing index is rebuilt from the store.
	c.idx.Close()
	if err := os.WriteFile(filepath.Join(c.dir, "index_meta.json"), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.open(t)
	if got := c.names(t, search.Query{Text: "daily_revenue"}); len(got) == 0 || got[0] != "analytics.reporting.daily_revenue" {
		t.Fatalf("after rebuild: %v", got)
	}
	c.idx.Close()
	os.RemoveAll(c.dir)
	c.open(t)
	if res, _ := c.idx.Search(ctx, search.Query{}); res.Total != len(demo.Datasets())+1 {
		t.Fatalf("after rebuild from nothing: %d datasets", res.Total)
	}
}

func TestAutocomplete(t *testing.T) {
	c := newCatalog(t)
	got, err := c.idx.Autocomplete(context.Background(), "daily", 5)
	if err != nil || len(got) == 0 || got[0].Text != "analytics.reporting.daily_revenue" || got[0].Kind != "DATASET" {
		t.Fatalf("daily: %+v %v", got, err)
	}
	got, _ = c.idx.Autocomplete(context.Background(), "order_it", 5)
	if len(got) < 2 || got[0].Text != "shop.public.order_items" && got[0].Text != "analytics.raw.order_items" {
		t.Fatalf("a word inside a name: %+v", got)
	}
	got, _ = c.idx.Autocomplete(context.Background(), "acquisition_ch", 5)
	if len(got) == 0 || got[len(got)-1].Kind != "COLUMN" || got[len(got)-1].Text != "acquisition_channel" {
		t.Fatalf("column: %+v", got)
	}
	if got, err := c.idx.Autocomplete(context.Background(), "  ", 5); err != nil || len(got) != 0 {
		t.Fatalf("blank: %+v %v", got, err)
	}
}

func mustUpsert(t testing.TB, st *store.Store, ds ...quarry.Dataset) string {
	t.Helper()
	res, err := st.UpsertDatasets(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	return res.IDs[0]
}

func waitFor(t testing.TB, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v", d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRebuildWhileServing opens an index built with an older mapping: it
// serves until Run has built its replacement, which then holds everything.
func TestRebuildWhileServing(t *testing.T) {
	c := newCatalog(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.idx.Close()
	if err := search.SetMappingVersionForTest(c.dir, "0"); err != nil {
		t.Fatal(err)
	}
	c.open(t)
	if got := c.names(t, search.Query{Text: "daily_revenue"}); len(got) == 0 {
		t.Fatal("the old index does not serve while the new one is built")
	}
	mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: "crm.public.prospects"})
	go c.idx.Run(ctx)
	waitFor(t, 10*time.Second, func() bool {
		return c.idx.MappingVersion() != "0" && slices.Contains(c.names(t, search.Query{Text: "prospects"}), "crm.public.prospects")
	})
	res, _ := c.idx.Search(context.Background(), search.Query{})
	if want := len(demo.Datasets()) + 1; res.Total != want {
		t.Fatalf("rebuilt index holds %d datasets, want %d", res.Total, want)
	}
	if _, err := os.Stat(c.dir + ".next"); !os.IsNotExist(err) {
		t.Fatalf("the build directory is left behind: %v", err)
	}
}

func TestOneRebuildAtATime(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- c.idx.Rebuild(ctx) }()
	}
	var conflicts int
	for range 2 {
		select {
		case err := <-errs:
			switch quarry.ErrorCode(err) {
			case "":
			case quarry.ECONFLICT:
				conflicts++
			default:
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("concurrent rebuilds deadlocked")
		}
	}
	if got := c.names(t, search.Query{Text: "daily_revenue"}); len(got) == 0 {
		t.Fatal("nothing found after the rebuilds")
	}
	t.Logf("%d of 2 rebuilds were refused as already running", conflicts)
}

func TestAutocompleteLeavesOutRemoved(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	d, err := c.st.DatasetByName(ctx, "postgres://shop-db.internal:5432", "shop.public.sessions")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.st.MarkRemoved(ctx, time.Now(), d.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"sessions", "shop.public.sess"} {
		got, _ := c.idx.Autocomplete(ctx, prefix, 10)
		for _, s := range got {
			if s.Kind == "DATASET" && s.DatasetID == d.ID {
				t.Fatalf("%q suggests the removed dataset: %+v", prefix, got)
			}
		}
	}
	// (A removed dataset's columns leave the suggestions when bleve merges
	// the segment that held them: its term dictionary keeps deleted
	// documents' terms until then. See Autocomplete.)
}

// TestIndexAheadOfStore: a store restored from a backup beside a newer
// index would reuse sequence numbers the index has applied; the index is
// rebuilt instead of skipping those writes.
func TestIndexAheadOfStore(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	c.idx.Close()
	st := storetest.MustOpen(t, &store.Options{Logger: quiet, NoSync: true})
	mustUpsert(t, st, quarry.Dataset{Namespace: "postgres://db:5432", Name: "crm.public.prospects"}) // seq 1, behind the index
	idx, err := search.Open(ctx, c.dir, st, &search.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if err := idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := idx.Search(ctx, search.Query{Text: "prospects"})
	if err != nil || res.Total != 1 {
		t.Fatalf("after a restore: %+v %v", res, err)
	}
	if all, _ := idx.Search(ctx, search.Query{}); all.Total != 1 {
		t.Fatalf("the index still holds %d datasets of the newer store", all.Total)
	}
}

// TestMatchesOfThePage checks that the matches Search shows, marked in a
// search of the page's hits alone from the locations it found, are those
// bleve's highlighter marks within the search: the same fields, the same
// words marked (fragments of long texts may be cut elsewhere).
func TestMatchesOfThePage(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	// bleve's highlighter reads the stored values, which the index keeps
	// only when asked.
	c.idx.Close()
	os.RemoveAll(c.dir)
	idx, err := search.Open(ctx, c.dir, c.st, search.StoreShownForTest(&search.Options{Logger: quiet}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	if err := idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	c.idx = idx
	queries := []string{"orders", "order items", "revenu", "custmer", "acquisition_channel", "email", "pii", "daily revenue", "ord", "shop.public.users", "sales territory", "created at", "x", "+:*"}
	for _, j := range readJudged(t) {
		queries = append(queries, j.query)
	}
	for _, text := range queries {
		for _, q := range []search.Query{{Text: text}, {Text: text, First: 3, After: "2", Filter: search.Filter{IncludeRemoved: true}}} {
			res, err := c.idx.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			want, err := c.idx.MatchesInOneSearchForTest(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range res.Hits {
				if !sameMarks(h.Matches, want[h.ID]) {
					t.Fatalf("%q: %s:\n got %v\nwant %v", text, h.ID, h.Matches, want[h.ID])
				}
			}
		}
	}
}

var marked = regexp.MustCompile(`<mark>(.*?)</mark>`)

// sameMarks reports whether the matches a shows cover those bleve's
// highlighter marks (b): each field b marks words in is in a with the same
// words marked. a may mark more (bleve's highlighter skips the locations
// of some fields, e.g. a path matched by its parts), but each of its
// matches marks something; b's fields with nothing marked are not matches.
func sameMarks(a, b []search.Match) bool {
	words := func(m search.Match) []string {
		var out []string
		for _, w := range marked.FindAllStringSubmatch(m.Text, -1) {
			out = append(out, strings.ToLower(html.UnescapeString(w[1])))
		}
		return out
	}
	got := map[string][]string{}
	for _, m := range a {
		if !strings.Contains(m.Text, "<mark>") {
			return false
		}
		got[m.Field] = words(m)
	}
	for _, m := range b {
		if w := words(m); len(w) > 0 && !slices.Equal(got[m.Field], w) {
			return false
		}
	}
	return true
}

// TestFuzzyAsBleve checks that the fuzzy query, with its cached automata,
// finds and scores what bleve's fuzzy query does, over several index
// segments.
func TestFuzzyAsBleve(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	for i := range 3 { // more segments
		mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://fz:5432", Name: fmt.Sprintf("db.s.custmers_revenu_%d", i), Kind: quarry.KindTable})
		if err := c.idx.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	found := 0
	for _, w := range []string{"revenu", "custmer", "ordres", "customers", "shipmnet", "invioce", "zzzz", "orders"} {
		fuzz := 1
		if len(w) >= 8 {
			fuzz = 2
		}
		for _, f := range []string{search.FieldNameForTest, search.FieldNamePartsForTest} {
			got, want, err := c.idx.FuzzyHitsForTest(ctx, w, f, fuzz)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s:%s~%d: got %v, want %v", f, w, fuzz, got, want)
			}
			found += len(got)
		}
	}
	if found < 10 {
		t.Errorf("%d hits in all: the test tests little", found)
	}
}

// A dataset edited since the index applied it shows its words as the
// store has the text now: the index's locations are the old text's.
func TestMatchesOfAnEditNotYetIndexed(t *testing.T) {
	ctx := context.Background()
	st := storetest.MustOpen(t, &store.Options{Logger: quiet, NoSync: true})
	d := quarry.Dataset{
		Namespace: "postgres://db:5432", Name: "shop.public.daily_sales", Kind: quarry.KindTable,
		Provided: quarry.Metadata{Description: "Revenue per day and currency."},
	}
	if _, err := st.UpsertDatasets(ctx, []quarry.Dataset{d}); err != nil {
		t.Fatal(err)
	}
	idx := openCaughtUp(t, st)
	for _, c := range []struct{ desc, want string }{
		{"Daily revenue, per currency.", "Daily <mark>revenue</mark>, per currency."},
		{"Sales per day.", ""}, // found by the old text's word; the new one has it not
	} {
		d.Provided.Description = c.desc
		if _, err := st.UpsertDatasets(ctx, []quarry.Dataset{d}); err != nil { // not applied: no CatchUp
			t.Fatal(err)
		}
		res, err := idx.Search(ctx, search.Query{Text: "revenue"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != 1 {
			t.Fatalf("%d hits, want 1", len(res.Hits))
		}
		var want []search.Match
		if c.want != "" {
			want = []search.Match{{Field: "description", Text: c.want}}
		}
		if got := res.Hits[0].Matches; !slices.Equal(got, want) {
			t.Errorf("%q: matches %v, want %v", c.desc, got, want)
		}
	}
}

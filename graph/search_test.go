package graph_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry/demo"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/search"
)

const searchQuery = `query($q: String!, $filter: SearchFilter, $first: Int, $after: String) {
	search(query: $q, filter: $filter, first: $first, after: $after) {
		total
		hits { score dataset { name kind } matches { field text } highlights }
		facets { field buckets { value count } }
		pageInfo { hasNextPage endCursor } } }`

func TestSearchAPI(t *testing.T) {
	s := newServer(t, graph.Limits{})
	if _, err := s.store.UpsertDatasets(context.Background(), demo.Datasets()); err != nil {
		t.Fatal(err)
	}
	// Indexed from the changelog, within a second of the commit.
	var res map[string]any
	deadline := time.Now().Add(2 * time.Second)
	for {
		res = s.do(t, searchQuery, map[string]any{"q": "revenue"}).ok(t)["search"].(map[string]any)
		if res["total"].(float64) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	hits := res["hits"].([]any)
	if len(hits) == 0 || hits[0].(map[string]any)["dataset"].(map[string]any)["name"] != "analytics.reporting.daily_revenue" {
		t.Fatalf("revenue: %v", hits)
	}
	if m := hits[0].(map[string]any)["matches"].([]any); len(m) == 0 || !strings.Contains(m[0].(map[string]any)["text"].(string), "<mark>") {
		t.Fatalf("matches: %v", m)
	}

	t.Run("FilterByFacet", func(t *testing.T) {
		r := s.do(t, searchQuery, map[string]any{"q": "orders", "filter": map[string]any{"kind": []string{"VIEW"}, "schema": []string{"staging"}}}).ok(t)["search"].(map[string]any)
		for _, h := range r["hits"].([]any) {
			if k := h.(map[string]any)["dataset"].(map[string]any)["kind"]; k != "VIEW" {
				t.Fatalf("kind %v passed a VIEW filter", k)
			}
		}
		var kinds []any
		for _, f := range r["facets"].([]any) {
			if f.(map[string]any)["field"] == "kind" {
				kinds = f.(map[string]any)["buckets"].([]any)
			}
		}
		if len(kinds) != 1 {
			t.Fatalf("kind facet: %v", kinds)
		}
	})
	t.Run("MatchesWhenAsked", func(t *testing.T) {
		// Matches are found only when selected, directly, as highlights
		// or through a fragment; the datasets are the same either way.
		names := func(q string) (out []any) {
			r := s.do(t, q, map[string]any{"q": "revenue"}).ok(t)["search"].(map[string]any)
			for _, h := range r["hits"].([]any) {
				h := h.(map[string]any)
				out = append(out, h["dataset"].(map[string]any)["name"])
				for _, f := range []string{"matches", "highlights"} {
					if m, ok := h[f]; ok && len(m.([]any)) == 0 {
						t.Fatalf("%s: no %s in %v", q, f, h)
					}
				}
			}
			return out
		}
		want := names(`query($q: String!) { search(query: $q) { hits { dataset { name } } } }`)
		for _, q := range []string{
			`query($q: String!) { search(query: $q) { hits { dataset { name } highlights } } }`,
			`query($q: String!) { search(query: $q) { hits { ...H } } } fragment H on SearchHit { matches { text } dataset { name } }`,
		} {
			if got := names(q); len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("%s: %v, want %v", q, got, want)
			}
		}
	})
	t.Run("Partial", func(t *testing.T) {
		q := `query($q: String!) { search(query: $q) { total partial hits { dataset { name } } } }`
		for text, want := range map[string]bool{"orders": false, "orders zzyzx": true} {
			r := s.do(t, q, map[string]any{"q": text}).ok(t)["search"].(map[string]any)
			if r["partial"] != want || r["total"].(float64) == 0 {
				t.Fatalf("%q: partial %v, total %v", text, r["partial"], r["total"])
			}
		}
	})
	t.Run("SortAndDidYouMean", func(t *testing.T) {
		q := `query($q: String!, $sort: SearchSort) { search(query: $q, sort: $sort) { total didYouMean hits { dataset { name } } } }`
		r := s.do(t, q, map[string]any{"q": "revenue", "sort": "NAME"}).ok(t)["search"].(map[string]any)
		var got []string
		for _, h := range r["hits"].([]any) {
			got = append(got, h.(map[string]any)["dataset"].(map[string]any)["name"].(string))
		}
		if len(got) < 3 || !slices.IsSorted(got) || r["didYouMean"] != "" {
			t.Fatalf("revenue by name: %v (did you mean %q)", got, r["didYouMean"])
		}
		r = s.do(t, q, map[string]any{"q": "custmer_lifetme_value"}).ok(t)["search"].(map[string]any)
		if r["didYouMean"] != "customer lifetime value" {
			t.Fatalf("custmer_lifetme_value: did you mean %q", r["didYouMean"])
		}
	})
	t.Run("NamespaceSources", func(t *testing.T) {
		q := `query($ns: [String!]!) { namespaceSources(namespaces: $ns) { namespace source } }`
		r := s.do(t, q, map[string]any{"ns": []string{"redshift://analytics.us-east-1:5439", "nowhere://x"}}).ok(t)["namespaceSources"].([]any)
		if len(r) != 2 || r[0].(map[string]any)["source"] != "warehouse" || r[1].(map[string]any)["source"] != nil {
			t.Fatalf("namespaceSources: %v", r)
		}
	})
	t.Run("PagingAndCaps", func(t *testing.T) {
		r := s.do(t, searchQuery, map[string]any{"q": "", "first": 1000}).ok(t)["search"].(map[string]any)
		all := len(demo.Datasets())
		if n := len(r["hits"].([]any)); n != all || r["total"].(float64) != float64(all) {
			t.Fatalf("empty query lists %d of %v", n, r["total"])
		}
		r = s.do(t, searchQuery, map[string]any{"q": "", "first": 10}).ok(t)["search"].(map[string]any)
		pi := r["pageInfo"].(map[string]any)
		next := s.do(t, searchQuery, map[string]any{"q": "", "first": 10, "after": pi["endCursor"]}).ok(t)["search"].(map[string]any)
		if pi["hasNextPage"] != true || len(next["hits"].([]any)) != 10 {
			t.Fatalf("paging: %v then %v", pi, next["pageInfo"])
		}
		s.do(t, searchQuery, map[string]any{"q": "x", "first": 0}).oneError(t, "invalid", "first")
		s.do(t, searchQuery, map[string]any{"q": "x", "after": "nope"}).oneError(t, "invalid", "after")
	})
	t.Run("SyntaxIsText", func(t *testing.T) {
		for _, q := range []string{`+revenue -daily`, `name:orders`, `ord*`, `"daily`, `(revenue)`, `~`} {
			s.do(t, searchQuery, map[string]any{"q": q}).ok(t)
		}
	})
	t.Run("Autocomplete", func(t *testing.T) {
		r := s.do(t, `{ autocomplete(prefix: "fct_ord", limit: 5) { text kind dataset { kind } count } }`, nil).ok(t)["autocomplete"].([]any)
		if len(r) == 0 || r[0].(map[string]any)["text"] != "analytics.marts.fct_orders" || r[0].(map[string]any)["kind"] != "DATASET" {
			t.Fatalf("autocomplete: %v", r)
		}
		s.do(t, `{ autocomplete(prefix: "x", limit: 0) { text } }`, nil).oneError(t, "invalid", "limit")
	})
	t.Run("Reindex", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/admin/reindex", nil)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 202 {
			t.Fatalf("reindex: %d", resp.StatusCode)
		}
		// Searches keep answering during and after the rebuild.
		for range 20 {
			s.do(t, searchQuery, map[string]any{"q": "revenue"}).ok(t)
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// noMatchesSpy records whether each search asked to skip its matches.
type noMatchesSpy struct {
	next graph.Search
	mu   sync.Mutex
	seen []bool
}

func (s *noMatchesSpy) Search(ctx context.Context, q search.Query) (*search.Results, error) {
	s.mu.Lock()
	s.seen = append(s.seen, q.NoMatches)
	s.mu.Unlock()
	return s.next.Search(ctx, q)
}

func (s *noMatchesSpy) Autocomplete(ctx context.Context, prefix string, limit int) ([]search.Suggestion, error) {
	return s.next.Autocomplete(ctx, prefix, limit)
}

func (s *noMatchesSpy) SearchJobs(ctx context.Context, text string, first int) ([]search.JobHit, error) {
	return s.next.SearchJobs(ctx, text, first)
}

// TestSearchSkipsMatchesNotSelected checks that the resolver asks the
// index to skip the search for matches exactly when no selection of the
// hits needs them.
func TestSearchSkipsMatchesNotSelected(t *testing.T) {
	spy := &noMatchesSpy{}
	s := newServer(t, graph.Limits{}, func(c *handlerConfig) { spy.next = c.Search; c.Search = spy })
	for _, tc := range []struct {
		query     string
		noMatches bool
	}{
		{`{ search(query: "revenue") { total hits { dataset { name } } } }`, true},
		{`{ search(query: "revenue") { total } }`, true},
		{`{ search(query: "revenue") { hits { highlights } } }`, false},
		{`{ search(query: "revenue") { hits { matches { text } } } }`, false},
		{`{ search(query: "revenue") { hits { ...H } } } fragment H on SearchHit { matches { field } }`, false},
	} {
		spy.seen = nil
		s.do(t, tc.query, nil).ok(t)
		if len(spy.seen) != 1 || spy.seen[0] != tc.noMatches {
			t.Errorf("%s: NoMatches %v, want %v", tc.query, spy.seen, tc.noMatches)
		}
	}
}

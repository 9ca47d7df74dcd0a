package search

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/search/query"
)

// TestMarksOfClauses checks how each kind of clause marks the words of a
// page's text (marks.go): a conjunction only when each of its clauses
// matches, a typo within its distance, a prefix, and a clause that cannot
// be evaluated is an error that names it, not a page with nothing marked.
func TestMarksOfClauses(t *testing.T) {
	m, err := newMapping(false)
	if err != nil {
		t.Fatal(err)
	}
	doc := &datasetDoc{Name: "daily_revenue", Path: "shop.sales.daily_revenue", Desc: "Revenue per day and currency.",
		Columns: []string{"order_id", "revenue_eur", "currency"}, ColumnDesc: []string{"", "Revenue in euros", ""}}
	automata := newAutomatonCache(1 << 20)
	marked := func(q query.Query) (map[string][]string, bool) {
		t.Helper()
		p := newPageText(m, doc)
		found := map[string][]mark{}
		ok, err := p.marks(q, found)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for f, ms := range found {
			for _, w := range ms {
				v := p.values[f][w.value]
				out[f] = append(out[f], v[w.start:w.end])
			}
		}
		return out, ok
	}
	for _, c := range []struct {
		name string
		q    query.Query
		want map[string][]string
	}{
		{"term", termQuery(fName, "revenue"), map[string][]string{fName: {"revenue"}}},
		{"stemmed term", termQuery(fDesc, "revenu"), map[string][]string{fDesc: {"Revenue"}}},
		{"conjunction", newSparseConjunction(termQuery(fColumns, "revenue"), termQuery(fColumns, "currency")),
			map[string][]string{fColumns: {"revenue", "currency"}}},
		{"conjunction of a missing word", newSparseConjunction(termQuery(fColumns, "revenue"), termQuery(fColumns, "margin")), map[string][]string{}},
		{"disjunction", newSparseDisjunction(termQuery(fName, "margin"), termQuery(fPath, "sales"), &query.MatchNoneQuery{}),
			map[string][]string{fPath: {"sales"}}},
		{"typo", &fuzzyQuery{automata: automata, term: "revenu", field: fName, fuzz: 1, prefix: 1}, map[string][]string{fName: {"revenue"}}},
		{"typo beyond its distance", &fuzzyQuery{automata: automata, term: "rvnue", field: fName, fuzz: 1, prefix: 1}, map[string][]string{}},
		{"typo in the first letter", &fuzzyQuery{automata: automata, term: "devenue", field: fName, fuzz: 1, prefix: 1}, map[string][]string{}},
		{"prefix", newPrefixQuery("curr", fColumns), map[string][]string{fColumns: {"currency"}}},
		{"wrapped", unscored{unlessCommon{termQuery(fColumnDesc, "euro")}}, map[string][]string{fColumnDesc: {"euros"}}},
	} {
		got, ok := marked(c.q)
		if !maps.EqualFunc(got, c.want, slices.Equal) || ok != (len(c.want) > 0) {
			t.Errorf("%s: marked %v (%v), want %v", c.name, got, ok, c.want)
		}
	}
	p := newPageText(m, doc)
	for _, q := range []query.Query{query.NewPhraseQuery([]string{"revenue", "per"}, fDesc), termQuery(fNames, "daily_revenue")} {
		if _, err := p.marks(q, map[string][]mark{}); err == nil || !strings.Contains(err.Error(), "highlight") {
			t.Errorf("%v: error %v, want one that says the clause cannot mark", q, err)
		}
	}
}

func TestWordBoundary(t *testing.T) {
	for _, c := range []struct {
		text string
		at   int
		want bool
	}{
		{"daily_revenue", 6, true}, {"SalesOrderHeader", 5, true}, {"SalesOrderHeader", 6, false},
		{"HTTPServer", 4, true}, {"HTTPServer", 2, false}, {"abc123", 3, true}, {"café bar", 5, true}, {"café", 4, false},
	} {
		if got := wordBoundary(c.text, c.at); got != c.want {
			t.Errorf("wordBoundary(%q, %d) = %v", c.text, c.at, got)
		}
	}
}

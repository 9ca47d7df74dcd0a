package search

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
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
	doc := &datasetDoc{Name: "daily_revenue", Path: "shop.sales.daily_revenue", Desc: "Revenue per day and currency, by product categories.",
		Columns: []string{"order_id", "revenue_eur", "currency", "CustomerCategory"}, ColumnDesc: []string{"", "Revenue in euros", "", "Café or Bar"}}
	automata := newAutomatonCache(1 << 20)
	fold := foldFilter{asciifolding.New()}
	marked := func(q query.Query) (map[string][]string, bool) {
		t.Helper()
		var outs [2]map[string][]string
		var oks [2]bool
		// Without needles every value is analyzed: they only save work.
		all := pageFields(m, q)
		for f, n := range all {
			c := *n
			c.all = true
			all[f] = &c
		}
		for i, fields := range []map[string]*pageField{pageFields(m, q), all} {
			p := newPageText(doc, fields)
			found := map[string][]mark{}
			ok, err := p.marks(q, found)
			if err != nil {
				t.Fatal(err)
			}
			outs[i], oks[i] = map[string][]string{}, ok
			for f, ms := range found {
				for _, w := range ms {
					v := p.values[f][w.value]
					if at := foldedOffsets(v, fold); at != nil { // the offsets are in the folded text
						w.start, w.end = at[w.start], at[w.end]
					}
					outs[i][f] = append(outs[i][f], v[w.start:w.end])
				}
			}
		}
		if !maps.EqualFunc(outs[0], outs[1], slices.Equal) || oks[0] != oks[1] {
			t.Errorf("%v: marked %v (%v) with needles, %v (%v) without", q, outs[0], oks[0], outs[1], oks[1])
		}
		return outs[0], oks[0]
	}
	for _, c := range []struct {
		name string
		q    query.Query
		want map[string][]string
	}{
		{"term", termQuery(fName, "revenue"), map[string][]string{fName: {"revenue"}}},
		{"stemmed term", termQuery(fDesc, "revenu"), map[string][]string{fDesc: {"Revenue"}}},
		{"another form's stem", termQuery(fDesc, "categori"), map[string][]string{fDesc: {"categories"}}},
		{"camelCase", termQuery(fColumns, "category"), map[string][]string{fColumns: {"Category"}}},
		{"accented", termQuery(fColumnDesc, "cafe"), map[string][]string{fColumnDesc: {"Café"}}},
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
	for _, q := range []query.Query{query.NewPhraseQuery([]string{"revenue", "per"}, fDesc), termQuery(fNames, "daily_revenue")} {
		if _, err := newPageText(doc, pageFields(m, q)).marks(q, map[string][]mark{}); err == nil || !strings.Contains(err.Error(), "highlight") {
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

// TestStemsKeepTheirWordsStart checks what needles rely on: that the
// Porter stem of a description's word keeps the start of the word
// (stemStart), for the words of the fixtures' schemas and dbt projects and
// each of the stemmer's suffixes on a few roots.
func TestStemsKeepTheirWordsStart(t *testing.T) {
	m, err := newMapping(false)
	if err != nil {
		t.Fatal(err)
	}
	a := m.AnalyzerNamed(analyzerText)
	words := map[string]bool{}
	letters := regexp.MustCompile(`[A-Za-z]+`)
	err = filepath.WalkDir("../../shared/fixtures", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		for _, w := range letters.FindAllString(string(b), -1) {
			words[strings.ToLower(w)] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	suffixes := []string{"s", "es", "ies", "sses", "ss", "y", "ly", "ed", "eed", "ing", "ated", "ating", "bled", "bling", "ized", "izing",
		"ational", "tional", "enci", "ency", "anci", "ancy", "izer", "bli", "bly", "able", "ably", "alli", "ally", "entli", "ently", "eli", "ely",
		"ousli", "ously", "ization", "izations", "ation", "ations", "ator", "ators", "alism", "iveness", "fulness", "ousness", "aliti",
		"ality", "alities", "iviti", "ivity", "ivities", "biliti", "bility", "bilities", "logi", "logy", "logies", "icate", "icates", "ative",
		"alize", "alized", "iciti", "icity", "ical", "ically", "ful", "ness", "al", "ance", "ence", "er", "ers", "ic", "ible", "ant", "ement",
		"ment", "ent", "ion", "sion", "tion", "ou", "ism", "ate", "iti", "iteis", "ous", "ive", "ize", "e", "ll", "'s"}
	for _, root := range []string{"sens", "rel", "condition", "organ", "hop", "fil", "troub", "general", "cat", "conflat", "possib", "happ", "electr", "form", "a", "by"} {
		for _, s := range suffixes {
			words[root+s] = true
		}
	}
	checked := 0
	for w := range words {
		for _, tok := range a.Analyze([]byte(w)) {
			if stem := string(tok.Term); !strings.HasPrefix(w, stemStart(stem)) {
				t.Errorf("%q is stemmed %q: it does not start with %q", w, stem, stemStart(stem))
			}
			checked++
		}
	}
	if checked < 10_000 {
		t.Errorf("%d words checked: the fixtures are missing?", checked)
	}
}

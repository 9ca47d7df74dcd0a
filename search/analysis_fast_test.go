package search

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/token/camelcase"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
)

// The shortcuts of camelFilter and foldFilter must analyze every text as
// bleve's filters do: the index's terms and positions, and the offsets
// highlights mark, depend on it.
func TestShortcutFiltersAnalyzeAsBleves(t *testing.T) {
	texts := []string{
		"", "orders", "fct_order_items_v2", "HTTPLogs2024", "salesorderheader", "2024", "a1b2", "café_crème",
		"Customer ID", "order-items 42 x", "ÀÉÎ", "naïve CamelCase ok", "x\xffy", "__", "v2", "42abc", "abc42",
		"ID", "Customer", "ABCdef", "AbC", "A", "Z9", "The refund amount.", "URL", "HTTPServer", "iPhone", "École", "aB", "Ab1", "X_Y", "ÀbC dEf",
	}
	cat := newSkewedWords()
	for i := range 50 {
		d := cat.dataset(i)
		texts = append(texts, d.Name, d.Description())
		for _, c := range d.Columns {
			texts = append(texts, c.Name, c.Description)
		}
	}
	ours := &analysis.DefaultAnalyzer{
		CharFilters:  []analysis.CharFilter{foldFilter{asciifolding.New()}},
		Tokenizer:    alnumTokenizer{},
		TokenFilters: []analysis.TokenFilter{camelFilter{camelcase.NewCamelCaseFilter()}, lowercase.NewLowerCaseFilter(), newCompoundFilter()},
	}
	bleves := &analysis.DefaultAnalyzer{
		CharFilters:  []analysis.CharFilter{asciifolding.New()},
		Tokenizer:    alnumTokenizer{},
		TokenFilters: []analysis.TokenFilter{camelcase.NewCamelCaseFilter(), lowercase.NewLowerCaseFilter(), newCompoundFilter()},
	}
	show := func(ts analysis.TokenStream) string {
		var s string
		for _, t := range ts {
			s += fmt.Sprintf("%q@%d[%d:%d]t%d ", t.Term, t.Position, t.Start, t.End, t.Type)
		}
		return s
	}
	for _, text := range texts {
		got, want := show(ours.Analyze([]byte(text))), show(bleves.Analyze([]byte(text)))
		if got != want {
			t.Errorf("%q: got %s, bleve's %s", text, got, want)
		}
		fold := foldFilter{asciifolding.New()}
		if got, want := fold.Filter([]byte(text)), asciifolding.New().Filter([]byte(text)); !reflect.DeepEqual(string(got), string(want)) {
			t.Errorf("%q folded: got %q, bleve's %q", text, got, want)
		}
	}
}

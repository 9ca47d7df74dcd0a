package search

import (
	"unicode"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/camelcase"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/character"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	bleveunicode "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
)

// Analyzers. Identifiers (table, schema and column names) are split where
// people see word boundaries, twice: at punctuation only ('.', '_', '-', ...:
// sales.fct_order_items_v2 -> sales fct order items v2), and also at
// camelCase and digit boundaries (fctOrderItems -> fct order items;
// HTTPLogs2024 -> http logs 2024), lower-cased. Searching both keeps "v2"
// and "2024" findable as written. The stemmed variant also folds plurals
// ("orders" finds "order"). Text (descriptions) is tokenized as words, stop
// words dropped and stemmed. Exact fields keep the whole value, lower-cased.
const (
	analyzerSuffixes  = "quarry_suffixes"
	analyzerParts     = "quarry_parts"
	analyzerIdent     = "quarry_ident"
	analyzerIdentStem = "quarry_ident_stem"
	analyzerText      = "quarry_text"
	analyzerExact     = "quarry_exact"

	tokenizerIdent = "quarry_alnum" // runs of letters and digits; camelCase then splits within a run
	filterSuffixes = "quarry_suffixes"

	// minInside is the shortest word found inside a longer one: a prefix
	// query on a field of suffixes this long finds it.
	minInside = 5
)

// The identifier tokenizer is a rune test, not a regular expression:
// tokenizing is most of the cost of indexing.
func init() {
	registry.RegisterTokenizer(tokenizerIdent, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return character.NewCharacterTokenizer(func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }), nil
	})
	registry.RegisterTokenFilter(filterSuffixes, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return suffixFilter{}, nil
	})
}

// suffixFilter replaces each word of more than minInside letters by its
// proper suffixes of at least minInside letters (employeepayhistory ->
// mployeepayhistory ... payhistory ... story): a prefix query on them
// finds a word inside a longer one, which a wildcard query would find by
// building an automaton per query.
type suffixFilter struct{}

func (suffixFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	var out analysis.TokenStream
	for _, t := range in {
		runes := []rune(string(t.Term))
		for i := 1; len(runes)-i >= minInside; i++ {
			out = append(out, &analysis.Token{Term: []byte(string(runes[i:])), Position: t.Position, Start: t.Start, End: t.End, Type: t.Type})
		}
	}
	return out
}

func addAnalyzers(m *mapping.IndexMappingImpl) error {
	for name, def := range map[string]map[string]any{
		analyzerParts:     {"type": custom.Name, "tokenizer": tokenizerIdent, "token_filters": []string{lowercase.Name}},
		analyzerSuffixes:  {"type": custom.Name, "tokenizer": tokenizerIdent, "token_filters": []string{lowercase.Name, filterSuffixes}},
		analyzerIdent:     {"type": custom.Name, "tokenizer": tokenizerIdent, "token_filters": []string{camelcase.Name, lowercase.Name}},
		analyzerIdentStem: {"type": custom.Name, "tokenizer": tokenizerIdent, "token_filters": []string{camelcase.Name, lowercase.Name, porter.Name}},
		analyzerText:      {"type": custom.Name, "tokenizer": bleveunicode.Name, "token_filters": []string{lowercase.Name, en.PossessiveName, en.StopName, porter.Name}},
		analyzerExact:     {"type": custom.Name, "tokenizer": single.Name, "token_filters": []string{lowercase.Name}},
	} {
		if err := m.AddCustomAnalyzer(name, def); err != nil {
			return err
		}
	}
	return nil
}

package search

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/camelcase"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
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
		return alnumTokenizer{}, nil
	})
	registry.RegisterTokenFilter(filterSuffixes, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return suffixFilter{}, nil
	})
}

// alnumTokenizer makes a token of each run of letters and digits. It is
// bleve's character tokenizer with that rune test (which, as this does,
// stops at the first invalid UTF-8 or U+FFFD), but sized to the runs it
// finds: bleve's allocates room for 1,024 tokens (8 KB) per call, which a
// search pays for each field its query is analyzed for.
type alnumTokenizer struct{}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func (alnumTokenizer) Tokenize(input []byte) analysis.TokenStream {
	type run struct{ start, end int }
	var runs []run
	start, end := 0, 0
	for offset := 0; ; {
		r, size := utf8.DecodeRune(input[offset:])
		if r == utf8.RuneError {
			break
		}
		if isAlnum(r) {
			end = offset + size
		} else {
			if end > start {
				runs = append(runs, run{start, end})
			}
			start = offset + size
			end = start
		}
		offset += size
	}
	if end > start {
		runs = append(runs, run{start, end})
	}
	if len(runs) == 0 {
		return nil
	}
	toks := make([]analysis.Token, len(runs))
	out := make(analysis.TokenStream, len(runs))
	for i, r := range runs {
		toks[i] = analysis.Token{Term: input[r.start:r.end], Start: r.start, End: r.end, Position: i + 1, Type: analysis.AlphaNumeric}
		out[i] = &toks[i]
	}
	return out
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

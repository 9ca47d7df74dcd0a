package search

import (
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/camelcase"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/regexp"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/mapping"
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
	analyzerParts     = "quarry_parts"
	analyzerIdent     = "quarry_ident"
	analyzerIdentStem = "quarry_ident_stem"
	analyzerText      = "quarry_text"
	analyzerExact     = "quarry_exact"

	tokenizerIdent = "quarry_ident_tokens"
	tokenizerWords = "quarry_words"
)

func addAnalyzers(m *mapping.IndexMappingImpl) error {
	// Runs of letters and digits; camelCase then splits within a run.
	if err := m.AddCustomTokenizer(tokenizerIdent, map[string]any{"type": regexp.Name, "regexp": `[\p{L}\p{N}]+`}); err != nil {
		return err
	}
	if err := m.AddCustomTokenizer(tokenizerWords, map[string]any{"type": regexp.Name, "regexp": `[\p{L}\p{N}]+(?:'[\p{L}]+)?`}); err != nil {
		return err
	}
	for name, def := range map[string]map[string]any{
		analyzerParts:     {"type": custom.Name, "tokenizer": tokenizerIdent, "token_filters": []string{lowercase.Name}},
		analyzerIdent:     {"type": custom.Name, "tokenizer": tokenizerIdent, "token_filters": []string{camelcase.Name, lowercase.Name}},
		analyzerIdentStem: {"type": custom.Name, "tokenizer": tokenizerIdent, "token_filters": []string{camelcase.Name, lowercase.Name, porter.Name}},
		analyzerText:      {"type": custom.Name, "tokenizer": tokenizerWords, "token_filters": []string{lowercase.Name, en.PossessiveName, en.StopName, porter.Name}},
		analyzerExact:     {"type": custom.Name, "tokenizer": single.Name, "token_filters": []string{lowercase.Name}},
	} {
		if err := m.AddCustomAnalyzer(name, def); err != nil {
			return err
		}
	}
	return nil
}

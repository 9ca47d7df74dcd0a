package search

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/camelcase"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	bleveunicode "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/quarrydata/quarry"
)

// Analyzers. Identifiers (table, schema and column names) are split where
// people see word boundaries, twice: at punctuation only ('.', '_', '-', ...:
// sales.fct_order_items_v2 -> sales fct order items v2), and also at
// camelCase and digit boundaries (fctOrderItems -> fct order items;
// HTTPLogs2024 -> http logs 2024), lower-cased. Searching both keeps "v2"
// and "2024" findable as written. The stemmed variant also folds plurals
// ("orders" finds "order"). Text (descriptions) is tokenized as words, stop
// words dropped and stemmed. Exact fields keep the whole value, lower-cased.
//
// Every analyzer but the exact ones folds accents first (café is cafe), so
// that a word is found however it is typed. The identifier analyzers that
// split at camelCase also split compound lower-case words made of known
// words (salesorderheader -> salesorderheader sales order header, see
// compoundFilter): catalogs are full of names written so.
const (
	analyzerSuffixes  = "quarry_suffixes"
	analyzerParts     = "quarry_parts"
	analyzerIdent     = "quarry_ident"
	analyzerIdentStem = "quarry_ident_stem"
	analyzerText      = "quarry_text"
	analyzerExact     = "quarry_exact"

	tokenizerIdent = "quarry_alnum" // runs of letters and digits; camelCase then splits within a run
	filterSuffixes = "quarry_suffixes"
	filterCompound = "quarry_compound"
	filterCamel    = "quarry_camelcase"    // bleve's camelcase, but that a word of one class is left alone
	charFilterFold = "quarry_asciifolding" // bleve's asciifolding, but that ASCII text is left alone

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
	registry.RegisterTokenFilter(filterCompound, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return newCompoundFilter(), nil
	})
	registry.RegisterTokenFilter(filterCamel, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return camelFilter{camelcase.NewCamelCaseFilter()}, nil
	})
	registry.RegisterCharFilter(charFilterFold, func(map[string]any, *registry.Cache) (analysis.CharFilter, error) {
		return foldFilter{asciifolding.New()}, nil
	})
}

// camelFilter is bleve's camelCase filter with a shortcut: a word of one
// class (lower-case letters, digits, an upper-case letter and lower-case
// ones: most words of snake_case names and of descriptions) is left as
// bleve's would make it without a parser and its allocations; the others
// go through bleve's filter one by one. Analysis is a tenth of the cost
// of indexing, camelCase splitting a quarter of that. The shortcut took a
// stream only if every word was of one class: a description's first word
// (The) sent it whole through bleve's filter. Indexing 20,000 skewed
// datasets (BenchmarkIndexSkewed) made 64.5 M allocations with that
// shortcut, 58.2 M with this one.
type camelFilter struct{ slow *camelcase.CamelCaseFilter }

func (f camelFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	var out analysis.TokenStream // nil while every word is of one class: in, renumbered
	pos := 1
	for i, t := range in {
		if oneClass(t.Term) {
			// What bleve's filter makes of such a word: whole, numbered
			// on, of the zero type.
			t.Position, t.End, t.Type = pos, t.Start+len(t.Term), 0
			pos++
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		if out == nil {
			out = make(analysis.TokenStream, i, len(in)+4)
			copy(out, in[:i])
		}
		for _, p := range f.slow.Filter(analysis.TokenStream{t}) {
			p.Position = pos
			pos++
			out = append(out, p)
		}
	}
	if out == nil {
		return in
	}
	return out
}

// oneClass reports whether w is a word bleve's camelCase filter leaves
// whole, of ASCII: lower-case letters alone, digits alone, or upper-case
// letters alone (ID), or one followed by lower-case letters alone (Customer).
func oneClass(w []byte) bool {
	if len(w) == 0 {
		return false
	}
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	lower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	upper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	switch c := w[0]; {
	case digit(c):
		return !slices.ContainsFunc(w, func(c byte) bool { return !digit(c) })
	case lower(c):
		return !slices.ContainsFunc(w, func(c byte) bool { return !lower(c) })
	case upper(c):
		i := 1
		for i < len(w) && upper(w[i]) {
			i++
		}
		rest := w[i:]
		return len(rest) == 0 || i == 1 && !slices.ContainsFunc(rest, func(c byte) bool { return !lower(c) })
	}
	return false
}

// foldFilter is bleve's ASCII folding, which converts its input to runes
// and back, without that cost for ASCII text, which it leaves as it is.
type foldFilter struct{ slow analysis.CharFilter }

func (f foldFilter) Filter(in []byte) []byte {
	for _, c := range in {
		if c >= utf8.RuneSelf {
			return f.slow.Filter(in)
		}
	}
	return in
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
		if len(runes) > maxSplit {
			continue // not a name's word: n suffixes of a long word cost n² bytes
		}
		for i := 1; len(runes)-i >= minInside; i++ {
			out = append(out, &analysis.Token{Term: []byte(string(runes[i:])), Position: t.Position, Start: t.Start, End: t.End, Type: t.Type})
		}
	}
	return out
}

// compoundFilter replaces a lower-case word that is not itself a known
// word but is made of known ones by the words it is made of, at its
// position: salesorderheader yields sales, order and header, as
// SalesOrderHeader and sales_order_header do. The word whole stays in the
// fields that match it as written (names' exact and punctuation-split
// fields, which typos and prefixes are matched in), and out of these: a
// name of two words counts as long as the others of two words, not three. Known words are the embedded list words.txt (and their
// plurals), not the index's own vocabulary: a split must be the same when
// a document is indexed, when it is indexed again after the catalog grew,
// and when a query is analyzed, and the list changes only with the
// mapping version. The split is the one with the fewest words; the short
// joining words (of, by, to, and, per) only between two others
// (billofmaterials), and a word of a single letter never, so a word the
// list lacks is kept whole rather than cut into nonsense.
type compoundFilter struct {
	words map[string]bool
}

//go:embed words.txt
var wordList string

// joiners are the words a compound may hold between two known words.
var joiners = map[string]bool{"of": true, "by": true, "to": true, "and": true, "per": true}

func newCompoundFilter() compoundFilter {
	f := compoundFilter{words: map[string]bool{}}
	for line := range strings.Lines(wordList) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range strings.Fields(line) {
			f.words[w] = true
		}
	}
	return f
}

// known reports whether w is a listed word or the plural of one.
func (f compoundFilter) known(w string) bool {
	if f.words[w] {
		return true
	}
	switch {
	case strings.HasSuffix(w, "ies") && f.words[w[:len(w)-3]+"y"]:
		return true
	case strings.HasSuffix(w, "es") && f.words[w[:len(w)-2]]:
		return true
	case strings.HasSuffix(w, "s") && f.words[w[:len(w)-1]]:
		return true
	}
	return false
}

// minCompound is the shortest word split: two known words of three letters.
const minCompound = 6

// maxSplit is the longest word split into known words or suffixes: longer
// than any name's word, and short enough that the quadratic work of a
// split stays small. A job's SQL holds whatever its author wrote: a
// 900 KB word in it kept the indexer busy for hours and the server from
// shutting down.
const maxSplit = 64

// split returns the words w is made of, or nil.
func (f compoundFilter) split(w string) []string {
	if len(w) < minCompound || len(w) > maxSplit || f.known(w) {
		return nil
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return nil // letters alone: digits and accents (folded already) are left as they are
		}
	}
	// best[i] is the fewest words w[:i] is made of (0: none found), from[i]
	// where its last word starts.
	n := len(w)
	best := make([]int, n+1)
	from := make([]int, n+1)
	for end := 2; end <= n; end++ {
		for start := 0; start <= end-2; start++ {
			if start > 0 && best[start] == 0 {
				continue
			}
			part := w[start:end]
			ok := f.known(part)
			if joiners[part] {
				ok = start > 0 && end < n // between two words only
			}
			if !ok {
				continue
			}
			if words := best[start] + 1; best[end] == 0 || words < best[end] {
				best[end], from[end] = words, start
			}
		}
	}
	if best[n] < 2 {
		return nil
	}
	out := make([]string, best[n])
	for end, i := n, best[n]-1; end > 0; end, i = from[end], i-1 {
		out[i] = w[from[end]:end]
	}
	return out
}

func (f compoundFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	var out analysis.TokenStream
	for i, t := range in {
		parts := f.split(string(t.Term))
		if parts == nil {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		if out == nil {
			out = append(make(analysis.TokenStream, 0, len(in)+len(parts)), in[:i]...)
		}
		for _, p := range parts {
			out = append(out, &analysis.Token{Term: []byte(p), Position: t.Position, Start: t.Start, End: t.End, Type: t.Type})
		}
	}
	if out == nil {
		return in
	}
	return out
}

// setQueryAnalysis prepares what splits a query into words (as the
// identifier analyzer does, but for compounds: a query's compound word is
// analyzed per field) and the stop words and synonyms it is read with.
func (x *Index) setQueryAnalysis(o *Options) error {
	x.fold, x.compound = foldFilter{asciifolding.New()}, newCompoundFilter()
	x.words = &analysis.DefaultAnalyzer{
		CharFilters:  []analysis.CharFilter{x.fold},
		Tokenizer:    alnumTokenizer{},
		TokenFilters: []analysis.TokenFilter{camelFilter{camelcase.NewCamelCaseFilter()}, lowercase.NewLowerCaseFilter()},
	}
	stop, err := en.TokenMapConstructor(nil, nil)
	if err != nil {
		return err
	}
	x.stop = stop
	if o != nil {
		syn, err := synonymMap(x.words, o.Synonyms)
		if err != nil {
			return err
		}
		x.synonyms = syn
	}
	return nil
}

// CheckSynonyms reports what Open would refuse in Options.Synonyms, as an
// invalid error naming the group ("synonyms[1]") or word ("synonyms[1][0]").
func CheckSynonyms(groups [][]string) error {
	var x Index
	return x.setQueryAnalysis(&Options{Synonyms: groups})
}

// synonymMap maps each word of the groups to the other words of its
// groups, each read as a query's words are (folded, lower-cased); a
// "word" may be several ("lifetime value"), which then must all match.
func synonymMap(a analysis.Analyzer, groups [][]string) (map[string][]string, error) {
	out := map[string][]string{}
	for i, g := range groups {
		var norm []string
		for j, w := range g {
			var words []string
			for _, t := range a.Analyze([]byte(w)) {
				words = append(words, string(t.Term))
			}
			if len(words) == 0 {
				return nil, quarry.Invalid(fmt.Sprintf("synonyms[%d][%d]", i, j), "%q has no word", w)
			}
			norm = append(norm, strings.Join(words, " "))
		}
		if len(norm) < 2 {
			return nil, quarry.Invalid(fmt.Sprintf("synonyms[%d]", i), "a group needs two words at least, got %d", len(norm))
		}
		for _, w := range norm {
			if strings.Contains(w, " ") {
				continue // a query's word is one word: it finds the others, not they it
			}
			for _, other := range norm {
				if other != w && !slices.Contains(out[w], other) {
					out[w] = append(out[w], other)
				}
			}
		}
	}
	return out, nil
}

func addAnalyzers(m *mapping.IndexMappingImpl) error {
	fold := []string{charFilterFold}
	for name, def := range map[string]map[string]any{
		analyzerParts:     {"type": custom.Name, "char_filters": fold, "tokenizer": tokenizerIdent, "token_filters": []string{lowercase.Name}},
		analyzerSuffixes:  {"type": custom.Name, "char_filters": fold, "tokenizer": tokenizerIdent, "token_filters": []string{lowercase.Name, filterSuffixes}},
		analyzerIdent:     {"type": custom.Name, "char_filters": fold, "tokenizer": tokenizerIdent, "token_filters": []string{filterCamel, lowercase.Name, filterCompound}},
		analyzerIdentStem: {"type": custom.Name, "char_filters": fold, "tokenizer": tokenizerIdent, "token_filters": []string{filterCamel, lowercase.Name, filterCompound, porter.Name}},
		analyzerText:      {"type": custom.Name, "char_filters": fold, "tokenizer": bleveunicode.Name, "token_filters": []string{lowercase.Name, en.PossessiveName, en.StopName, porter.Name}},
		analyzerExact:     {"type": custom.Name, "tokenizer": single.Name, "token_filters": []string{lowercase.Name}},
	} {
		if err := m.AddCustomAnalyzer(name, def); err != nil {
			return err
		}
	}
	return nil
}

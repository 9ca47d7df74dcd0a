package search

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
)

// A page's matches (the words of the query that its datasets' shown fields
// have) are found by evaluating the clauses of the query that marks them
// (textQuery in highlight mode) on the page's texts, analyzed as the index
// analyzes those fields: a term clause marks its term, a typo clause the
// words within its distance, a prefix clause the words that start with it;
// a conjunction marks what its clauses do when each of them marks
// something, a disjunction what any of them marks. That is what a search
// of the page's hits with the terms' locations found (and bleve's
// highlighter, which TestMatchesOfThePage compares), without that second
// search, and without the term vectors it read, which the index built for
// every document (it keeps the descriptions', whose phrases read them): a
// page is 20 datasets, and their texts are read from the store to be shown
// anyway. The texts marked are the ones analyzed, so an edit the index
// has not applied yet is marked as it reads now.

// mark is a word of one of a field's values that a clause matched.
type mark struct {
	value      int    // which value of the field (a column's index)
	term       string // the word as indexed (its term)
	start, end int    // where in the value, folded (foldedOffsets)
}

// pageText is the shown fields of one dataset, each analyzed when a clause
// first asks for it.
type pageText struct {
	values map[string][]string   // by field
	words  map[string][]mark     // by field: the words of its values
	fields map[string]*pageField // by field (pageFields)
	lower  []byte
}

func newPageText(doc *datasetDoc, fields map[string]*pageField) *pageText {
	return &pageText{words: map[string][]mark{}, fields: fields, values: map[string][]string{
		fName: {doc.Name}, fPath: {doc.Path}, fColumns: doc.Columns, fDesc: {doc.Desc},
		fColumnDesc: doc.ColumnDesc, fTagsText: doc.Tags,
	}}
}

// fieldWords are the words of field's values, analyzed as the index does,
// but for the values that no clause can match (pageField.mayMatch).
func (p *pageText) fieldWords(field string) ([]mark, error) {
	if w, ok := p.words[field]; ok {
		return w, nil
	}
	values, ok := p.values[field]
	if !ok {
		return nil, fmt.Errorf("highlight: a clause on %s, which no hit shows", field)
	}
	f := p.fields[field]
	if f == nil || f.analyzer == nil {
		return nil, fmt.Errorf("highlight: no analyzer for %s", field)
	}
	var out []mark
	for i, v := range values {
		if !f.mayMatch(v, &p.lower) {
			continue
		}
		for _, t := range f.analyzer.Analyze([]byte(v)) {
			out = append(out, mark{value: i, term: string(t.Term), start: t.Start, end: t.End})
		}
	}
	p.words[field] = out
	return out, nil
}

// Analyzing a page's texts was most of what marking them cost, and most
// values (a column's description) have none of the query's words. A word
// of an identifier field (name, path, columns, tags: split at
// punctuation and camelCase, lower-cased, compounds split) is a piece of
// the value lower-cased; a word of a description is Porter's stem of one
// of its words lower-cased, and a stem keeps all but at most its last two
// letters of the word (studi of study: y is i; ble for biliti;
// TestStemsKeepTheirWordsStart). So a value of ASCII text that has none
// of the clauses' terms (or, in a description, their stems but the last
// two letters) in it, lower-cased, has no word they match, and is not
// analyzed.

// pageField is what marking a page asks of a field that clauses of its
// query are on, found once a page: the field's analyzer, and what a value
// of it has in it, lower-cased, when one of those clauses may match a word
// of it (its needles).
type pageField struct {
	analyzer analysis.Analyzer
	name     string // the analyzer's
	all      bool   // a clause may match any value (a typo's)
	needles  []string
}

// pageFields are the fields of the clauses of q, each with its needles.
func pageFields(m mapping.IndexMapping, q query.Query) map[string]*pageField {
	out := map[string]*pageField{}
	var walk func(q query.Query)
	add := func(field, term string, prefix bool) {
		n := out[field]
		if n == nil {
			n = &pageField{name: m.AnalyzerNameForPath(field)}
			n.analyzer = m.AnalyzerNamed(n.name)
			out[field] = n
		}
		ascii := !strings.ContainsFunc(term, func(r rune) bool { return r >= utf8.RuneSelf })
		switch name := n.name; {
		case !ascii || term == "":
			n.all = true
		case name == analyzerIdent:
			n.needles = append(n.needles, term)
		case name == analyzerText && !prefix:
			n.needles = append(n.needles, stemStart(term))
		default:
			n.all = true
		}
	}
	walk = func(q query.Query) {
		switch q := q.(type) {
		case *query.TermQuery:
			add(q.Field(), q.Term, false)
		case *prefixQuery:
			add(q.field, q.prefix, true)
		case *sparseDisjunction:
			for _, c := range q.disjuncts {
				walk(c)
			}
		case *sparseConjunction:
			for _, c := range q.conjuncts {
				walk(c)
			}
		case unscored:
			walk(q.Query)
		case unlessCommon:
			walk(q.Query)
		case *query.MatchNoneQuery:
		case query.FieldableQuery: // a typo's, or one marks cannot evaluate
			add(q.Field(), "", false)
		}
	}
	walk(q)
	return out
}

// stemStart is what every word whose Porter stem is stem starts with,
// lower-cased.
func stemStart(stem string) string { return stem[:max(1, len(stem)-2)] }

// mayMatch says whether a clause on the field may match a word of v.
// lower is room to lower-case v in.
func (n *pageField) mayMatch(v string, lower *[]byte) bool {
	if n.all {
		return true
	}
	b := (*lower)[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= utf8.RuneSelf {
			return true // folded and lower-cased otherwise
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	*lower = b
	for _, w := range n.needles {
		if bytes.Contains(b, []byte(w)) {
			return true
		}
	}
	return false
}

// marks are the words q matches in the page text, by field; ok says
// whether it matches at all (a conjunction of which one clause matches
// nothing marks nothing).
func (p *pageText) marks(q query.Query, into map[string][]mark) (ok bool, err error) {
	// words adds the words of field that match.
	words := func(field string, match func(term string) bool) (bool, error) {
		all, err := p.fieldWords(field)
		if err != nil {
			return false, err
		}
		found := false
		for _, w := range all {
			if match(w.term) {
				into[field] = append(into[field], w)
				found = true
			}
		}
		return found, nil
	}
	switch q := q.(type) {
	case *query.TermQuery:
		return words(q.Field(), func(t string) bool { return t == q.Term })
	case *prefixQuery:
		return words(q.field, func(t string) bool { return strings.HasPrefix(t, q.prefix) })
	case *fuzzyQuery:
		dfa, err := q.automata.get(q.term, q.fuzz)
		if err != nil {
			return false, err
		}
		prefix, _ := q.prefixTerm()
		return words(q.field, func(t string) bool {
			if !strings.HasPrefix(t, prefix) {
				return false
			}
			match, _ := dfa.MatchAndDistance(t)
			return match
		})
	case *query.MatchNoneQuery:
		return false, nil
	case *sparseDisjunction:
		for _, c := range q.disjuncts {
			found, err := p.marks(c, into)
			if err != nil {
				return false, err
			}
			ok = ok || found
		}
		return ok, nil
	case *sparseConjunction:
		each := map[string][]mark{}
		for _, c := range q.conjuncts {
			if found, err := p.marks(c, each); err != nil || !found {
				return false, err
			}
		}
		for f, ms := range each {
			into[f] = append(into[f], ms...)
		}
		return true, nil
	case unscored:
		return p.marks(q.Query, into)
	case unlessCommon:
		return p.marks(q.Query, into)
	}
	return false, fmt.Errorf("highlight: a clause of %T, which marks cannot evaluate", q)
}

package search

import (
	"fmt"
	"strings"

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
	m      mapping.IndexMapping
	values map[string][]string // by field
	words  map[string][]mark   // by field: every word of its values
}

func newPageText(m mapping.IndexMapping, doc *datasetDoc) *pageText {
	return &pageText{m: m, words: map[string][]mark{}, values: map[string][]string{
		fName: {doc.Name}, fPath: {doc.Path}, fColumns: doc.Columns, fDesc: {doc.Desc},
		fColumnDesc: doc.ColumnDesc, fTagsText: doc.Tags,
	}}
}

// fieldWords are the words of field's values, analyzed as the index does.
func (p *pageText) fieldWords(field string) ([]mark, error) {
	if w, ok := p.words[field]; ok {
		return w, nil
	}
	values, ok := p.values[field]
	if !ok {
		return nil, fmt.Errorf("highlight: a clause on %s, which no hit shows", field)
	}
	a := p.m.AnalyzerNamed(p.m.AnalyzerNameForPath(field))
	if a == nil {
		return nil, fmt.Errorf("highlight: no analyzer for %s", field)
	}
	var out []mark
	for i, v := range values {
		for _, t := range a.Analyze([]byte(v)) {
			out = append(out, mark{value: i, term: string(t.Term), start: t.Start, end: t.End})
		}
	}
	p.words[field] = out
	return out, nil
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

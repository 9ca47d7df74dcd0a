package search

import (
	"context"
	"slices"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// A query of one word scores each field the word is in. A word that most
// of a large warehouse has in its columns or descriptions (customer in 69%
// of the column lists of a million tables, id in 90%) says little there,
// as the words of a query of several words say little where they are
// common (wordWeight), and scoring it there cost a skip through postings
// of hundreds of thousands of documents at every hit: three quarters of
// the time of a search of `customer` at a million datasets. Such a query
// finds the documents with the word (among all fields' words, fWords, and
// its typos, prefixes and words inside in names), scored by its clauses on
// the name and on the fields where it is not common. Where it is common, a
// document that only a typo or a prefix of the word in its columns or
// descriptions finds is not found; in a catalog where the word is nowhere
// common the query is the plain disjunction of its clauses, as before.

// commonFields are the fields whose clauses in a one-word query score
// nothing where they are common: the word in columns, tags and
// descriptions (not a column's exact name, nor the dataset's name).
var commonFields = map[string]bool{fColumns: true, fColumnStem: true, fTagsText: true, fDesc: true, fColumnDesc: true}

// oneWordQuery is a query of one word (see above).
type oneWordQuery struct {
	plain  *sparseDisjunction // its ranking clauses
	common *sparseDisjunction // the same, those on commonFields unlessCommon
	words  query.Query        // the word among all fields' words
	// loose are its typos, prefixes and words inside on name fields: they
	// find documents too, unless they find the word alone (its typo
	// "customer~2" finds customer only), whose documents words has.
	loose []query.Query
}

// oneWord is the query of one word whose ranking clauses are rank.
func (b *queryBuilder) oneWord(rank []query.Query) query.Query {
	plain := newSparseDisjunction(rank...)
	if len(b.words) != 1 || b.mode.highlight {
		return plain
	}
	words := b.wordIn(fWords, b.words[0], boostCover)
	if words == nil {
		return plain
	}
	q := &oneWordQuery{plain: plain, words: words}
	common := slices.Clone(rank)
	wrapped := false
	for i, c := range common {
		switch f := fieldOf(c); {
		case commonFields[f]:
			common[i], wrapped = unlessCommon{c}, true
		case tierFields[f]:
			switch c.(type) {
			case *prefixQuery, *fuzzyQuery:
				q.loose = append(q.loose, c)
			}
		}
	}
	if !wrapped {
		return plain
	}
	q.common = newSparseDisjunction(common...)
	return q
}

// ranking is the disjunction that scores q's documents on the reader r:
// common when the word is common in a field there, else plain.
func (q *oneWordQuery) ranking(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (*sparseDisjunction, error) {
	docs, err := r.DocCount()
	if err != nil {
		return nil, err
	}
	for _, c := range q.common.disjuncts {
		u, ok := c.(unlessCommon)
		if !ok {
			continue
		}
		s, err := u.Query.Searcher(ctx, r, m, o)
		if err != nil {
			return nil, err
		}
		n := s.Count()
		s.Close()
		if isCommon(n, docs) {
			return q.common, nil
		}
	}
	return q.plain, nil
}

func (q *oneWordQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	rank, err := q.ranking(ctx, r, m, o)
	if err != nil {
		return nil, err
	}
	if rank == q.plain {
		return q.plain.Searcher(ctx, r, m, o)
	}
	found := []query.Query{q.words}
	for _, c := range q.loose {
		more, err := findsMore(ctx, r, m, o, c)
		if err != nil {
			return nil, err
		}
		if more {
			found = append(found, c)
		}
	}
	s, err := (&requiredQuery{must: unscored{newSparseDisjunction(found...)}, should: rank}).Searcher(ctx, r, m, o)
	if err != nil {
		return nil, err
	}
	return &oneWordSearcher{s.(*requiredSearcher)}, nil
}

// oneWordSearcher finds the documents of a one-word query where the word
// is common: those of its must clause (unscored), scored by its should
// clause. A document should does not find scores 0: the first tier of its
// search walks should's documents alone (tierQuery).
type oneWordSearcher struct {
	*requiredSearcher
}

// findsMore says whether a typo or prefix clause c on a name field finds
// documents other than those with the word as typed there (which the
// field of all words has): a word inside longer ones always may.
func findsMore(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions, c query.Query) (bool, error) {
	var field, term string
	switch c := c.(type) {
	case *prefixQuery:
		field, term = c.field, c.prefix
	case *fuzzyQuery:
		field, term = c.field, c.term
	}
	if field == fNameInside {
		return true, nil
	}
	s, err := c.Searcher(ctx, r, m, o)
	if err != nil {
		return false, err
	}
	n := s.Count()
	s.Close()
	return n > uint64(termCount(ctx, r, field, term)), nil
}

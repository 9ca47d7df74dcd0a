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
	rank, found, alone, err := q.parts(ctx, r, m, o)
	if err != nil {
		return nil, err
	}
	if rank == q.plain {
		return q.plain.Searcher(ctx, r, m, o)
	}
	if o.Score == "none" { // unscored: the documents of must
		return found.Searcher(ctx, r, m, o)
	}
	// A typo or prefix that finds the word alone would score the documents
	// of the word's clause on its field a second time, and walk its
	// postings a second time: it is left out.
	should := newSparseDisjunction(slices.DeleteFunc(slices.Clone(rank.disjuncts), func(c query.Query) bool { return alone[c] })...)
	s, err := (&requiredQuery{must: unscored{found}, should: should}).Searcher(ctx, r, m, o)
	if err != nil {
		return nil, err
	}
	return &oneWordSearcher{requiredSearcher: s.(*requiredSearcher), rank: should}, nil
}

// hits is the query that finds q's documents on the reader r (scored or
// not): the plain disjunction, or where the word is common its documents
// among all fields' words and its typos and prefixes that find more.
func (q *oneWordQuery) hits(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (query.Query, error) {
	rank, found, _, err := q.parts(ctx, r, m, o)
	if err != nil || rank == q.plain {
		return q.plain, err
	}
	return found, nil
}

// parts are q's ranking on r, and where it is common the disjunction that
// finds its documents and its typo and prefix clauses that find the word
// alone.
func (q *oneWordQuery) parts(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (rank, found *sparseDisjunction, alone map[query.Query]bool, err error) {
	if rank, err = q.ranking(ctx, r, m, o); err != nil || rank == q.plain {
		return rank, nil, nil, err
	}
	in := []query.Query{q.words}
	alone = map[query.Query]bool{}
	for _, c := range q.loose {
		more, err := findsMore(ctx, r, m, o, c)
		if err != nil {
			return nil, nil, nil, err
		}
		if more {
			in = append(in, c)
		} else {
			alone[c] = true
		}
	}
	return rank, newSparseDisjunction(in...), alone, nil
}

// oneWordSearcher finds the documents of a one-word query where the word
// is common: those of its must clause (unscored), scored by its should
// clause. A document should does not find scores 0: the first tier of its
// search is should's documents and the first others (oneWordTier).
type oneWordSearcher struct {
	*requiredSearcher
	rank query.Query // should's query: what a document scores
}

// oneWordTier finds, of a oneWordSearcher's documents, those its should
// clause scores and the first zeros that it does not, in the order of the
// index. A page of the query is made of the first (those scored; then,
// among those that score 0, as bleve breaks ties, the first found): when
// the tier fills a page (with the one after it) it is the query's page,
// whatever filters left out. It walks must until it has found zeros
// documents that score 0, then should's documents only: `id`, in 90% of
// a million datasets' columns and no name, costs a page of documents
// rather than 900,000.
type oneWordTier struct {
	ow     *oneWordSearcher
	bounds *tierBounds            // its norm is set here
	zeros  int                    // documents that score 0 still to find
	cur    *bsearch.DocumentMatch // should's current match, not yet passed
	done   bool                   // should has no more
}

func (s *oneWordTier) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	return s.Advance(ctx, nil)
}

// Advance returns the next document at or after id (nil: after the last
// one returned).
func (s *oneWordTier) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	if s.zeros > 0 {
		d, err := s.advanceMust(ctx, id)
		if err != nil || d == nil {
			return nil, err
		}
		if err := s.should(ctx, d.IndexInternalID); err != nil {
			ctx.DocumentMatchPool.Put(d)
			return nil, err
		}
		if c := s.cur; c != nil && c.IndexInternalID.Equals(d.IndexInternalID) {
			s.cur = nil
			ctx.DocumentMatchPool.Put(d)
			return c, nil // scored as the query scores it: must adds 0
		}
		s.zeros--
		return d, nil
	}
	// should's documents that must finds too.
	for {
		if err := s.should(ctx, id); err != nil || s.cur == nil {
			return nil, err
		}
		h := s.cur
		m, err := s.advanceMust(ctx, h.IndexInternalID)
		if err != nil || m == nil {
			return nil, err
		}
		found := m.IndexInternalID.Equals(h.IndexInternalID)
		id = append(id[:0:0], m.IndexInternalID...)
		ctx.DocumentMatchPool.Put(m)
		if found {
			s.cur = nil
			return h, nil
		}
	}
}

// advanceMust moves must to its first document at or after id (nil: the
// next one).
func (s *oneWordTier) advanceMust(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	if id == nil {
		return s.ow.must.Next(ctx)
	}
	return s.ow.must.Advance(ctx, id)
}

// should moves should's current match to its first at or after id (nil:
// the next one, unless one is pending).
func (s *oneWordTier) should(ctx *bsearch.SearchContext, id index.IndexInternalID) error {
	if s.done || s.cur != nil && (id == nil || s.cur.IndexInternalID.Compare(id) >= 0) {
		return nil
	}
	if s.cur != nil {
		ctx.DocumentMatchPool.Put(s.cur)
		s.cur = nil
	}
	var err error
	if id == nil {
		s.cur, err = s.ow.should.Next(ctx)
	} else {
		s.cur, err = s.ow.should.Advance(ctx, id)
	}
	s.done = err == nil && s.cur == nil
	return err
}

func (s *oneWordTier) SetQueryNorm(n float64) {
	s.bounds.norm = n
	s.ow.SetQueryNorm(n)
}
func (s *oneWordTier) Weight() float64            { return s.ow.Weight() }
func (s *oneWordTier) Count() uint64              { return s.ow.should.Count() }
func (s *oneWordTier) Min() int                   { return 0 }
func (s *oneWordTier) Size() int                  { return s.ow.Size() }
func (s *oneWordTier) DocumentMatchPoolSize() int { return s.ow.DocumentMatchPoolSize() + 1 }
func (s *oneWordTier) Close() error               { return s.ow.Close() }

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

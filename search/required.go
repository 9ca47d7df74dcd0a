package search

import (
	"context"
	"math"

	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// requiredQuery finds the documents of must, each scored as must scores it
// plus what should scores it, if should matches it too: bleve's boolean
// query with one must and one should clause. bleve's own loses should's
// match of a document when it is advanced (as a filter's conjunction
// advances the text's searcher) to a document before the one its should
// clause was on: that clause is advanced again, past it.
type requiredQuery struct {
	must, should query.Query
}

func (q *requiredQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	if o.Score == "none" { // unscored: should adds nothing
		return q.must.Searcher(ctx, r, m, o)
	}
	must, err := q.must.Searcher(ctx, r, m, o)
	if err != nil {
		return nil, err
	}
	should, err := q.should.Searcher(ctx, r, m, o)
	if err != nil {
		must.Close()
		return nil, err
	}
	s := &requiredSearcher{must: must, should: should}
	// As bleve's boolean searcher: the norm over both clauses' weights.
	s.SetQueryNorm(1 / math.Sqrt(s.Weight()))
	return s, nil
}

type requiredSearcher struct {
	must, should bsearch.Searcher
	curShould    *bsearch.DocumentMatch // should's current match, not yet passed
	shouldDone   bool
}

func (s *requiredSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	d, err := s.must.Next(ctx)
	if err != nil || d == nil {
		return d, err
	}
	return s.score(ctx, d)
}

func (s *requiredSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	d, err := s.must.Advance(ctx, id)
	if err != nil || d == nil {
		return d, err
	}
	return s.score(ctx, d)
}

// score adds should's score of d, advancing should to d only when it is
// behind it.
func (s *requiredSearcher) score(ctx *bsearch.SearchContext, d *bsearch.DocumentMatch) (*bsearch.DocumentMatch, error) {
	if !s.shouldDone && (s.curShould == nil || s.curShould.IndexInternalID.Compare(d.IndexInternalID) < 0) {
		if s.curShould != nil {
			ctx.DocumentMatchPool.Put(s.curShould)
		}
		var err error
		if s.curShould, err = s.should.Advance(ctx, d.IndexInternalID); err != nil {
			return nil, err
		}
		s.shouldDone = s.curShould == nil
	}
	if c := s.curShould; c != nil && c.IndexInternalID.Equals(d.IndexInternalID) {
		d.Score += c.Score
		// Copied (array positions included): c goes back to the pool.
		d.FieldTermLocations = bsearch.MergeFieldTermLocationsFromMatch(d.FieldTermLocations, c)
		if d.Expl != nil && c.Expl != nil {
			d.Expl = &bsearch.Explanation{Value: d.Score, Message: "sum of:", Children: []*bsearch.Explanation{d.Expl, c.Expl}}
		}
	}
	return d, nil
}

func (s *requiredSearcher) Close() error {
	err := s.must.Close()
	if err2 := s.should.Close(); err == nil {
		err = err2
	}
	return err
}

func (s *requiredSearcher) Weight() float64 { return s.must.Weight() + s.should.Weight() }
func (s *requiredSearcher) SetQueryNorm(n float64) {
	s.must.SetQueryNorm(n)
	s.should.SetQueryNorm(n)
}
func (s *requiredSearcher) Count() uint64 { return s.must.Count() }
func (s *requiredSearcher) Min() int      { return 0 }
func (s *requiredSearcher) Size() int     { return s.must.Size() + s.should.Size() }
func (s *requiredSearcher) DocumentMatchPoolSize() int {
	return s.must.DocumentMatchPoolSize() + s.should.DocumentMatchPoolSize() + 1
}

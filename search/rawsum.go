package search

import (
	bsearch "github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// rawSum finds the documents of its clauses, each scored by the sum of the
// scores of the clauses that match it, without coordination, and tells
// how many did (count): what the first tier of a search knows of a
// document's score before it asks the whole query (tierSearcher).
type rawSum struct {
	kids    []bsearch.Searcher
	currs   []*bsearch.DocumentMatch
	started bool
	count   int // clauses that matched the last document returned
}

func newRawSum(kids []bsearch.Searcher) *rawSum {
	return &rawSum{kids: kids, currs: make([]*bsearch.DocumentMatch, len(kids))}
}

func (s *rawSum) start(ctx *bsearch.SearchContext) error {
	if s.started {
		return nil
	}
	s.started = true
	for i, k := range s.kids {
		var err error
		if s.currs[i], err = k.Next(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *rawSum) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	return s.emit(ctx)
}

func (s *rawSum) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	for i, c := range s.currs {
		if c == nil || c.IndexInternalID.Compare(id) >= 0 {
			continue
		}
		ctx.DocumentMatchPool.Put(c)
		var err error
		if s.currs[i], err = s.kids[i].Advance(ctx, id); err != nil {
			return nil, err
		}
	}
	return s.emit(ctx)
}

// emit returns the first document of the clauses' current ones, summed in
// the clauses' order, and moves the clauses that matched it on.
func (s *rawSum) emit(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	var first index.IndexInternalID
	for _, c := range s.currs {
		if c != nil && (first == nil || c.IndexInternalID.Compare(first) < 0) {
			first = c.IndexInternalID
		}
	}
	if first == nil {
		return nil, nil
	}
	rv := ctx.DocumentMatchPool.Get()
	rv.IndexInternalID = append(rv.IndexInternalID[:0], first...)
	sum, n := 0.0, 0
	for i, c := range s.currs {
		if c == nil || !c.IndexInternalID.Equals(rv.IndexInternalID) {
			continue
		}
		sum += c.Score
		n++
		ctx.DocumentMatchPool.Put(c)
		var err error
		if s.currs[i], err = s.kids[i].Next(ctx); err != nil {
			ctx.DocumentMatchPool.Put(rv)
			return nil, err
		}
	}
	rv.Score, s.count = sum, n
	return rv, nil
}

func (s *rawSum) SetQueryNorm(n float64) {
	for _, k := range s.kids {
		k.SetQueryNorm(n)
	}
}

func (s *rawSum) Weight() float64 {
	w := 0.0
	for _, k := range s.kids {
		w += k.Weight()
	}
	return w
}

func (s *rawSum) Count() uint64 {
	n := uint64(0)
	for _, k := range s.kids {
		n += k.Count()
	}
	return n
}

func (s *rawSum) Min() int { return 0 }

func (s *rawSum) Size() int {
	n := 0
	for _, k := range s.kids {
		n += k.Size()
	}
	return n
}

func (s *rawSum) DocumentMatchPoolSize() int {
	n := len(s.kids) + 1
	for _, k := range s.kids {
		n += k.DocumentMatchPoolSize()
	}
	return n
}

func (s *rawSum) Close() error {
	var err error
	for _, k := range s.kids {
		if e := k.Close(); err == nil {
			err = e
		}
	}
	return err
}

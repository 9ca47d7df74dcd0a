package search

import (
	"context"
	"slices"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// A filter narrows a text search and never ranks it: its clauses have no
// boost, so a filtered search scores its hits as the unfiltered one does.
//
// bleve would search a filter as a conjunction with the text: each text
// hit outside a wide filter (views: a third of the catalog) advances the
// filter's postings, and each filter document between text hits advances
// every clause of the text, which made a filtered search two to three
// times the work of the same search unfiltered. Where the filter matches
// more documents than the text (as counted by their searchers), the text
// is searched alone and each hit is checked against the facet columns the
// index keeps in memory (facets.go); otherwise the filter's few postings
// lead the conjunction.

// filteredQuery is a text query narrowed by a filter.
type filteredQuery struct {
	text    query.Query
	filters []query.Query // a field's alternatives each, unboosted
	cols    *facetColumns
	values  [len(facetFields)][]string // the filter's, by facet field: alternatives
	path    string                     // Index.filterPath
}

func (q *filteredQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	all := make([]bsearch.Searcher, 0, 1+len(q.filters))
	closeAll := func() {
		for _, s := range all {
			s.Close()
		}
	}
	least := ^uint64(0) // documents the filter matches, at most
	for _, c := range append([]query.Query{q.text}, q.filters...) {
		s, err := c.Searcher(ctx, r, m, o)
		if err != nil {
			closeAll()
			return nil, err
		}
		if len(all) > 0 {
			least = min(least, s.Count())
		}
		all = append(all, s)
	}
	// (The text's count is its clauses' postings: more than its hits.)
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok || q.path == "conjunction" || q.path == "" && least < all[0].Count() {
		return searcher.NewConjunctionSearcher(ctx, r, all, o)
	}
	for _, s := range all[1:] {
		s.Close()
	}
	s := &columnFilter{Searcher: all[0]}
	if err := s.prepare(q, snap); err != nil {
		all[0].Close()
		return nil, err
	}
	return s, nil
}

// columnFilter passes on the hits of a searcher whose facet values the
// filter accepts.
type columnFilter struct {
	bsearch.Searcher
	offsets []uint64 // the first global document number of each segment
	segs    []*segmentFacets
	fields  []int      // the facet fields filtered on
	wanted  [][]uint32 // for each, the ordinals of the values accepted
}

func (s *columnFilter) prepare(q *filteredQuery, snap *scorch.IndexSnapshot) error {
	cols := q.cols
	cols.mu.Lock()
	defer cols.mu.Unlock()
	var err error
	if s.offsets, s.segs, err = segmentColumns(snap, cols.segs, cols.build, nil, nil); err != nil {
		return err
	}
	for f, values := range q.values {
		if len(values) == 0 {
			continue
		}
		var ords []uint32 // a value no document has has no ordinal: nothing matches it
		for _, v := range values {
			if o, ok := cols.values[f].ords[v]; ok {
				ords = append(ords, o)
			}
		}
		s.fields = append(s.fields, f)
		s.wanted = append(s.wanted, ords)
	}
	return nil
}

// accepts reports whether the filter accepts the document numbered n
// (scorch's global number).
func (s *columnFilter) accepts(n uint64) bool {
	seg, local := segmentOf(s.offsets, n)
	if seg < 0 {
		return false
	}
	for i, f := range s.fields {
		col := &s.segs[seg][f]
		ok := false
		if col.one.has() {
			if o := col.one.at(local); o > 0 {
				ok = slices.Contains(s.wanted[i], o-1)
			}
		} else {
			for _, o := range col.vals[col.start[local]:col.start[local+1]] {
				if ok = slices.Contains(s.wanted[i], o); ok {
					break
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *columnFilter) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	d, err := s.Searcher.Next(ctx)
	return s.pass(ctx, d, err)
}

func (s *columnFilter) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	d, err := s.Searcher.Advance(ctx, id)
	return s.pass(ctx, d, err)
}

// pass returns d, or the first hit after it, that the filter accepts.
func (s *columnFilter) pass(ctx *bsearch.SearchContext, d *bsearch.DocumentMatch, err error) (*bsearch.DocumentMatch, error) {
	for err == nil && d != nil && !s.accepts(d.IndexInternalID.Value()) {
		ctx.DocumentMatchPool.Put(d)
		d, err = s.Searcher.Next(ctx)
	}
	return d, err
}

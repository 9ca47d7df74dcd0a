package search

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// An empty query lists datasets by qualified name. bleve's sort on a field
// reads each hit's doc values, decompressing a chunk of the column per
// hit: about 5 ms for a filter's 50 hits spread over 100k datasets, more
// than all else the search does. As facet values are (facets.go), each
// segment's names are kept in memory instead, built once per segment from
// its term dictionary, which lists them in order.

// nameColumn holds the qualified names of a segment's documents: the rank
// of each document's name in the segment's dictionary (0: none) and the
// names in dictionary order.
type nameColumn struct {
	rank  []uint32
	terms []string
}

// nameOrder sorts hits by qualified name, as bleve's SortField on fQName
// (ascending, documents without one last) but from the name columns of
// the snapshot searched, which collectHooks prepares before any hit is
// collected.
type nameOrder struct {
	cols    *facetColumns
	offsets []uint64 // the first global document number of each segment
	segs    []*nameColumn
	desc    bool
}

// prepare finds or builds the name columns of the snapshot's segments.
func (o *nameOrder) prepare(snap *scorch.IndexSnapshot) error {
	cols := o.cols
	cols.mu.Lock()
	defer cols.mu.Unlock()
	if cols.names == nil {
		cols.names = map[segment.Segment]*nameColumn{}
	}
	var err error
	o.offsets, o.segs, err = segmentColumns(snap, cols.names, buildNameColumn, o.offsets, o.segs)
	return err
}

func buildNameColumn(seg segment.Segment) (*nameColumn, error) {
	dict, err := seg.Dictionary(fQName)
	if err != nil {
		return nil, fmt.Errorf("name order: dictionary: %w", err)
	}
	nc := &nameColumn{rank: make([]uint32, seg.Count())}
	err = eachPosting(dict, func(term string) func(uint64) {
		nc.terms = append(nc.terms, term)
		rank := uint32(len(nc.terms))
		return func(doc uint64) { nc.rank[doc] = rank }
	})
	if err != nil {
		return nil, fmt.Errorf("name order: %w", err)
	}
	return nc, nil
}

func (o *nameOrder) Value(d *bsearch.DocumentMatch) string {
	s, local := segmentOf(o.offsets, d.IndexInternalID.Value())
	if s < 0 {
		return bsearch.HighTerm
	}
	if c := o.segs[s]; local < uint64(len(c.rank)) && c.rank[local] > 0 {
		return c.terms[c.rank[local]-1]
	}
	return bsearch.HighTerm // as bleve sorts a missing value: last
}

func (o *nameOrder) UpdateVisitor(string, []byte) {}
func (o *nameOrder) DecodeValue(v string) string  { return v }
func (o *nameOrder) Descending() bool             { return o.desc }
func (o *nameOrder) RequiresDocID() bool          { return false }
func (o *nameOrder) RequiresScoring() bool        { return false }
func (o *nameOrder) RequiresFields() []string     { return nil }
func (o *nameOrder) Reverse()                     { o.desc = !o.desc }
func (o *nameOrder) Copy() bsearch.SearchSort     { return o } // shares the prepared columns

// collectHooks prepare what a search counts (facets) and sorts by (names)
// from the snapshot it searches; installed in the search context under
// search.MakeDocumentMatchHandlerKey.
type collectHooks struct {
	facets *facetCounter
	order  *nameOrder
}

// in returns ctx with h as its searches' hit handler (ctx itself when h
// has no hook).
func (h collectHooks) in(ctx context.Context) context.Context {
	if h == (collectHooks{}) {
		return ctx
	}
	return context.WithValue(ctx, bsearch.MakeDocumentMatchHandlerKey, bsearch.MakeDocumentMatchHandler(h.handler))
}

func (h collectHooks) handler(sctx *bsearch.SearchContext) (bsearch.DocumentMatchHandler, bool, error) {
	if h.order != nil {
		snap, ok := sctx.IndexReader.(*scorch.IndexSnapshot)
		if !ok {
			return nil, false, fmt.Errorf("name order: index reader is a %T, not a scorch snapshot", sctx.IndexReader)
		}
		if err := h.order.prepare(snap); err != nil {
			return nil, false, err
		}
	}
	if h.facets != nil {
		return h.facets.handler(sctx)
	}
	return collector.MakeTopNDocumentMatchHandler(sctx)
}

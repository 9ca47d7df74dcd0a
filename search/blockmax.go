package search

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Block-max skipping, as Lucene's block-max WAND: the first tier of a
// search (tier.go) still walked every document with the words in its name
// (144,000 of a million datasets for customer) to find the 20 that score
// most. Each segment is cut into blocks of blockSize documents, and for
// each term a query asks of it, the highest sqrt(tf)·norm of its postings
// in each block is kept (the part of a term's tf-idf score that is the
// document's: the rest, idf and the query's weight, is the query's). A
// query's clauses bound what any document of a block can score (a term's
// highest there times its weight, summed as the clauses sum, times the
// coordination of the clauses with postings there); once a page of hits
// (the page, those before it and the one after) is held, a block whose
// bound does not beat the page's last hit is skipped: its documents come
// after those found, and bleve breaks a tie by that order.
//
// Segments never change, so a term's maxima are built once per segment,
// from its postings, the first time a search asks (as facet columns are),
// deleted documents included (a bound that is higher than needed is still
// a bound). Scores within a trillionth of the page's last hit count as its
// ties: the bound is summed in another order than bleve's sum.

const (
	blockBits = 8 // a block is 1 << blockBits documents
	blockSize = 1 << blockBits
	// maxBlockBytes is how much a segment's maxima may take (31 KB a term
	// in a segment of a million documents); past it they are built again.
	maxBlockBytes = 16 << 20
	// boundSlack is the relative error a bound allows for: it is summed
	// in another order than bleve's sum. (Scores of documents that differ
	// differ by more: norms are float32s.)
	boundSlack = 1e-12
)

// segmentMaxes are one segment's block maxima, by field and term.
type segmentMaxes struct {
	mu    sync.Mutex
	terms map[fieldTerm][]float64
	bytes int
}

type fieldTerm struct{ field, term string }

func newSegmentMaxes(segment.Segment) (*segmentMaxes, error) {
	return &segmentMaxes{terms: map[fieldTerm][]float64{}}, nil
}

// get returns, for each block of seg, the highest sqrt(tf)·norm of the
// term's postings in field there (-1: none); nil when seg has none.
func (m *segmentMaxes) get(seg segment.Segment, field, term string) ([]float64, error) {
	k := fieldTerm{field, term}
	m.mu.Lock()
	v, ok := m.terms[k]
	m.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := termMaxes(seg, field, term)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.bytes+8*len(v) > maxBlockBytes {
		clear(m.terms)
		m.bytes = 0
	}
	if _, ok := m.terms[k]; !ok { // a search that built it meanwhile built the same
		m.terms[k] = v
		m.bytes += 8 * len(v)
	}
	m.mu.Unlock()
	return v, nil
}

func termMaxes(seg segment.Segment, field, term string) ([]float64, error) {
	dict, err := seg.Dictionary(field)
	if err != nil {
		return nil, fmt.Errorf("block maxima of %s: %w", field, err)
	}
	pl, err := dict.PostingsList([]byte(term), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("block maxima of %s:%s: %w", field, term, err)
	}
	if pl == nil || pl.Count() == 0 {
		return nil, nil
	}
	out := make([]float64, (seg.Count()+blockSize-1)>>blockBits)
	for i := range out {
		out[i] = -1
	}
	it := pl.Iterator(true, true, false, nil)
	for {
		p, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("block maxima of %s:%s: %w", field, term, err)
		}
		if p == nil {
			return out, nil
		}
		// As bleve's term scorer: sqrt(tf)·norm.
		v := math.Sqrt(float64(p.Frequency())) * p.Norm()
		if b := p.Number() >> blockBits; v > out[b] {
			out[b] = v
		}
	}
}

// blockBounds are a query's bounds by block, over all the segments of
// the snapshot it searches: block i holds the global document numbers
// from starts[i] to starts[i+1], and no document there scores more than
// ub[i] times the query's norm.
type blockBounds struct {
	starts []uint64
	ub     []float64
}

// bounder computes the block bounds of a query's clauses on a snapshot.
type bounder struct {
	ctx  context.Context
	r    *scorch.IndexSnapshot
	m    mapping.IndexMapping
	o    bsearch.SearcherOptions
	docs uint64
	segs []segment.Segment
	maxs []*segmentMaxes
	base []int // each segment's first block
	n    int   // blocks
}

// boundsOf returns the block bounds of the ranking query q on r, or nil
// when one of its clauses is of a kind not bounded (tier.go's clauseBound
// bounds the same kinds, with every maximum 1).
func boundsOf(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions, cols *facetColumns, q query.Query) (*blockBounds, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, nil
	}
	docs, err := snap.DocCount()
	if err != nil || docs == 0 {
		return nil, err
	}
	b := &bounder{ctx: ctx, r: snap, m: m, o: o, docs: docs}
	var offsets []uint64
	cols.mu.Lock()
	offsets, b.maxs, err = segmentColumns(snap, cols.maxes, newSegmentMaxes, nil, nil)
	cols.mu.Unlock()
	if err != nil {
		return nil, err
	}
	bb := &blockBounds{}
	for i, ss := range snap.Segments() {
		seg := ss.Segment()
		b.segs = append(b.segs, seg)
		b.base = append(b.base, b.n)
		blocks := int((seg.Count() + blockSize - 1) >> blockBits)
		for j := range blocks {
			bb.starts = append(bb.starts, offsets[i]+uint64(j)<<blockBits)
		}
		b.n += blocks
	}
	ub, _, ok, err := b.bound(q)
	if err != nil || !ok {
		return nil, err
	}
	if ub == nil {
		ub = make([]float64, b.n)
	}
	bb.ub = ub
	return bb, nil
}

// bound returns, block by block, the highest score q gives a document
// (before the query's norm) and whether q may match one there (may nil:
// nowhere); ok false when q is of a kind not bounded. ub nil: 0
// everywhere.
func (b *bounder) bound(q query.Query) (ub []float64, may []bool, ok bool, err error) {
	switch q := q.(type) {
	case *query.TermQuery:
		ub, may, err = b.term(q.FieldVal, q.Term, q.Boost())
		return ub, may, true, err
	case *query.MatchNoneQuery:
		return nil, nil, true, nil
	case unscored:
		_, may, ok, err = b.bound(q.Query)
		return nil, may, ok, err
	case unlessCommon, phraseUnlessCommon:
		// As its searcher: a phrase or word common in the catalog scores
		// nothing, matches nothing.
		if empty, err := b.empty(q); err != nil || empty {
			return nil, nil, err == nil, err
		}
		if u, ok := q.(unlessCommon); ok {
			return b.bound(u.Query)
		}
		return b.bound(q.(phraseUnlessCommon).Query)
	case *query.MultiPhraseQuery:
		// A phrase scores as the conjunction of its terms (each position
		// one of its alternatives).
		var parts []query.Query
		for _, alts := range q.Terms {
			if len(alts) == 0 {
				continue
			}
			var or []query.Query
			for _, t := range alts {
				tq := termQuery(q.FieldVal, t)
				tq.SetBoost(q.Boost())
				or = append(or, tq)
			}
			parts = append(parts, &sumBound{or})
		}
		return b.bound(newSparseConjunction(parts...))
	case *sumBound:
		return b.combine(q.qs, false, false)
	case *sparseDisjunction:
		return b.combine(q.disjuncts, false, true)
	case *sparseConjunction:
		return b.combine(q.conjuncts, true, false)
	case *prefixQuery:
		e, found := cachedExpansion(b.ctx, expansionKey{field: q.field, term: q.prefix})
		return b.terms(e.terms, found, q.field, q.prefix, q.boost)
	case *fuzzyQuery:
		p, _ := q.prefixTerm()
		e, found := cachedExpansion(b.ctx, expansionKey{field: q.field, term: q.term, fuzz: q.fuzz, prefix: len(p)})
		return b.terms(e.terms, found, q.field, q.term, q.boost)
	}
	return nil, nil, false, nil
}

// empty says whether q's searcher on the bounder's snapshot matches
// nothing (unlessCommon's, phraseUnlessCommon's).
func (b *bounder) empty(q query.Query) (bool, error) {
	s, err := q.Searcher(b.ctx, b.r, b.m, b.o)
	if err != nil {
		return false, err
	}
	_, empty := s.(*emptySearcher)
	return empty, s.Close()
}

// sumBound is a bound's disjunction without coordination: a sum of its
// clauses' bounds, matching where any does.
type sumBound struct{ qs []query.Query }

func (q *sumBound) Searcher(context.Context, index.IndexReader, mapping.IndexMapping, bsearch.SearcherOptions) (bsearch.Searcher, error) {
	return nil, fmt.Errorf("sumBound is not searched")
}

// terms bounds a clause searched as the terms found for it (a prefix, a
// typo: a disjunction of them, each term at most the clause's boost, its
// coordination over them all), or as the term alone when none or only it
// was found, as expand.go and fuzzy.go search them.
func (b *bounder) terms(terms []string, found bool, field, single string, boost float64) ([]float64, []bool, bool, error) {
	if !found {
		return nil, nil, false, nil
	}
	if len(terms) == 0 || len(terms) == 1 && terms[0] == single {
		ub, may, err := b.term(field, single, boost)
		return ub, may, true, err
	}
	qs := make([]query.Query, len(terms))
	for i, t := range terms {
		tq := termQuery(field, t)
		tq.SetBoost(boost)
		qs[i] = tq
	}
	return b.combine(qs, false, true)
}

// combine bounds a conjunction (all: a sum, where every clause may match)
// or a disjunction (a sum, where any may match, times the share of
// clauses that may when coord).
func (b *bounder) combine(qs []query.Query, all, coord bool) ([]float64, []bool, bool, error) {
	var ub []float64
	var may []bool
	var count []int32
	for i, c := range qs {
		cub, cmay, ok, err := b.bound(c)
		if err != nil || !ok {
			return nil, nil, ok, err
		}
		if all && cmay == nil {
			return nil, nil, true, nil
		}
		if cub != nil {
			if ub == nil {
				ub = make([]float64, b.n)
			}
			for j, v := range cub {
				ub[j] += v
			}
		}
		switch {
		case all && i == 0:
			may = cmay
		case all:
			for j := range may {
				may[j] = may[j] && cmay[j]
			}
		case cmay != nil:
			if may == nil {
				may = make([]bool, b.n)
			}
			if coord && count == nil {
				count = make([]int32, b.n)
			}
			for j, m := range cmay {
				if m {
					may[j] = true
					if coord {
						count[j]++
					}
				}
			}
		}
	}
	switch {
	case coord && ub != nil:
		for j := range ub {
			ub[j] *= float64(count[j]) / float64(len(qs))
		}
	case all && ub != nil:
		for j, m := range may {
			if !m {
				ub[j] = 0
			}
		}
	}
	return ub, may, true, nil
}

// term bounds a term query: boost·idf² times the term's maxima.
func (b *bounder) term(field, term string, boost float64) ([]float64, []bool, error) {
	n := termCount(b.ctx, b.r, field, term)
	if n == 0 {
		return nil, nil, nil
	}
	idf := 1 + math.Log(float64(b.docs)/float64(n+1))
	w := boost * idf * idf
	ub := make([]float64, b.n)
	may := make([]bool, b.n)
	for s, seg := range b.segs {
		m, err := b.maxs[s].get(seg, field, term)
		if err != nil {
			return nil, nil, err
		}
		for j, v := range m {
			if v >= 0 {
				ub[b.base[s]+j] = w * v
				may[b.base[s]+j] = true
			}
		}
	}
	return ub, may, nil
}

// blockQuery is a tiered search's query (tier.go), searched with block
// skipping when its tier found the bounds of its ranking clauses.
type blockQuery struct {
	query.Query
	tier *tierQuery
}

func (q *blockQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	s, err := q.Query.Searcher(ctx, r, m, o)
	if err != nil || q.tier.blocks == nil {
		return s, err
	}
	skipped, _ := ctx.Value(blocksSkippedCtxKey{}).(*atomic.Int64)
	return &blockSearcher{Searcher: s, blocks: q.tier.blocks, bounds: q.tier.bounds, need: q.tier.need, skipped: skipped}, nil
}

// blocksSkippedCtxKey holds an *atomic.Int64 that counts the blocks the
// searches of a context skip (tests).
type blocksSkippedCtxKey struct{}

// blockSearcher returns its searcher's documents but those of blocks that
// cannot beat the page held (need hits, their scores in a min-heap).
type blockSearcher struct {
	bsearch.Searcher
	blocks *blockBounds
	bounds *tierBounds // its norm
	need   int
	cur    int // the block of the last document returned
	held   minHeap
	// skipped counts the blocks skipped, when the search's context asks.
	skipped *atomic.Int64
}

func (s *blockSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	d, err := s.Searcher.Next(ctx)
	return s.skip(ctx, d, err)
}

func (s *blockSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	d, err := s.Searcher.Advance(ctx, id)
	return s.skip(ctx, d, err)
}

// skip returns d unless its block cannot beat the page held; then the
// first document of a later block that can.
func (s *blockSearcher) skip(ctx *bsearch.SearchContext, d *bsearch.DocumentMatch, err error) (*bsearch.DocumentMatch, error) {
	norm := s.bounds.norm
	for err == nil && d != nil {
		n := d.IndexInternalID.Value()
		for s.cur+1 < len(s.blocks.starts) && s.blocks.starts[s.cur+1] <= n {
			s.cur++
		}
		if len(s.held) < s.need || norm == 0 {
			break
		}
		least := s.held[0]
		if s.blocks.ub[s.cur]*norm*(1-boundSlack) > least {
			break
		}
		next := s.cur + 1
		for next < len(s.blocks.starts) && s.blocks.ub[next]*norm*(1-boundSlack) <= least {
			next++
		}
		if s.skipped != nil {
			s.skipped.Add(int64(next - s.cur))
		}
		ctx.DocumentMatchPool.Put(d)
		if next == len(s.blocks.starts) {
			return nil, nil
		}
		s.cur = next
		d, err = s.Searcher.Advance(ctx, index.NewIndexInternalID(nil, s.blocks.starts[next]))
	}
	if err != nil || d == nil {
		return nil, err
	}
	s.held.push(d.Score, s.need)
	return d, nil
}

// minHeap holds the highest scores pushed, up to a number, least first.
type minHeap []float64

func (h *minHeap) push(v float64, limit int) {
	if len(*h) == limit {
		if v <= (*h)[0] {
			return
		}
		(*h)[0] = v
		h.down(0)
		return
	}
	*h = append(*h, v)
	for i := len(*h) - 1; i > 0; {
		p := (i - 1) / 2
		if (*h)[p] <= (*h)[i] {
			break
		}
		(*h)[p], (*h)[i] = (*h)[i], (*h)[p]
		i = p
	}
}

func (h minHeap) down(i int) {
	for {
		l, least := 2*i+1, i
		if l < len(h) && h[l] < h[least] {
			least = l
		}
		if r := l + 1; r < len(h) && h[r] < h[least] {
			least = r
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}

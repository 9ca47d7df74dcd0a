package search

import (
	"context"
	"fmt"
	"math"
	"sort"
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
	pl, err := termPostings(seg, field, term)
	if err != nil {
		return nil, fmt.Errorf("block maxima: %w", err)
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
// the snapshot it searches: segment s holds the global document numbers
// from offsets[s], cut into blocks numbered from base[s] on; no document
// of block i scores more than ub(i) times the query's norm. A bound is
// worked out when a search asks for it, from the clauses' tree: a search
// looks at few blocks, and the bounds of every block of every clause
// were a megabyte of garbage a search at a million datasets.
type blockBounds struct {
	offsets []uint64
	base    []int
	n       int // blocks
	root    *boundNode
}

// segOf returns the segment of block i and i's number within it.
func (bb *blockBounds) segOf(i int) (int, int) {
	s := sort.SearchInts(bb.base, i+1) - 1
	return s, i - bb.base[s]
}

// start is the first global document number of block i.
func (bb *blockBounds) start(i int) uint64 {
	s, j := bb.segOf(i)
	return bb.offsets[s] + uint64(j)<<blockBits
}

// ub is the highest score a document of block i may have, before the
// query's norm.
func (bb *blockBounds) ub(i int) float64 {
	s, j := bb.segOf(i)
	u, _ := bb.root.eval(s, j)
	return u
}

// locate returns the segment of global document n and its block there.
func (bb *blockBounds) locate(n uint64) (int, int) {
	s := sort.Search(len(bb.offsets), func(i int) bool { return bb.offsets[i] > n }) - 1
	return s, int((n - bb.offsets[s]) >> blockBits)
}

// A boundNode bounds one clause of a query block by block.
type boundNode struct {
	op    boundOp
	w     float64     // opTerm: boost·idf²
	maxes [][]float64 // opTerm: the term's maxima by segment (nil: none there)
	kids  []*boundNode
	n     int // opDisj: the clauses its coordination counts
}

type boundOp uint8

const (
	opNone     boundOp = iota // matches nothing
	opTerm                    // a term: w times its maximum in the block
	opUnscored                // matches as its clause does, scores 0
	opConj                    // every clause: the sum, where all may match
	opDisj                    // any clause: the sum times the share that may match
	opSum                     // any clause: the sum
)

// eval returns the highest score (before the query's norm) nd gives a
// document of block j of segment s, and whether one there may match.
func (nd *boundNode) eval(s, j int) (float64, bool) {
	switch nd.op {
	case opTerm:
		if m := nd.maxes[s]; m != nil && m[j] >= 0 {
			return nd.w * m[j], true
		}
		return 0, false
	case opUnscored:
		_, may := nd.kids[0].eval(s, j)
		return 0, may
	case opConj:
		sum := 0.0
		for _, k := range nd.kids {
			u, may := k.eval(s, j)
			if !may {
				return 0, false
			}
			sum += u
		}
		return sum, true
	case opDisj, opSum:
		sum, count := 0.0, 0
		for _, k := range nd.kids {
			if u, may := k.eval(s, j); may {
				sum += u
				count++
			}
		}
		if nd.op == opDisj {
			sum *= float64(count) / float64(nd.n)
		}
		return sum, count > 0
	}
	return 0, false
}

var noneNode = &boundNode{op: opNone}

// bounder builds the bound tree of a query's clauses on a snapshot.
type bounder struct {
	ctx  context.Context
	r    *scorch.IndexSnapshot
	m    mapping.IndexMapping
	o    bsearch.SearcherOptions
	docs uint64
	segs []segment.Segment
	maxs []*segmentMaxes
}

// boundsOf returns the block bounds of the ranking query q on r, or nil
// when one of its clauses is of a kind not bounded (tier.go's clauseBound
// bounds the same kinds, with every maximum 1).
func boundsOf(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions, cols *facetColumns, q query.Query) (*blockBounds, error) {
	b, bb, err := newBounder(ctx, r, m, o, cols)
	if err != nil || b == nil {
		return nil, err
	}
	root, ok, err := b.bound(q)
	if err != nil || !ok {
		return nil, err
	}
	bb.root = root
	return bb, nil
}

// newBounder returns a bounder on r and the blocks of r's segments (their
// root to be set); nil when r is not a scorch snapshot or is empty.
func newBounder(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions, cols *facetColumns) (*bounder, *blockBounds, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, nil, nil
	}
	docs, err := snap.DocCount()
	if err != nil || docs == 0 {
		return nil, nil, err
	}
	b := &bounder{ctx: ctx, r: snap, m: m, o: o, docs: docs}
	bb := &blockBounds{}
	cols.mu.Lock()
	bb.offsets, b.maxs, err = segmentColumns(snap, cols.maxes, newSegmentMaxes, nil, nil)
	cols.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	for _, ss := range snap.Segments() {
		seg := ss.Segment()
		b.segs = append(b.segs, seg)
		bb.base = append(bb.base, bb.n)
		bb.n += int((seg.Count() + blockSize - 1) >> blockBits)
	}
	return b, bb, nil
}

// bound returns the bound tree of q; ok false when q is of a kind not
// bounded.
func (b *bounder) bound(q query.Query) (*boundNode, bool, error) {
	switch q := q.(type) {
	case *query.TermQuery:
		nd, err := b.term(q.FieldVal, q.Term, q.Boost())
		return nd, err == nil, err
	case *query.MatchNoneQuery:
		return noneNode, true, nil
	case unscored:
		k, ok, err := b.bound(q.Query)
		if err != nil || !ok {
			return nil, ok, err
		}
		return &boundNode{op: opUnscored, kids: []*boundNode{k}}, true, nil
	case unlessCommon, phraseUnlessCommon:
		// As its searcher: a phrase or word common in the catalog scores
		// nothing, matches nothing.
		if empty, err := matchesNothing(b.ctx, b.r, b.m, b.o, q); err != nil || empty {
			return noneNode, err == nil, err
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
		return b.combine(q.qs, opSum)
	case *sparseDisjunction:
		return b.combine(q.disjuncts, opDisj)
	case *sparseConjunction:
		return b.combine(q.conjuncts, opConj)
	case *prefixQuery:
		e, found := cachedExpansion(b.ctx, expansionKey{field: q.field, term: q.prefix})
		return b.terms(e.terms, found, q.field, q.prefix, q.boost)
	case *fuzzyQuery:
		p, _ := q.prefixTerm()
		e, found := cachedExpansion(b.ctx, expansionKey{field: q.field, term: q.term, fuzz: q.fuzz, prefix: len(p)})
		return b.terms(e.terms, found, q.field, q.term, q.boost)
	}
	return nil, false, nil
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
func (b *bounder) terms(terms []string, found bool, field, single string, boost float64) (*boundNode, bool, error) {
	if !found {
		return nil, false, nil
	}
	if len(terms) == 0 || len(terms) == 1 && terms[0] == single {
		nd, err := b.term(field, single, boost)
		return nd, err == nil, err
	}
	qs := make([]query.Query, len(terms))
	for i, t := range terms {
		tq := termQuery(field, t)
		tq.SetBoost(boost)
		qs[i] = tq
	}
	return b.combine(qs, opDisj)
}

// combine bounds a conjunction, a disjunction or a sum of qs.
func (b *bounder) combine(qs []query.Query, op boundOp) (*boundNode, bool, error) {
	nd := &boundNode{op: op, n: len(qs)}
	for _, c := range qs {
		k, ok, err := b.bound(c)
		if err != nil || !ok {
			return nil, ok, err
		}
		switch {
		case k.op != opNone:
			nd.kids = append(nd.kids, k)
		case op == opConj: // a clause that matches nothing: neither does it
			return noneNode, true, nil
		}
	}
	if len(nd.kids) == 0 {
		return noneNode, true, nil
	}
	return nd, true, nil
}

// term bounds a term query: boost·idf² times the term's maxima.
func (b *bounder) term(field, term string, boost float64) (*boundNode, error) {
	n := termCount(b.ctx, b.r, field, term)
	if n == 0 {
		return noneNode, nil
	}
	idf := 1 + math.Log(float64(b.docs)/float64(n+1))
	nd := &boundNode{op: opTerm, w: boost * idf * idf, maxes: make([][]float64, len(b.segs))}
	for s, seg := range b.segs {
		m, err := b.maxs[s].get(seg, field, term)
		if err != nil {
			return nil, err
		}
		nd.maxes[s] = m
	}
	return nd, nil
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
	return &blockSearcher{Searcher: s, blocks: q.tier.blocks, bounds: q.tier.bounds, need: q.tier.need, skipped: skipped, curUB: -1}, nil
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
	cur    int     // the block of the last document returned
	curUB  float64 // its bound (-1: not worked out)
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
	bb := s.blocks
	for err == nil && d != nil {
		n := d.IndexInternalID.Value()
		for s.cur+1 < bb.n && bb.start(s.cur+1) <= n {
			s.cur, s.curUB = s.cur+1, -1
		}
		if len(s.held) < s.need || norm == 0 {
			break
		}
		least := s.held[0]
		if s.curUB < 0 {
			s.curUB = bb.ub(s.cur)
		}
		if s.curUB*norm*(1-boundSlack) > least {
			break
		}
		next := s.cur + 1
		for next < bb.n && bb.ub(next)*norm*(1-boundSlack) <= least {
			next++
		}
		s.bounds.skipped = true
		if s.skipped != nil {
			s.skipped.Add(int64(next - s.cur))
		}
		ctx.DocumentMatchPool.Put(d)
		if next == bb.n {
			return nil, nil
		}
		s.cur, s.curUB = next, -1
		d, err = s.Searcher.Advance(ctx, index.NewIndexInternalID(nil, bb.start(next)))
	}
	if err != nil || d == nil {
		return nil, err
	}
	s.held.push(d.Score, s.need)
	if len(s.held) == s.need {
		s.bounds.least, s.bounds.full = s.held[0], true
	}
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

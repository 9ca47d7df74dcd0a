package search

import (
	"context"
	"fmt"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// A search whose page was found by skipping blocks (searchSkipping) still
// owes its exact total and facets: every hit, but none of them scored. A
// search of its clauses unscored walked them one by one through bleve's
// searchers (25 ms for the 144,000 hits of `cust` at a million datasets,
// against 1 for the page); here each segment's hits are a bitmap, the
// union and intersection of its terms' postings, narrowed by the filter,
// and the facets are counted from it.

// countHits returns the number of documents of q (its hits, whatever they
// score) that pass f in the snapshot of idx, and counts their facets in c
// (nil: none). ok false: q has a clause a bitmap cannot answer (a phrase,
// whose words must be side by side); the caller counts by search.
func (x *Index) countHits(ctx context.Context, idx bleve.Index, q query.Query, f Filter, c *facetCounter) (total uint64, ok bool, err error) {
	r, err := reader(idx)
	if err != nil {
		return 0, false, err
	}
	defer r.Close()
	snap, isSnap := r.(*scorch.IndexSnapshot)
	if !isSnap {
		return 0, false, nil
	}
	if c != nil {
		if err := c.prepare(snap); err != nil {
			return 0, false, err
		}
	}
	bc := newBitmapCounter(ctx, snap, idx.Mapping())
	for s, ss := range snap.Segments() {
		seg := ss.Segment()
		bm, ok, err := bc.bitmap(seg, q)
		if err != nil || !ok {
			return 0, ok, err
		}
		if bm != nil && !bm.IsEmpty() {
			bm, err = bc.filter(seg, bm, f)
			if err != nil {
				return 0, false, err
			}
			if d := ss.Deleted(); d != nil {
				bm.AndNot(d)
			}
			total += bm.GetCardinality()
			if c != nil {
				c.tallyLocal(s, bm)
			}
		}
	}
	return total, true, nil
}

// termPostings returns the postings of term in field of seg, deleted
// documents included (nil or empty: none).
func termPostings(seg segment.Segment, field, term string) (segment.PostingsList, error) {
	dict, err := seg.Dictionary(field)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	pl, err := dict.PostingsList([]byte(term), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s:%s: %w", field, term, err)
	}
	return pl, nil
}

// bitmapCounter finds the documents a query matches in a segment of a
// snapshot, as a bitmap.
type bitmapCounter struct {
	ctx  context.Context
	snap *scorch.IndexSnapshot
	m    mapping.IndexMapping
	memo *segmentBitmaps // ctx's, if any
	// What the snapshot says of a clause, asked once for all segments:
	// whether a common word's or phrase's clause (by its inner query)
	// matches nothing, and a query of one word's hits.
	empties map[query.Query]bool
	hits    map[*oneWordQuery]query.Query
}

// newBitmapCounter is a counter of snap's documents in ctx's Search.
func newBitmapCounter(ctx context.Context, snap *scorch.IndexSnapshot, m mapping.IndexMapping) *bitmapCounter {
	memo, _ := ctx.Value(segmentBitmapsCtxKey{}).(*segmentBitmaps)
	return &bitmapCounter{ctx: ctx, snap: snap, m: m, memo: memo}
}

func (bc *bitmapCounter) remember() {
	if bc.empties == nil {
		bc.empties, bc.hits = map[query.Query]bool{}, map[*oneWordQuery]query.Query{}
	}
}

// empty says whether q (unlessCommon, phraseUnlessCommon) matches nothing
// on the snapshot.
func (bc *bitmapCounter) empty(q query.Query) (bool, error) {
	key := q
	switch c := q.(type) {
	case unlessCommon:
		key = c.Query
	case phraseUnlessCommon:
		key = c.Query
	}
	bc.remember()
	if e, ok := bc.empties[key]; ok {
		return e, nil
	}
	e, err := matchesNothing(bc.ctx, bc.snap, bc.m, bsearch.SearcherOptions{}, q)
	if err == nil {
		bc.empties[key] = e
	}
	return e, err
}

// matchesNothing says whether q's searcher on r matches nothing
// (unlessCommon's, phraseUnlessCommon's, when their words are common).
func matchesNothing(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions, q query.Query) (bool, error) {
	s, err := q.Searcher(ctx, r, m, o)
	if err != nil {
		return false, err
	}
	_, empty := s.(*emptySearcher)
	return empty, s.Close()
}

// postings returns the documents of seg with term in field, deleted ones
// included: the segment's own bitmap, or one kept for ctx's Search (see
// segmentBitmaps); the caller must not change it.
func (bc *bitmapCounter) postings(seg segment.Segment, field, term string) (*roaring.Bitmap, error) {
	key := bitmapKey{seg: seg, field: field, term: term}
	if bm, ok := bc.memo.get(key); ok {
		return bm, nil
	}
	pl, err := termPostings(seg, field, term)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	var out *roaring.Bitmap
	if pl != nil && pl.Count() > 0 {
		it := pl.Iterator(false, false, false, nil)
		if out = actualBitmap(it); out == nil { // a list of one document
			out = roaring.New()
			for p, err := it.Next(); p != nil || err != nil; p, err = it.Next() {
				if err != nil {
					return nil, fmt.Errorf("count: %s:%s: %w", field, term, err)
				}
				out.Add(uint32(p.Number()))
			}
		}
	} else {
		out = roaring.New()
	}
	bc.memo.put(key, out)
	return out, nil
}

// actualBitmap is the bitmap of a postings iterator's documents, when it
// keeps one (zap's, but for a list of one document): not the caller's.
func actualBitmap(it segment.PostingsIterator) *roaring.Bitmap {
	if a, ok := it.(interface{ ActualBitmap() *roaring.Bitmap }); ok {
		return a.ActualBitmap()
	}
	return nil
}

// terms is the union of the postings of terms in field.
func (bc *bitmapCounter) terms(seg segment.Segment, field string, terms []string) (*roaring.Bitmap, error) {
	out := roaring.New()
	for _, t := range terms {
		bm, err := bc.postings(seg, field, t)
		if err != nil {
			return nil, err
		}
		out.Or(bm)
	}
	return out, nil
}

// bitmap returns the documents of seg that q matches (nil: none), deleted
// ones included; the caller must not change the bitmap (it may be the
// segment's own, or kept for others in the Search).
func (bc *bitmapCounter) bitmap(seg segment.Segment, q query.Query) (*roaring.Bitmap, bool, error) {
	switch q := q.(type) {
	case *query.TermQuery:
		bm, err := bc.postings(seg, q.FieldVal, q.Term)
		return bm, err == nil, err
	case *query.MatchNoneQuery:
		return nil, true, nil
	case unscored:
		return bc.bitmap(seg, q.Query)
	case unlessCommon, phraseUnlessCommon:
		// As its searcher: common, it matches nothing.
		if empty, err := bc.empty(q); err != nil || empty {
			return nil, err == nil, err
		}
		if u, ok := q.(unlessCommon); ok {
			return bc.bitmap(seg, u.Query)
		}
		return nil, false, nil // a phrase: positions
	case *sparseDisjunction:
		return bc.combine(seg, q.disjuncts, false)
	case *sparseConjunction:
		return bc.combine(seg, q.conjuncts, true)
	case *requiredQuery:
		return bc.bitmap(seg, q.must)
	case *oneWordQuery:
		h, ok := bc.hits[q]
		if !ok {
			var err error
			if h, err = q.hits(bc.ctx, bc.snap, bc.m, bsearch.SearcherOptions{}); err != nil {
				return nil, false, err
			}
			bc.remember()
			bc.hits[q] = h
		}
		return bc.bitmap(seg, h)
	case *prefixQuery:
		e, found := cachedExpansion(bc.ctx, expansionKey{field: q.field, term: q.prefix})
		return bc.expanded(seg, e, found, q.field, q.prefix)
	case *fuzzyQuery:
		p, _ := q.prefixTerm()
		e, found := cachedExpansion(bc.ctx, expansionKey{field: q.field, term: q.term, fuzz: q.fuzz, prefix: len(p)})
		return bc.expanded(seg, e, found, q.field, q.term)
	}
	return nil, false, nil
}

// expanded is the documents of a prefix's or typo's terms as its search
// found them (not found: not answered), or of the term alone when none
// was, as expand.go and fuzzy.go search them.
func (bc *bitmapCounter) expanded(seg segment.Segment, e expansion, found bool, field, single string) (*roaring.Bitmap, bool, error) {
	if !found {
		return nil, false, nil
	}
	terms := e.terms
	if len(terms) == 0 {
		terms = []string{single}
	}
	bm, err := bc.terms(seg, field, terms)
	return bm, err == nil, err
}

// combine is the intersection (all) or the union of qs's documents in
// seg: a new bitmap, or one of theirs when it is only that one.
func (bc *bitmapCounter) combine(seg segment.Segment, qs []query.Query, all bool) (*roaring.Bitmap, bool, error) {
	var out *roaring.Bitmap
	owned := false // out is this call's own, to change
	for i, c := range qs {
		bm, ok, err := bc.bitmap(seg, c)
		if err != nil || !ok {
			return nil, ok, err
		}
		switch {
		case all && bm == nil:
			return nil, true, nil
		case all && i == 0:
			out = bm
		case all && !owned:
			out, owned = roaring.And(out, bm), true
		case all:
			out.And(bm)
		case bm == nil:
		case out == nil:
			out = bm
		case !owned:
			out, owned = roaring.Or(out, bm), true
		default:
			out.Or(bm)
		}
	}
	return out, true, nil
}

// filter returns the documents of bm (not changed) that f lets through
// (withFilter's), jobs and, unless f asks for them, removed datasets left
// out.
func (bc *bitmapCounter) filter(seg segment.Segment, bm *roaring.Bitmap, f Filter) (*roaring.Bitmap, error) {
	jobs, err := bc.postings(seg, fType, typeJob)
	if err != nil {
		return nil, err
	}
	out := roaring.AndNot(bm, jobs)
	for i, values := range [len(facetFields)][]string{f.Namespaces, f.Databases, f.Schemas, f.Kinds, f.Tags, f.Owners, f.Freshness, f.Health} {
		if len(values) == 0 {
			continue
		}
		any, err := bc.terms(seg, facetFields[i], values)
		if err != nil {
			return nil, err
		}
		out.And(any)
	}
	if !f.IncludeRemoved {
		removed, err := bc.postings(seg, fRemoved, "T")
		if err != nil {
			return nil, err
		}
		out.AndNot(removed)
	}
	return out, nil
}

// A Search asks for the same postings several times: its tier's low
// clauses, its required words, its sample and its count each take the
// bitmaps of their words in each segment (`customer orders` took the
// postings of `order` three times, at a million datasets each a few
// hundred microseconds to find, copy and intersect). segmentBitmaps keeps
// them for the length of one Search, unchanged: a segment never changes,
// and its deleted documents are left out by whoever reads them.
type segmentBitmaps struct {
	mu   sync.Mutex
	bits map[bitmapKey]*roaring.Bitmap
}

type bitmapKey struct {
	seg         segment.Segment
	field, term string
}

type segmentBitmapsCtxKey struct{}

func withSegmentBitmaps(ctx context.Context) context.Context {
	return context.WithValue(ctx, segmentBitmapsCtxKey{}, &segmentBitmaps{bits: map[bitmapKey]*roaring.Bitmap{}})
}

func (m *segmentBitmaps) get(k bitmapKey) (*roaring.Bitmap, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	bm, ok := m.bits[k]
	return bm, ok
}

func (m *segmentBitmaps) put(k bitmapKey, bm *roaring.Bitmap) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.bits[k] = bm
	m.mu.Unlock()
}

package search

import (
	"cmp"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Facets are counted here, not by bleve: bleve reads each hit's doc values
// (a chunk decompressed per hit), which costs more than the search itself
// when a query has thousands of hits. Instead the facet values of every
// document of an index segment are kept in memory as small integers,
// built once per segment from its postings, and a search counts its hits'
// values as the collector sees them. Segments never change: an update
// adds the new version to a new segment and marks the old one deleted,
// and deleted documents are never hits, so the counts are exact.

// facetColumns holds what searches build of the index segments in use:
// their facet values, name order, block maxima and decoded postings; and
// the queries whose tier could not tell (all of it dropped with the index
// when a rebuild replaces it).
type facetColumns struct {
	mu     sync.Mutex
	segs   map[segment.Segment]*segmentFacets
	values [len(facetFields)]valueDict       // shared by all segments
	names  map[segment.Segment]*nameColumn   // for sorting by name (order.go)
	maxes  map[segment.Segment]*segmentMaxes // block maxima (blockmax.go)
	hot    *hotPostings                      // decoded postings (hot.go)
	misses tierMisses                        // queries whose tier could not tell (tier.go)
	// bits says how hits' values are counted where a field has bitmaps:
	// by whichever way costs fewer steps (bitsCheaper), or (tests) always
	// or never through them.
	bits bitsMode
}

// valueDict numbers the values of a facet field.
type valueDict struct {
	ords map[string]uint32
	vals []string
}

func (d *valueDict) ord(v string) uint32 {
	o, ok := d.ords[v]
	if !ok {
		if d.ords == nil {
			d.ords = map[string]uint32{}
		}
		o = uint32(len(d.vals))
		d.ords[v] = o
		d.vals = append(d.vals, v)
	}
	return o
}

// segmentFacets holds one segment's facet values, a column per field.
type segmentFacets [len(facetFields)]facetColumn

// facetColumn holds the values of one field for the documents of a
// segment, as ordinals of its valueDict. Where no document has two, the
// value of document n is one[n]-1 (0: none); else its values are
// vals[start[n]:start[n+1]].
type facetColumn struct {
	one         oneValue
	start, vals []uint32
	// A field with few values in the segment (kind, database, freshness;
	// not owners) also has the documents of each, value ords[i] in
	// docs[i]: the count of a value among most of a segment's documents is
	// the cardinality of an intersection of bitmaps, not a step per hit
	// (tallyBits). steps[i] is the most an intersection with docs[i]
	// takes: its documents, or 1,024 words for each 65,536 documents.
	ords  []uint32
	docs  []*roaring.Bitmap
	steps []uint64
}

// maxValueBitmaps is the most values of a field in a segment kept as
// bitmaps.
const maxValueBitmaps = 32

type bitsMode uint8

const (
	bitsCheaper bitsMode = iota
	bitsAlways
	bitsNever
)

func newFacetColumns() *facetColumns {
	return &facetColumns{segs: map[segment.Segment]*segmentFacets{}, maxes: map[segment.Segment]*segmentMaxes{}, hot: newHotPostings(hotBudgetFor(debug.SetMemoryLimit(-1)))}
}

// facetCounter counts the facet values of one search's hits.
type facetCounter struct {
	cols    *facetColumns
	offsets []uint64 // the first global document number of each segment
	segs    []*segmentFacets
	counts  [len(facetFields)][]int
	vals    [len(facetFields)][]string
	hits    []uint64 // global document numbers, counted at the end
}

// hitBuffers recycles facetCounter.hits: a query may have 100k hits.
var hitBuffers = sync.Pool{New: func() any { return new([]uint64) }}

// handler makes the collector's hit handler: it counts each hit, then
// hands it to bleve's. Installed in the search context under
// search.MakeDocumentMatchHandlerKey.
func (c *facetCounter) handler(sctx *bsearch.SearchContext) (bsearch.DocumentMatchHandler, bool, error) {
	if c.segs != nil {
		return nil, false, errors.New("facets: a counter counts one search")
	}
	snap, ok := sctx.IndexReader.(*scorch.IndexSnapshot)
	if !ok {
		return nil, false, fmt.Errorf("facets: index reader is a %T, not a scorch snapshot", sctx.IndexReader)
	}
	if err := c.prepare(snap); err != nil {
		return nil, false, err
	}
	next, loadID, err := collector.MakeTopNDocumentMatchHandler(sctx)
	if err != nil || next == nil {
		return nil, false, cmp.Or(err, errors.New("facets: no top-N collector"))
	}
	c.hits = (*hitBuffers.Get().(*[]uint64))[:0]
	return func(d *bsearch.DocumentMatch) error {
		if d != nil {
			c.hits = append(c.hits, d.IndexInternalID.Value())
		}
		return next(d) // may recycle d
	}, loadID, nil
}

// prepare finds or builds the columns of the snapshot's segments.
func (c *facetCounter) prepare(snap *scorch.IndexSnapshot) error {
	cols := c.cols
	cols.mu.Lock()
	defer cols.mu.Unlock()
	var err error
	if c.offsets, c.segs, err = segmentColumns(snap, cols.segs, cols.build, c.offsets, c.segs); err != nil {
		return err
	}
	for f := range facetFields {
		c.vals[f] = cols.values[f].vals[:len(cols.values[f].vals):len(cols.values[f].vals)]
		c.counts[f] = make([]int, len(c.vals[f]))
	}
	return nil
}

// segmentColumns appends to offsets and cols, for each segment of snap in
// order, the first global document number of the segment and its column
// from cache, built and cached if missing; columns of segments merged
// away are forgotten (a search still on an older snapshot builds them
// again). Global document numbers run through the segments in order, each
// taking as many as its segment holds, deleted ones included (as scorch
// numbers them). The caller holds the lock that guards cache.
func segmentColumns[T any](snap *scorch.IndexSnapshot, cache map[segment.Segment]T, build func(segment.Segment) (T, error), offsets []uint64, cols []T) ([]uint64, []T, error) {
	var next uint64
	inUse := make(map[segment.Segment]bool, len(cache))
	for _, ss := range snap.Segments() {
		seg := ss.Segment()
		col, ok := cache[seg]
		if !ok {
			var err error
			if col, err = build(seg); err != nil {
				return offsets, cols, err
			}
			cache[seg] = col
		}
		inUse[seg] = true
		offsets = append(offsets, next)
		cols = append(cols, col)
		next += seg.Count()
	}
	if len(cache) > len(inUse) {
		for seg := range cache {
			if !inUse[seg] {
				delete(cache, seg)
			}
		}
	}
	return offsets, cols, nil
}

// eachPosting walks a segment's term dictionary in order: for each term,
// visit returns what to call with each document (segment-local numbers)
// of the term's postings, or nil to skip them.
func eachPosting(dict segment.TermDictionary, visit func(term string) func(doc uint64)) error {
	var pl segment.PostingsList
	var pi segment.PostingsIterator
	it := dict.AutomatonIterator(nil, nil, nil)
	for {
		e, err := it.Next()
		if err != nil {
			return fmt.Errorf("terms: %w", err)
		}
		if e == nil {
			return nil
		}
		each := visit(e.Term)
		if each == nil {
			continue
		}
		if pl, err = dict.PostingsList([]byte(e.Term), nil, pl); err != nil {
			return fmt.Errorf("postings: %w", err)
		}
		pi = pl.Iterator(false, false, false, pi)
		for {
			p, err := pi.Next()
			if err != nil {
				return fmt.Errorf("postings: %w", err)
			}
			if p == nil {
				break
			}
			each(p.Number())
		}
	}
}

// segmentOf finds, among segments whose first global document numbers
// are offsets, the one holding document n (-1: none) and n's number in it.
func segmentOf(offsets []uint64, n uint64) (int, uint64) {
	s := sort.Search(len(offsets), func(i int) bool { return offsets[i] > n }) - 1
	if s < 0 {
		return -1, 0
	}
	return s, n - offsets[s]
}

// build reads a segment's facet values from its term dictionaries and
// postings, which cost a pass over the postings of few terms.
func (cols *facetColumns) build(seg segment.Segment) (*segmentFacets, error) {
	n := seg.Count()
	sf := &segmentFacets{}
	var pairs []docValue
	for f, field := range facetFields {
		dict, err := seg.Dictionary(field)
		if err != nil {
			return nil, fmt.Errorf("facets: %s dictionary: %w", field, err)
		}
		pairs = pairs[:0]
		err = eachPosting(dict, func(term string) func(uint64) {
			if term == "" {
				return nil // a field left empty (unknown status, no database) is no value
			}
			ord := cols.values[f].ord(term)
			return func(doc uint64) { pairs = append(pairs, docValue{uint32(doc), ord}) }
		})
		if err != nil {
			return nil, fmt.Errorf("facets: %s %w", field, err)
		}
		sf[f].ords, sf[f].docs, sf[f].steps = valueBitmaps(pairs, n)
		// Counting sort by document: start[d+1] is the end of d's values.
		start := make([]uint32, n+1)
		multi := false
		for _, p := range pairs {
			start[p.doc+1]++
			multi = multi || start[p.doc+1] > 1
		}
		if !multi {
			sf[f].one = newOneValue(pairs, n, uint32(len(cols.values[f].vals)))
			continue
		}
		for d := uint64(1); d <= n; d++ {
			start[d] += start[d-1]
		}
		vals := make([]uint32, len(pairs))
		fill := slices.Clone(start[:n])
		for _, p := range pairs {
			vals[fill[p.doc]] = p.ord
			fill[p.doc]++
		}
		sf[f].start, sf[f].vals = start, vals
	}
	return sf, nil
}

// docValue is a document (segment-local) and the ord of one of its values.
type docValue struct{ doc, ord uint32 }

// valueBitmaps makes a bitmap of the documents of each value of pairs
// (document, value), which come a value at a time, unless there are more
// than maxValueBitmaps values.
func valueBitmaps(pairs []docValue, n uint64) ([]uint32, []*roaring.Bitmap, []uint64) {
	var ords []uint32
	var docs []*roaring.Bitmap
	var steps []uint64
	var buf []uint32
	words := 1024 * (n>>16 + 1)
	for i := 0; i < len(pairs); {
		j := i
		for j < len(pairs) && pairs[j].ord == pairs[i].ord {
			j++
		}
		if len(ords) == maxValueBitmaps {
			return nil, nil, nil
		}
		buf = buf[:0]
		for _, p := range pairs[i:j] {
			buf = append(buf, p.doc)
		}
		bm := roaring.New()
		bm.AddMany(buf)
		bm.RunOptimize()
		ords, docs = append(ords, pairs[i].ord), append(docs, bm)
		steps = append(steps, min(uint64(j-i), words))
		i = j
	}
	return ords, docs, steps
}

// bitsFor reports whether the values of col among n hits of a segment are
// counted through its bitmaps, in mode: when intersecting them takes
// fewer steps than n.
func bitsFor(col *facetColumn, n uint64, mode bitsMode) bool {
	if col.docs == nil || mode == bitsNever {
		return false
	}
	if mode == bitsAlways {
		return true
	}
	var cost uint64
	for _, s := range col.steps {
		cost += min(s, n)
	}
	return cost < n
}

// tallyBits counts the values of col among hits, a segment's, by
// intersecting the bitmaps of col's values with them.
func tallyBits(col *facetColumn, counts []int, hits *roaring.Bitmap) {
	for i, bm := range col.docs {
		counts[col.ords[i]] += int(bm.AndCardinality(hits))
	}
}

// tally counts the facet values of the hits, a segment and a field at a
// time: a tight loop over one column each, rather than every column for
// each hit as the collector sees it.
func (c *facetCounter) tally() {
	hits := c.hits
	if !slices.IsSorted(hits) { // they come in document order; be sure
		slices.Sort(hits)
	}
	i := 0
	for s, sf := range c.segs {
		j := len(hits)
		if s+1 < len(c.offsets) {
			j = i + sort.Search(len(hits)-i, func(k int) bool { return hits[i+k] >= c.offsets[s+1] })
		}
		base, seg := c.offsets[s], hits[i:j]
		counted := c.countByBits(sf, uint64(len(seg)), func() *roaring.Bitmap {
			bm := roaring.New()
			for _, n := range seg {
				bm.Add(uint32(n - base))
			}
			return bm
		})
		var local [2048]uint32 // in the segment's numbers, a chunk at a time
		for k := 0; k < len(seg) && slices.Contains(counted[:], false); k += len(local) {
			chunk := seg[k:min(k+len(local), len(seg))]
			for x, n := range chunk {
				local[x] = uint32(n - base)
			}
			c.countDocs(sf, &counted, local[:len(chunk)])
		}
		i = j
	}
	buf := c.hits[:0]
	hitBuffers.Put(&buf)
	c.hits = nil
}

// tallyLocal counts the facet values of the documents of bm, numbered
// within the s-th segment of the snapshot c was prepared for.
func (c *facetCounter) tallyLocal(s int, bm *roaring.Bitmap) {
	sf := c.segs[s]
	counted := c.countByBits(sf, bm.GetCardinality(), func() *roaring.Bitmap { return bm })
	if !slices.Contains(counted[:], false) {
		return
	}
	var buf [2048]uint32
	it := bm.ManyIterator()
	for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
		c.countDocs(sf, &counted, buf[:n])
	}
}

// countByBits counts the values of the fields of sf whose bitmaps count
// n hits of the segment (hits, made once if asked) more cheaply than one
// by one (bitsFor), and says which it counted.
func (c *facetCounter) countByBits(sf *segmentFacets, n uint64, hits func() *roaring.Bitmap) [len(facetFields)]bool {
	var counted [len(facetFields)]bool
	var bm *roaring.Bitmap
	for f := range sf {
		if counted[f] = bitsFor(&sf[f], n, c.cols.bits); counted[f] {
			if bm == nil {
				bm = hits()
			}
			tallyBits(&sf[f], c.counts[f], bm)
		}
	}
	return counted
}

// countDocs counts the values of docs (numbered in the segment) of the
// fields of sf not counted already.
func (c *facetCounter) countDocs(sf *segmentFacets, counted *[len(facetFields)]bool, docs []uint32) {
	for f := range sf {
		if counted[f] {
			continue
		}
		col, counts := &sf[f], c.counts[f]
		if col.one.has() {
			col.one.count(docs, counts)
			continue
		}
		for _, d := range docs {
			for _, o := range col.vals[col.start[d]:col.start[d+1]] {
				counts[o]++
			}
		}
	}
}

// facets returns the counted values of each field, the most frequent
// first (ties by value), at most facetBucketSize of them.
func (c *facetCounter) facets() []Facet {
	c.tally()
	order := func(a, b Bucket) int { return cmp.Or(b.Count-a.Count, cmp.Compare(a.Value, b.Value)) }
	out := make([]Facet, len(facetFields))
	for f, field := range facetFields {
		// The best facetBucketSize, kept in order as the counts are read:
		// a field may have thousands of values (owners).
		top := make([]Bucket, 0, facetBucketSize+1)
		for o, n := range c.counts[f] {
			if n == 0 {
				continue
			}
			b := Bucket{Value: c.vals[f][o], Count: n}
			if len(top) == facetBucketSize && order(b, top[len(top)-1]) >= 0 {
				continue
			}
			i, _ := slices.BinarySearchFunc(top, b, order)
			top = slices.Insert(top, i, b)
			if len(top) > facetBucketSize {
				top = top[:facetBucketSize]
			}
		}
		if len(top) == 0 {
			top = nil
		}
		out[f] = Facet{Field: field, Buckets: top}
	}
	return out
}

// oneValue is the value of each document of a segment, where none has
// two: document d's is at(d)-1 (0: none), in the narrowest integers that
// hold the field's values. A search counts a sample of hits spread over
// the whole segment, and a column four times the size it needs missed the
// cache at every hit.
type oneValue struct {
	u8  []uint8
	u16 []uint16
	u32 []uint32
}

// newOneValue makes the column of n documents' values from pairs, whose
// ords are below values.
func newOneValue(pairs []docValue, n uint64, values uint32) oneValue {
	switch {
	case values < 1<<8:
		return oneValue{u8: fillOne(make([]uint8, n), pairs)}
	case values < 1<<16:
		return oneValue{u16: fillOne(make([]uint16, n), pairs)}
	}
	return oneValue{u32: fillOne(make([]uint32, n), pairs)}
}

func fillOne[T uint8 | uint16 | uint32](one []T, pairs []docValue) []T {
	for _, p := range pairs {
		one[p.doc] = T(p.ord + 1)
	}
	return one
}

func (v *oneValue) has() bool { return v.u8 != nil || v.u16 != nil || v.u32 != nil }

// at is document d's value plus one, 0 for none.
func (v *oneValue) at(d uint64) uint32 {
	switch {
	case v.u8 != nil:
		return uint32(v.u8[d])
	case v.u16 != nil:
		return uint32(v.u16[d])
	}
	return v.u32[d]
}

// count counts the values of docs (numbered in the segment) into counts.
func (v *oneValue) count(docs []uint32, counts []int) {
	switch {
	case v.u8 != nil:
		countOne(v.u8, docs, counts)
	case v.u16 != nil:
		countOne(v.u16, docs, counts)
	default:
		countOne(v.u32, docs, counts)
	}
}

func countOne[T uint8 | uint16 | uint32](one []T, docs []uint32, counts []int) {
	for _, d := range docs {
		if o := one[d]; o > 0 {
			counts[o-1]++
		}
	}
}

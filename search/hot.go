package search

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Hot postings. A scored clause reads its term's postings through zap's
// iterator, which decodes each posting's frequency and norm from varints
// and, to advance, decodes every posting it passes over in a chunk. A
// search of a million datasets asks a few hundred documents of each of its
// clauses, and a clause of a word most datasets have (customer in the
// columns of 690,000) cost as much to advance as to read: at a million
// datasets the walk of revenue's clauses on the name and the scoring of
// what it could not pass over were two thirds of its search.
//
// A term with at least hotMin postings in the snapshot is read decoded:
// for each segment, its document numbers and, packed in 32 bits, the
// field's length (the norm's source) and the term's frequency (8 bytes a
// posting, deleted documents included, as the segment holds them), built
// the first time a search asks and kept while the segment lives, up to a
// budget of bytes (the least recently used go first). Advancing gallops
// then searches by halves. The scores are bleve's own: its term searcher
// scores the same frequencies and norms.

const (
	hotMin = 1024
	// hotBudget is the most bytes of decoded postings kept: sixteen
	// queries of common words at a million datasets decoded 134 MB.
	hotBudget = 256 << 20
	// hotShare is the share of the process's soft memory limit they may
	// take, when that is less.
	hotShare = 8
)

// hotBudgetFor is the budget of decoded postings under the soft memory
// limit (debug.SetMemoryLimit's; math.MaxInt64: none).
func hotBudgetFor(limit int64) int {
	return int(min(hotBudget, limit/hotShare))
}

type hotCtxKey struct{}

// withHot is ctx with the decoded postings of hot for the searches in it.
func withHot(ctx context.Context, hot *hotPostings) context.Context {
	return context.WithValue(ctx, hotCtxKey{}, hot)
}

// hotPostings are decoded postings by segment.
type hotPostings struct {
	min    uint64 // postings from which a term is read decoded: hotMin (tests: other)
	mu     sync.Mutex
	segs   map[segment.Segment]map[fieldTerm]*decoded
	bytes  int
	budget int
	clock  uint64
}

func newHotPostings(budget int) *hotPostings {
	return &hotPostings{min: hotMin, segs: map[segment.Segment]map[fieldTerm]*decoded{}, budget: budget}
}

// decoded are a term's postings in a segment: each one's document and
// its field's length and the term's frequency there (length<<8 | freq).
type decoded struct {
	docs []uint32
	lf   []uint32
	// odd: a posting does not fit (a frequency of 256 or more, a field
	// of 2^24 terms): the term is read through zap.
	odd  bool
	used uint64 // the clock of its last use
}

func (d *decoded) size() int { return 8*len(d.docs) + 96 }

// normOf is the norm zap gives a field of length terms (Posting.Norm),
// from a table for the lengths of most fields.
func normOf(length uint32) float64 {
	if length < uint32(len(norms)) {
		return norms[length]
	}
	return zapNorm(length)
}

func zapNorm(length uint32) float64 { return float64(float32(1.0 / math.Sqrt(float64(length)))) }

var norms = func() (t [4096]float64) {
	for i := range t {
		t[i] = zapNorm(uint32(i))
	}
	return t
}()

func decode(seg segment.Segment, field, term string) (*decoded, error) {
	pl, err := termPostings(seg, field, term)
	if err != nil {
		return nil, fmt.Errorf("hot postings: %w", err)
	}
	d := &decoded{}
	if pl == nil || pl.Count() == 0 {
		return d, nil
	}
	n := int(pl.Count())
	d.docs, d.lf = make([]uint32, 0, n), make([]uint32, 0, n)
	it := pl.Iterator(true, true, false, nil)
	for {
		p, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("hot postings of %s:%s: %w", field, term, err)
		}
		if p == nil {
			return d, nil
		}
		// zap keeps the field's length as the norm's bits.
		length, ok := p.(interface{ NormUint64() uint64 })
		if !ok || p.Frequency() >= 1<<8 || length.NormUint64() >= 1<<24 {
			return &decoded{odd: true}, nil
		}
		d.docs, d.lf = append(d.docs, uint32(p.Number())), append(d.lf, uint32(length.NormUint64())<<8|uint32(p.Frequency()))
	}
}

// reader returns a reader of term's postings in field of snap, decoded,
// of which count are live; nil if they are odd.
func (h *hotPostings) reader(snap *scorch.IndexSnapshot, field, term string, count uint64) (*hotReader, error) {
	k := fieldTerm{field, term}
	ss := snap.Segments()
	r, err := readerOf(ss, func(seg segment.Segment) (*decoded, error) { return h.get(seg, k) })
	if r != nil {
		r.count = count
	}
	h.forget(ss)
	return r, err
}

// readerOf is a reader over the segments ss, each one's postings those
// that at returns (nil or odd: no reader).
func readerOf(ss []*scorch.SegmentSnapshot, at func(segment.Segment) (*decoded, error)) (*hotReader, error) {
	r := &hotReader{segs: make([]hotSegment, len(ss))}
	var offset uint64
	for i, s := range ss {
		seg := s.Segment()
		d, err := at(seg)
		if err != nil || d == nil || d.odd {
			return nil, err
		}
		r.segs[i] = hotSegment{decoded: d, deleted: s.Deleted(), offset: offset, n: seg.Count()}
		offset += seg.Count()
	}
	return r, nil
}

// kept returns a reader of term's postings in field of snap if every
// segment's are kept, and how many of them are live (deleted documents
// left out, as zap counts them); nil when they are not all kept, odd, or
// a segment has too many deletions to count them cheaply.
func (h *hotPostings) kept(snap *scorch.IndexSnapshot, field, term string) *hotReader {
	k := fieldTerm{field, term}
	ss := snap.Segments()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(ss) == 0 || h.segs[ss[0].Segment()][k] == nil {
		return nil // most terms a search asks of are not kept
	}
	h.clock++
	r, _ := readerOf(ss, func(seg segment.Segment) (*decoded, error) {
		d := h.segs[seg][k]
		if d != nil {
			d.used = h.clock
		}
		return d, nil
	})
	if r == nil {
		return nil
	}
	for _, s := range r.segs {
		r.count += uint64(len(s.docs))
		if s.deleted == nil || s.deleted.IsEmpty() {
			continue
		}
		if s.deleted.GetCardinality() > 1024 {
			return nil
		}
		for it := s.deleted.Iterator(); it.HasNext(); {
			if _, found := slices.BinarySearch(s.docs, it.Next()); found {
				r.count--
			}
		}
	}
	return r
}

// get returns the decoded postings of k in seg, decoded now if they are
// not kept.
func (h *hotPostings) get(seg segment.Segment, k fieldTerm) (*decoded, error) {
	h.mu.Lock()
	h.clock++
	if d, ok := h.segs[seg][k]; ok {
		d.used = h.clock
		h.mu.Unlock()
		return d, nil
	}
	h.mu.Unlock()
	d, err := decode(seg, k.field, k.term)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	terms := h.segs[seg]
	if terms == nil {
		terms = map[fieldTerm]*decoded{}
		h.segs[seg] = terms
	}
	if old, ok := terms[k]; ok { // a search that decoded it meanwhile decoded the same
		return old, nil
	}
	d.used = h.clock
	terms[k] = d
	h.bytes += d.size()
	if h.bytes > h.budget {
		h.evict()
	}
	return d, nil
}

// evict drops the least recently used postings until those kept fit the
// budget (a search reading them still has them).
func (h *hotPostings) evict() {
	type entry struct {
		seg  segment.Segment
		k    fieldTerm
		used uint64
	}
	var all []entry
	for seg, terms := range h.segs {
		for k, d := range terms {
			all = append(all, entry{seg, k, d.used})
		}
	}
	slices.SortFunc(all, func(a, b entry) int { return int(int64(a.used - b.used)) })
	for _, e := range all {
		if h.bytes <= h.budget*3/4 {
			return
		}
		h.bytes -= h.segs[e.seg][e.k].size()
		delete(h.segs[e.seg], e.k)
	}
}

// forget drops the postings of segments that are not among ss (merged
// away; a search still on an older snapshot decodes them again).
func (h *hotPostings) forget(ss []*scorch.SegmentSnapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.segs) <= len(ss) {
		return
	}
	live := make(map[segment.Segment]bool, len(ss))
	for _, s := range ss {
		live[s.Segment()] = true
	}
	for seg, terms := range h.segs {
		if !live[seg] {
			for _, d := range terms {
				h.bytes -= d.size()
			}
			delete(h.segs, seg)
		}
	}
}

// hotSegment is a segment of a hotReader: the term's postings there, its
// deleted documents, and its first document's global number.
type hotSegment struct {
	*decoded
	deleted   *roaring.Bitmap
	offset, n uint64
}

// hotReader reads a term's decoded postings (a TermFieldReader): the
// documents in order of their global numbers, deleted ones left out.
type hotReader struct {
	segs    []hotSegment
	count   uint64
	seg, at int // the segment and posting of the next document
}

func (r *hotReader) Next(pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	n, ok := r.doc()
	if !ok {
		return nil, nil
	}
	pre = r.fill(pre, n)
	r.at++
	return pre, nil
}

// doc is the global number of the document the reader is on (the next it
// returns), deleted ones passed over; false past the last.
func (r *hotReader) doc() (uint64, bool) {
	for r.seg < len(r.segs) {
		s := &r.segs[r.seg]
		for ; r.at < len(s.docs); r.at++ {
			if s.deleted == nil || !s.deleted.Contains(s.docs[r.at]) {
				return s.offset + uint64(s.docs[r.at]), true
			}
		}
		r.seg, r.at = r.seg+1, 0
	}
	return 0, false
}

// fill sets pre (or a new one) to the posting the reader is on, of
// document n.
func (r *hotReader) fill(pre *index.TermFieldDoc, n uint64) *index.TermFieldDoc {
	if pre == nil {
		pre = &index.TermFieldDoc{}
	}
	lf := r.segs[r.seg].lf[r.at]
	pre.ID = index.NewIndexInternalID(pre.ID, n)
	pre.Freq, pre.Norm = uint64(lf&0xff), normOf(lf>>8)
	return pre
}

// seek moves the reader on to its first document at or after n (never
// back).
func (r *hotReader) seek(n uint64) {
	for r.seg < len(r.segs) && r.segs[r.seg].offset+r.segs[r.seg].n <= n {
		r.seg, r.at = r.seg+1, 0
	}
	if r.seg == len(r.segs) {
		return
	}
	if s := &r.segs[r.seg]; n > s.offset {
		r.at = gallop(s.docs, r.at, uint32(n-s.offset))
	}
}

// Advance moves to the first document at or after id, forward or back.
func (r *hotReader) Advance(id index.IndexInternalID, pre *index.TermFieldDoc) (*index.TermFieldDoc, error) {
	n := id.Value()
	seg := sort.Search(len(r.segs), func(i int) bool { return r.segs[i].offset+r.segs[i].n > n })
	if seg == len(r.segs) {
		r.seg, r.at = seg, 0
		return nil, nil
	}
	s := &r.segs[seg]
	local := uint32(n - s.offset)
	from := 0
	if seg == r.seg && r.at > 0 && r.at <= len(s.docs) && s.docs[r.at-1] < local {
		from = r.at // forward from where it is
	}
	r.seg, r.at = seg, gallop(s.docs, from, local)
	return r.Next(pre)
}

// gallop is the first index of docs at or after from whose number is at
// least n: steps that double from from, then a binary search (an Advance
// is most often to a document close by).
func gallop(docs []uint32, from int, n uint32) int {
	lo, step := from, 1
	hi := lo
	for hi < len(docs) && docs[hi] < n {
		lo = hi + 1
		hi += step
		step <<= 1
	}
	hi = min(hi, len(docs))
	return lo + sort.Search(hi-lo, func(i int) bool { return docs[lo+i] >= n })
}

func (r *hotReader) Count() uint64 { return r.count }
func (r *hotReader) Close() error  { return nil }
func (r *hotReader) Size() int     { return 64 + 48*len(r.segs) }

// hotSnapshot is a snapshot whose terms with hotMin postings or more are
// read decoded (what a term searcher on it reads).
type hotSnapshot struct {
	*scorch.IndexSnapshot
	hot *hotPostings
}

func (r hotSnapshot) TermFieldReader(ctx context.Context, term []byte, field string, freq, norm, vectors bool) (index.TermFieldReader, error) {
	if !vectors {
		if hr := r.hot.kept(r.IndexSnapshot, field, string(term)); hr != nil {
			return hr, nil // its count without a reader of zap's
		}
	}
	tr, err := r.IndexSnapshot.TermFieldReader(ctx, term, field, freq, norm, vectors)
	if err != nil || vectors || !freq || !norm || tr.Count() < r.hot.min {
		return tr, err
	}
	hr, err := r.hot.reader(r.IndexSnapshot, field, string(term), tr.Count())
	if err != nil || hr == nil {
		if err != nil {
			tr.Close()
		}
		return tr, err
	}
	return hr, tr.Close()
}

// hotIndex is r for the term searchers of a search of ctx: those that
// score read hot terms decoded (withHot).
func hotIndex(ctx context.Context, r index.IndexReader) index.IndexReader {
	hot, _ := ctx.Value(hotCtxKey{}).(*hotPostings)
	if snap, ok := r.(*scorch.IndexSnapshot); ok && hot != nil {
		return hotSnapshot{snap, hot}
	}
	return r
}

// clauseSearcher is the searcher of a clause of a query on r: a term's
// reads its postings through hotIndex.
func clauseSearcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions, q query.Query) (bsearch.Searcher, error) {
	if t, ok := q.(*query.TermQuery); ok {
		return t.Searcher(ctx, hotIndex(ctx, r), m, o)
	}
	return q.Searcher(ctx, r, m, o)
}

// The terms whose postings are decoded are listed in the index's directory
// when it closes (hotTermsFile), and decoded again in the background after
// it opens (Index.warm), before searches ask for them: the first search of
// a common word after a restart decoded its postings (30-400 ms at a
// million datasets) instead of taking 10.

const hotTermsFile = "hot-terms"

// terms are the terms kept, the most recently used first.
func (h *hotPostings) terms() []fieldTerm {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	used := map[fieldTerm]uint64{}
	for _, terms := range h.segs {
		for k, d := range terms {
			if !d.odd {
				used[k] = max(used[k], d.used)
			}
		}
	}
	out := slices.Collect(maps.Keys(used))
	slices.SortFunc(out, func(a, b fieldTerm) int { return cmp.Compare(used[b], used[a]) })
	return out
}

// warm decodes the postings of terms in snap's segments, the first first,
// until the budget is half taken.
func (h *hotPostings) warm(snap *scorch.IndexSnapshot, terms []fieldTerm) error {
	if h == nil {
		return nil
	}
	for _, k := range terms {
		h.mu.Lock()
		full := 2*h.bytes >= h.budget
		h.mu.Unlock()
		if full {
			return nil
		}
		for _, s := range snap.Segments() {
			if _, err := h.get(s.Segment(), k); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeHotTerms lists terms in dir (a JSON array of field and term pairs).
func writeHotTerms(dir string, terms []fieldTerm) {
	pairs := make([][2]string, len(terms))
	for i, k := range terms {
		pairs[i] = [2]string{k.field, k.term}
	}
	data, err := json.Marshal(pairs)
	if err != nil {
		return
	}
	writeBeside(dir, hotTermsFile, data)
}

// readHotTerms reads the terms listed in dir and removes the list (nil:
// none, or unreadable: only a start's warmth is lost).
func readHotTerms(dir string) []fieldTerm {
	data, err := takeBeside(dir, hotTermsFile)
	if err != nil {
		return nil
	}
	var pairs [][2]string
	if json.Unmarshal(data, &pairs) != nil {
		return nil
	}
	out := make([]fieldTerm, len(pairs))
	for i, p := range pairs {
		out[i] = fieldTerm{p[0], p[1]}
	}
	return out
}

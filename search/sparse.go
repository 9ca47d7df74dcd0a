package search

import (
	"context"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// A ranking query has dozens of clauses, and most match few documents or
// none: an exact name nobody has, a word in the tags, a conjunction with a
// term that is nowhere. bleve keeps every clause's searcher in its
// disjunction and visits each of them at every document the query scores;
// a query of several words scores each of its hits by advancing all of
// them. The queries below leave out the clauses that match nothing and
// score exactly as bleve's would with them: a clause that matches nothing
// still counts in a disjunction's coordination factor and in the weight
// that normalizes the query, so both are kept.

// sparseDisjunction is bleve's disjunction query (any of its clauses)
// without the clauses that match no document.
type sparseDisjunction struct {
	disjuncts []query.Query
}

func newSparseDisjunction(qs ...query.Query) *sparseDisjunction {
	return &sparseDisjunction{disjuncts: qs}
}

func (q *sparseDisjunction) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	live, weight, err := liveSearchers(ctx, r, m, o, q.disjuncts)
	if err != nil {
		return nil, err
	}
	if len(live) == 0 {
		return &emptySearcher{weight: weight}, nil
	}
	s, err := newLazyDisjunction(ctx, r, live, composite(o))
	if err != nil {
		closeSearchers(live)
		return nil, err
	}
	return &scaledSearcher{Searcher: s, scale: float64(len(live)) / float64(len(q.disjuncts)), weight: weight}, nil
}

// sparseConjunction is bleve's conjunction query (every clause), which
// matches nothing when a clause matches nothing: then it costs nothing to
// search.
type sparseConjunction struct {
	conjuncts []query.Query
}

func newSparseConjunction(qs ...query.Query) *sparseConjunction {
	return &sparseConjunction{conjuncts: qs}
}

func (q *sparseConjunction) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	if hc, err := hotConjunctionOf(ctx, r, o, q.conjuncts); err != nil || hc != nil {
		return hc, err
	}
	ss := make([]bsearch.Searcher, 0, len(q.conjuncts))
	weight, empty := 0.0, false
	for _, c := range q.conjuncts {
		s, err := clauseSearcher(ctx, r, m, o, c)
		if err != nil {
			closeSearchers(ss)
			return nil, err
		}
		weight += s.Weight()
		empty = empty || s.Count() == 0
		ss = append(ss, s)
	}
	if empty {
		closeSearchers(ss)
		return &emptySearcher{weight: weight}, nil
	}
	if bs, err := q.bits(ctx, r, m, o, weight); err != nil || bs != nil {
		closeSearchers(ss)
		return bs, err
	}
	return searcher.NewConjunctionSearcher(ctx, r, ss, composite(o))
}

// bits is the conjunction's searcher over the intersection of its
// clauses' postings, when every clause is unscored (the words a query of
// several words requires): a step of one bitmap's iterator for each
// document asked about, rather than an Advance of each clause through
// postings most of the catalog is in (customer, orders). nil: the clauses
// cannot be told by bitmaps (count.go), or they say where they matched.
func (q *sparseConjunction) bits(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions, weight float64) (bsearch.Searcher, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok || o.IncludeTermVectors || o.Explain {
		return nil, nil
	}
	for _, c := range q.conjuncts {
		if _, ok := c.(unscored); !ok {
			return nil, nil
		}
	}
	s, err := newBitsSearcher(ctx, snap, m, q, weight)
	if err != nil || s == nil {
		return nil, err
	}
	return s, nil
}

// newBitsSearcher is the searcher of q's documents on snap by bitmaps
// (deleted ones left out), with weight; nil when bitmaps cannot tell them
// (count.go).
func newBitsSearcher(ctx context.Context, snap *scorch.IndexSnapshot, m mapping.IndexMapping, q query.Query, weight float64) (*bitsSearcher, error) {
	bc := newBitmapCounter(ctx, snap, m)
	s := &bitsSearcher{weight: weight, seg: -1}
	var next uint64
	for _, ss := range snap.Segments() {
		bm, ok, err := bc.bitmap(ss.Segment(), q)
		if err != nil || !ok {
			return nil, err
		}
		if bm != nil {
			if d := ss.Deleted(); d != nil {
				bm = roaring.AndNot(bm, d)
			}
			s.count += bm.GetCardinality()
		}
		s.offsets = append(s.offsets, next)
		s.segs = append(s.segs, bm)
		next += ss.Segment().Count()
	}
	return s, nil
}

// bitsSearcher finds, unscored, the documents of a bitmap per segment
// (segment-local numbers; nil: none).
type bitsSearcher struct {
	segs    []*roaring.Bitmap
	offsets []uint64 // each segment's first global document number
	count   uint64
	weight  float64
	seg     int // whose iterator it is
	it      roaring.IntPeekable
	last    uint64 // the last document returned, if any was
	started bool
}

func (s *bitsSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	for s.it == nil || !s.it.HasNext() {
		if s.seg+1 >= len(s.segs) {
			return nil, nil
		}
		s.seg++
		s.it = nil
		if bm := s.segs[s.seg]; bm != nil {
			s.it = bm.Iterator()
		}
	}
	s.last, s.started = s.offsets[s.seg]+uint64(s.it.Next()), true
	rv := ctx.DocumentMatchPool.Get()
	rv.IndexInternalID = index.NewIndexInternalID(rv.IndexInternalID, s.last)
	return rv, nil
}

// Advance returns the first document at or after id, as bleve's searchers
// do even when it is not past the last one returned (then from the start
// of id's segment).
func (s *bitsSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	seg, local := segmentOf(s.offsets, id.Value())
	if seg > s.seg || s.started && id.Value() <= s.last {
		s.seg, s.it = seg, nil
		if bm := s.segs[seg]; bm != nil {
			s.it = bm.Iterator()
		}
	}
	if seg == s.seg && s.it != nil {
		s.it.AdvanceIfNeeded(uint32(local))
	}
	return s.Next(ctx)
}

func (s *bitsSearcher) Weight() float64            { return s.weight }
func (s *bitsSearcher) SetQueryNorm(float64)       {}
func (s *bitsSearcher) Count() uint64              { return s.count }
func (s *bitsSearcher) Min() int                   { return 0 }
func (s *bitsSearcher) Size() int                  { return 64 + 16*len(s.segs) }
func (s *bitsSearcher) DocumentMatchPoolSize() int { return 1 }
func (s *bitsSearcher) Close() error               { return nil }

// composite are the options a composite searcher of searchers made with
// o is made with. Unscored (unscored), bleve would merge its clauses'
// postings into one "unadorned" searcher, whose count is not theirs (it
// says 0): the empty clauses could no longer be told.
func composite(o bsearch.SearcherOptions) bsearch.SearcherOptions {
	if o.Score == "none" && !o.IncludeTermVectors {
		o.Score = ""
	}
	return o
}

// liveSearchers are the searchers of qs that can match a document, and
// the weight of them all.
func liveSearchers(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions, qs []query.Query) ([]bsearch.Searcher, float64, error) {
	live := make([]bsearch.Searcher, 0, len(qs))
	weight := 0.0
	for _, q := range qs {
		s, err := clauseSearcher(ctx, r, m, o, q)
		if err != nil {
			closeSearchers(live)
			return nil, 0, err
		}
		weight += s.Weight()
		if s.Count() == 0 {
			s.Close()
			continue
		}
		live = append(live, s)
	}
	return live, weight, nil
}

func closeSearchers(ss []bsearch.Searcher) {
	for _, s := range ss {
		s.Close()
	}
}

// scaledSearcher is a disjunction of some of a query's clauses scored as
// the disjunction of them all: its coordination factor counts the clauses
// left out (scale), and its weight is theirs too.
type scaledSearcher struct {
	bsearch.Searcher
	scale  float64
	weight float64
}

func (s *scaledSearcher) Weight() float64 { return s.weight }

func (s *scaledSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	d, err := s.Searcher.Next(ctx)
	s.rescore(d)
	return d, err
}

func (s *scaledSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	d, err := s.Searcher.Advance(ctx, id)
	s.rescore(d)
	return d, err
}

func (s *scaledSearcher) rescore(d *bsearch.DocumentMatch) {
	if d == nil || s.scale == 1 {
		return
	}
	d.Score *= s.scale
	if d.Expl != nil {
		d.Expl = &bsearch.Explanation{Value: d.Score, Message: "scaled by", Children: []*bsearch.Explanation{{Value: s.scale, Message: "clauses that match nothing"}, d.Expl}}
	}
}

// emptySearcher matches nothing, with the weight of the clauses it stands
// for.
type emptySearcher struct {
	weight float64
}

func (s *emptySearcher) Next(*bsearch.SearchContext) (*bsearch.DocumentMatch, error) { return nil, nil }
func (s *emptySearcher) Advance(*bsearch.SearchContext, index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	return nil, nil
}
func (s *emptySearcher) Close() error               { return nil }
func (s *emptySearcher) Weight() float64            { return s.weight }
func (s *emptySearcher) SetQueryNorm(float64)       {}
func (s *emptySearcher) Count() uint64              { return 0 }
func (s *emptySearcher) Min() int                   { return 0 }
func (s *emptySearcher) Size() int                  { return 16 }
func (s *emptySearcher) DocumentMatchPoolSize() int { return 0 }

// unscored finds the documents of a query without scoring them (they score
// 0): where a query of several words requires each word (among the words
// of all fields), the ranking clauses score where it was found. Unscored,
// a term's postings are walked without decoding frequencies and norms, so
// skipping over a common word's postings to the next candidate costs
// little, and a conjunction of unscored terms is a bitmap intersection.
type unscored struct {
	query.Query
}

func (q unscored) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	o.Score, o.Explain = "none", false
	return q.Query.Searcher(ctx, r, m, o)
}

// A word that a tenth of a large catalog has (fct in fct_cust at 100k
// datasets) says little of where it was found, and scoring it costs a
// skip through its long postings at every hit: the idea of Elasticsearch's
// common terms. In a small catalog every clause is cheap and such a word
// still tells a name from a description, so it is scored there.
const (
	commonShare = 10     // in more than 1 in commonShare datasets
	commonMin   = 10_000 // and in more than this many
)

// unlessCommon is a ranking clause on one word that scores nothing when
// the word is common (its weight still counts in the query's norm).
type unlessCommon struct {
	query.Query
}

func (q unlessCommon) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	s, err := clauseSearcher(ctx, r, m, o, q.Query)
	if err != nil {
		return nil, err
	}
	n := s.Count()
	if n <= commonMin {
		return s, nil
	}
	docs, err := r.DocCount()
	if err != nil || !isCommon(n, docs) {
		return s, err
	}
	w := s.Weight()
	s.Close()
	return &emptySearcher{weight: w}, nil
}

// isCommon says whether a word in n of docs documents is common there.
func isCommon(n, docs uint64) bool { return n > commonMin && n*commonShare > docs }

// phraseUnlessCommon is a phrase clause (words side by side in field) that
// scores nothing when its words are too common to check (phraseSkipped).
type phraseUnlessCommon struct {
	query.Query
	field string
	terms []string
}

// phraseChecksMax is how many documents a phrase clause may check the
// positions of, the documents with all its words estimated as if they
// were independent (in docs, n1 and n2 documents have n1·n2/docs): "payment
// refund" in the column descriptions of a million datasets, 240,000 and
// 74,000 of them, had 18,000 to check, half of the search (1,800 at
// 100,000 datasets, a third; a check costs about 2 µs).
const phraseChecksMax = 1_000

// phraseSkipped says whether a phrase of terms in field scores nothing on
// r: every term is common there (common terms are side by side in a large
// share of the catalog: "customer order"), or the documents it would
// check are more than phraseChecksMax: a catalog needs tens of thousands
// of datasets for that (the judged relevance catalog has a few hundred).
func phraseSkipped(ctx context.Context, r index.IndexReader, field string, terms []string) (bool, error) {
	docs, err := r.DocCount()
	if err != nil || docs == 0 {
		return false, err
	}
	common, checks := true, float64(docs)
	for _, t := range terms {
		tr, err := r.TermFieldReader(ctx, []byte(t), field, false, false, false)
		if err != nil {
			return false, err
		}
		n := tr.Count()
		tr.Close()
		common = common && isCommon(n, docs)
		checks *= float64(n) / float64(docs)
	}
	return common || checks > phraseChecksMax, nil
}

func (q phraseUnlessCommon) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	skip, err := phraseSkipped(ctx, r, q.field, q.terms)
	if err != nil {
		return nil, err
	}
	if !skip {
		return q.Query.Searcher(ctx, r, m, o)
	}
	// Skipped, it weighs what its searcher would: the sum of its words'
	// (bleve's conjunction of their term searchers). The searcher itself
	// is not made: bleve intersects the words' postings when it is
	// (scorch's conjunction optimization), a tenth of a search of two
	// common words at a million datasets, for nothing.
	w := 0.0
	for _, t := range q.terms {
		ts, err := searcher.NewTermSearcher(ctx, r, t, q.field, q.Query.(query.BoostableQuery).Boost(), o)
		if err != nil {
			return nil, err
		}
		w += ts.Weight()
		if err := ts.Close(); err != nil {
			return nil, err
		}
	}
	return &emptySearcher{weight: w}, nil
}

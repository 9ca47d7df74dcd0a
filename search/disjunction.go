package search

import (
	"context"
	"math"
	"sort"

	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/scorer"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// lazyDisjunction finds what bleve's disjunction of a few clauses
// (DisjunctionSliceSearcher, any clause) finds, scored alike to the bit:
// its clauses in the same order, bleve's own disjunction scorer. It
// differs in when a clause moves on. bleve moves the clauses that matched
// a document to their next one as it returns it; this moves them when it
// is asked for another, by an Advance to it when that is further on. A
// search that advances the disjunction to each hit of its required words
// (requiredSearcher, the tier) asks it for documents far apart: bleve
// read each matching clause's next posting for nothing, at a million
// datasets several per hit.
type lazyDisjunction struct {
	kids    []bsearch.Searcher
	currs   []*bsearch.DocumentMatch // nil: done, or pending
	pending []bool                   // to be moved past last before it is read
	eager   []bool                   // moved on at once, as bleve's are (newLazyDisjunction)
	last    index.IndexInternalID    // the document returned last (nil: none yet)
	scorer  *scorer.DisjunctionQueryScorer

	matching []*bsearch.DocumentMatch
	idxs     []int
}

// newLazyDisjunction is bleve's NewDisjunctionSearcher of kids with min 0,
// lazy; or bleve's own when it would not take the slice searcher (more
// clauses than DisjunctionHeapTakeover, whose heap sums them in another
// order), scores for kNN, or would have nothing to be lazy about. o is
// composite's: never unscored without locations, which bleve would answer
// from the clauses' postings alone.
func newLazyDisjunction(ctx context.Context, r index.IndexReader, kids []bsearch.Searcher, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	ordered := make(searcher.OrderedSearcherList, len(kids))
	copy(ordered, kids)
	sort.Sort(ordered) // as bleve orders them: its sums add in this order
	// A disjunction of its own (a prefix's or a typo's terms) is moved on
	// at once, as bleve's are: its Advance advances every one of its terms
	// where its Next moves only those that matched. Lazy, prefix searches
	// took 5% longer.
	eager := make([]bool, len(ordered))
	lazy := 0
	for i, k := range ordered {
		switch k.(type) {
		case *searcher.DisjunctionSliceSearcher, *searcher.DisjunctionHeapSearcher:
			eager[i] = true
		default:
			lazy++
		}
	}
	if breakdown, _ := ctx.Value(bsearch.IncludeScoreBreakdownKey).(bool); breakdown || lazy == 0 ||
		len(kids) > searcher.DisjunctionHeapTakeover {
		return searcher.NewDisjunctionSearcher(ctx, r, kids, 0, o)
	}
	s := &lazyDisjunction{
		kids:     ordered,
		currs:    make([]*bsearch.DocumentMatch, len(kids)),
		pending:  make([]bool, len(kids)),
		eager:    eager,
		scorer:   scorer.NewDisjunctionQueryScorer(o),
		matching: make([]*bsearch.DocumentMatch, 0, len(kids)),
		idxs:     make([]int, 0, len(kids)),
	}
	for i := range s.pending {
		s.pending[i] = true
	}
	s.SetQueryNorm(1 / math.Sqrt(s.Weight())) // bleve's own, until the query's replaces it
	return s, nil
}

// move brings pending clause i to its first document at or after id
// (nil: its next), where bleve's would be.
func (s *lazyDisjunction) move(ctx *bsearch.SearchContext, i int, id index.IndexInternalID) (err error) {
	s.pending[i] = false

	if id != nil && (s.last == nil || id.Compare(s.last) > 0) {
		s.currs[i], err = s.kids[i].Advance(ctx, id)
		return err
	}
	// Not past where it is: bleve's would have moved on, and if that found
	// nothing, it would ask again from id.
	if s.currs[i], err = s.kids[i].Next(ctx); err == nil && s.currs[i] == nil && id != nil {
		s.currs[i], err = s.kids[i].Advance(ctx, id)
	}
	return err
}

func (s *lazyDisjunction) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	for i := range s.kids {
		if s.pending[i] {
			if err := s.move(ctx, i, nil); err != nil {
				return nil, err
			}
		}
	}
	return s.emit(ctx)
}

func (s *lazyDisjunction) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	for i := range s.kids {
		if s.pending[i] {
			if err := s.move(ctx, i, id); err != nil {
				return nil, err
			}
			continue
		}
		// As bleve's: a clause that is done is asked again (an Advance
		// back may find it a document).
		if c := s.currs[i]; c == nil || c.IndexInternalID.Compare(id) < 0 {
			if c != nil {
				ctx.DocumentMatchPool.Put(c)
			}
			var err error
			if s.currs[i], err = s.kids[i].Advance(ctx, id); err != nil {
				return nil, err
			}
		}
	}
	return s.emit(ctx)
}

// emit returns the least document of the clauses' current ones, scored by
// those at it (bleve's scorer: their sum, in the clauses' order, times
// their share of the clauses), and leaves those clauses pending.
func (s *lazyDisjunction) emit(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	matching, idxs := s.matching[:0], s.idxs[:0]
	for i, c := range s.currs {
		if c == nil {
			continue
		}
		if len(matching) > 0 {
			cmp := c.IndexInternalID.Compare(matching[0].IndexInternalID)
			if cmp > 0 {
				continue
			}
			if cmp < 0 {
				matching, idxs = matching[:0], idxs[:0]
			}
		}
		matching, idxs = append(matching, c), append(idxs, i)
	}
	s.matching, s.idxs = matching, idxs
	if len(matching) == 0 {
		return nil, nil
	}
	rv := s.scorer.Score(ctx, matching, len(matching), len(s.kids))
	s.last = append(s.last[:0], rv.IndexInternalID...)
	for _, i := range idxs {
		if s.currs[i] != rv {
			ctx.DocumentMatchPool.Put(s.currs[i])
		}
		s.currs[i], s.pending[i] = nil, true
		if s.eager[i] {
			if err := s.move(ctx, i, nil); err != nil {
				return nil, err
			}
		}
	}
	return rv, nil
}

func (s *lazyDisjunction) Weight() float64 {
	w := 0.0
	for _, k := range s.kids {
		w += k.Weight()
	}
	return w
}

func (s *lazyDisjunction) SetQueryNorm(n float64) {
	for _, k := range s.kids {
		k.SetQueryNorm(n)
	}
}

func (s *lazyDisjunction) Count() uint64 {
	n := uint64(0)
	for _, k := range s.kids {
		n += k.Count()
	}
	return n
}

func (s *lazyDisjunction) Close() error {
	var err error
	for _, k := range s.kids {
		if err2 := k.Close(); err == nil {
			err = err2
		}
	}
	return err
}

func (s *lazyDisjunction) Min() int { return 0 }

func (s *lazyDisjunction) Size() int {
	n := 64 + 24*len(s.kids)
	for _, k := range s.kids {
		n += k.Size()
	}
	return n
}

func (s *lazyDisjunction) DocumentMatchPoolSize() int {
	n := len(s.currs)
	for _, k := range s.kids {
		n += k.DocumentMatchPoolSize()
	}
	return n
}

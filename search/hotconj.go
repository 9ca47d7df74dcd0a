package search

import (
	"context"
	"math"
	"sort"

	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/scorer"
	index "github.com/blevesearch/bleve_index_api"
)

// A scored conjunction of terms (both words of a query in one field: the
// name's, the columns') was bleve's conjunction searcher over term
// searchers: each step an Advance of a child, a document match taken from
// the pool and scored, and byte-wise comparisons of document IDs. Of terms
// whose postings are decoded (hot.go) it leapfrogs through their arrays
// instead, and scores only the documents every term has, with bleve's own
// term scorers, summed in the order bleve's conjunction sums them (its
// children by ascending count): the same scores to the bit.

// hotConjunction is a scored conjunction of hot terms.
type hotConjunction struct {
	kids []hotTerm // in the order bleve's conjunction keeps its children
	next uint64    // the first document it may return next
	done bool
	tfd  index.TermFieldDoc
}

type hotTerm struct {
	r  *hotReader
	sc *scorer.TermQueryScorer
}

// byCount orders terms as bleve's OrderedSearcherList orders searchers.
type byCount []hotTerm

func (b byCount) Len() int           { return len(b) }
func (b byCount) Less(i, j int) bool { return b[i].r.count < b[j].r.count }
func (b byCount) Swap(i, j int)      { b[i], b[j] = b[j], b[i] }

// hotConjunctionOf is the scored conjunction of qs on r, when each is a
// term whose postings are hot; nil otherwise.
func hotConjunctionOf(ctx context.Context, r index.IndexReader, o bsearch.SearcherOptions, qs []query.Query) (*hotConjunction, error) {
	hot, _ := ctx.Value(hotCtxKey{}).(*hotPostings)
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok || hot == nil || len(qs) < 2 || o.Score == "none" || o.IncludeTermVectors || o.Explain {
		return nil, nil
	}
	if model, ok := ctx.Value(bsearch.GetScoringModelCallbackKey).(bsearch.GetScoringModelCallbackFn); ok && model() == index.BM25Scoring {
		return nil, nil // scored as tf-idf only
	}
	for _, q := range qs {
		if _, ok := q.(*query.TermQuery); !ok {
			return nil, nil
		}
	}
	docs, err := snap.DocCount()
	if err != nil {
		return nil, err
	}
	hs := hotSnapshot{snap, hot}
	s := &hotConjunction{}
	for _, q := range qs {
		t := q.(*query.TermQuery)
		tr, err := hs.TermFieldReader(ctx, []byte(t.Term), t.FieldVal, true, true, false)
		if err != nil {
			return nil, err
		}
		hr, ok := tr.(*hotReader)
		if !ok {
			return nil, tr.Close()
		}
		if err := bsearch.RecordTermSearcher(ctx); err != nil {
			return nil, err
		}
		s.kids = append(s.kids, hotTerm{r: hr, sc: scorer.NewTermQueryScorer([]byte(t.Term), t.FieldVal, t.Boost(), docs, hr.count, 0, o)})
	}
	sort.Sort(byCount(s.kids))
	// As bleve's conjunction: its own norm, until its parent sets one.
	s.SetQueryNorm(1 / math.Sqrt(s.Weight()))
	return s, nil
}

func (s *hotConjunction) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	return s.find(ctx, s.next), nil
}

func (s *hotConjunction) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	return s.find(ctx, max(s.next, id.Value())), nil
}

// find returns the first document at or after target that every term
// has, scored; nil when there is none.
func (s *hotConjunction) find(ctx *bsearch.SearchContext, target uint64) *bsearch.DocumentMatch {
	if s.done {
		return nil
	}
	for i, agreed := 0, 0; agreed < len(s.kids); i = (i + 1) % len(s.kids) {
		r := s.kids[i].r
		r.seek(target)
		n, ok := r.doc()
		if !ok {
			s.done = true
			return nil
		}
		if n == target {
			agreed++
		} else {
			target, agreed = n, 1
		}
	}
	var rv *bsearch.DocumentMatch
	sum := 0.0
	for i := range s.kids {
		k := &s.kids[i]
		s.tfd.Reset()
		dm := k.sc.Score(ctx, k.r.fill(&s.tfd, target))
		sum += dm.Score
		if i == 0 {
			rv = dm
		} else {
			ctx.DocumentMatchPool.Put(dm)
		}
	}
	rv.Score = sum
	s.next = target + 1
	return rv
}

func (s *hotConjunction) Weight() float64 {
	w := 0.0
	for _, k := range s.kids {
		w += k.sc.Weight()
	}
	return w
}

func (s *hotConjunction) SetQueryNorm(n float64) {
	for _, k := range s.kids {
		k.sc.SetQueryNorm(n)
	}
}

func (s *hotConjunction) Count() uint64 {
	n := uint64(0)
	for _, k := range s.kids {
		n += k.r.count
	}
	return n
}

func (s *hotConjunction) Min() int                   { return 0 }
func (s *hotConjunction) Size() int                  { return 64 + 64*len(s.kids) }
func (s *hotConjunction) DocumentMatchPoolSize() int { return 2 * len(s.kids) }
func (s *hotConjunction) Close() error               { return nil }

package search

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	"github.com/blevesearch/vellum"
)

// A typo or a prefix is searched as the terms of the field it stands for,
// found by walking each segment's term dictionary. A search may build the
// same clause more than once (a tier's walk and its sample, a count, the
// bounds of blockmax.go and tier.go); the terms found the first time are
// kept for the others, for the length of one Search (expansions in its
// context).

// expansions are the terms found for the fuzzy and prefix clauses of one
// Search, by clause.
type expansions struct {
	mu    sync.Mutex
	terms map[expansionKey]expansion
}

type expansionKey struct {
	field, term  string
	fuzz, prefix int // fuzz 0: terms that start with term
}

type expansion struct {
	terms []string // in term order
	eds   []uint8  // edit distances, of a fuzzy clause's terms
}

type expansionsCtxKey struct{}

func withExpansions(ctx context.Context) context.Context {
	return context.WithValue(ctx, expansionsCtxKey{}, &expansions{terms: map[expansionKey]expansion{}})
}

// expand returns the terms of key, found by find the first time it is
// asked in ctx's Search (every time outside one).
func expand(ctx context.Context, key expansionKey, find func() (expansion, error)) (expansion, error) {
	x, _ := ctx.Value(expansionsCtxKey{}).(*expansions)
	if x == nil {
		return find()
	}
	x.mu.Lock()
	e, ok := x.terms[key]
	x.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := find()
	if err != nil {
		return e, err
	}
	x.mu.Lock()
	x.terms[key] = e
	x.mu.Unlock()
	return e, nil
}

// dictTerms walks field's dictionary in each segment of snap with a and
// returns the terms it accepts from beg (inclusive) to end (exclusive,
// nil: no end), in term order, with their edit distances.
func dictTerms(snap *scorch.IndexSnapshot, field string, a segment.Automaton, beg, end []byte) (expansion, error) {
	dist := map[string]uint8{}
	for _, ss := range snap.Segments() {
		dict, err := ss.Segment().Dictionary(field)
		if err != nil {
			return expansion{}, fmt.Errorf("%s: %w", field, err)
		}
		var it segment.DictionaryIterator
		if oc, ok := dict.(interface {
			AutomatonIteratorOmitCount(segment.Automaton, []byte, []byte) segment.DictionaryIterator
		}); ok {
			it = oc.AutomatonIteratorOmitCount(a, beg, end) // candidates need no counts
		} else {
			it = dict.AutomatonIterator(a, beg, end)
		}
		for {
			e, err := it.Next()
			if err != nil {
				return expansion{}, fmt.Errorf("%s: %w", field, err)
			}
			if e == nil {
				break
			}
			dist[e.Term] = e.EditDistance
		}
	}
	var out expansion
	for t := range dist {
		out.terms = append(out.terms, t)
	}
	slices.Sort(out.terms)
	out.eds = make([]uint8, len(out.terms))
	for i, t := range out.terms {
		out.eds[i] = dist[t]
	}
	return out, nil
}

// prefixQuery is bleve's PrefixQuery (the terms of a field that start with
// a prefix, scored alike), its terms kept for the rest of the search, and
// found in each segment's dictionary rather than through bleve's merged
// iterator, which starts a goroutine per segment.
type prefixQuery struct {
	prefix, field string
	boost         float64
}

func newPrefixQuery(prefix, field string) *prefixQuery {
	return &prefixQuery{prefix: prefix, field: field, boost: 1}
}

func (q *prefixQuery) Field() string      { return q.field }
func (q *prefixQuery) SetField(f string)  { q.field = f }
func (q *prefixQuery) SetBoost(b float64) { q.boost = b }
func (q *prefixQuery) Boost() float64     { return q.boost }
func (q *prefixQuery) Validate() error    { return nil }
func (q *prefixQuery) String() string     { return q.field + ":" + q.prefix + "*" }

func (q *prefixQuery) Searcher(ctx context.Context, r index.IndexReader, _ mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return searcher.NewTermPrefixSearcher(ctx, r, q.prefix, q.field, q.boost, o)
	}
	e, err := expand(ctx, expansionKey{field: q.field, term: q.prefix}, func() (expansion, error) {
		beg := []byte(q.prefix)
		return dictTerms(snap, q.field, &vellum.AlwaysMatch{}, beg, prefixEnd(beg))
	})
	if err != nil {
		return nil, fmt.Errorf("prefix %w", err)
	}
	// As bleve's: no term, or the prefix alone, is a term searcher.
	if len(e.terms) == 0 || len(e.terms) == 1 && e.terms[0] == q.prefix {
		return searcher.NewTermSearcher(ctx, hotIndex(ctx, r), q.prefix, q.field, q.boost, o)
	}
	return searcher.NewMultiTermSearcher(ctx, hotIndex(ctx, r), e.terms, q.field, q.boost, composite(o), true)
}

// cachedExpansion returns the terms found for key in ctx's Search, if they
// were (tier.go bounds the scores of a clause by its terms).
func cachedExpansion(ctx context.Context, key expansionKey) (expansion, bool) {
	x, _ := ctx.Value(expansionsCtxKey{}).(*expansions)
	if x == nil {
		return expansion{}, false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.terms[key]
	return e, ok
}

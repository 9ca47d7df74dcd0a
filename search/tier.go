package search

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// A search by relevance asks bleve's top-N collector for a page, and the
// collector scores every hit to find it: a word that most of the catalog
// has (customer, in 84% of a warehouse's tables) cost a walk and a score
// of 84,000 documents at 100k datasets for the 20 shown. A query whose
// words thousands of datasets have is searched in tiers instead, as
// engines with tiered indexes do:
//
//  1. The documents that have the words in the name (the name, its words,
//     stems, qualified name, words inside it: the clauses with the
//     highest boosts) are searched first, each scored by the whole query
//     as the one search would score it (of several words, each still
//     required somewhere).
//  2. The page is exact when the last hit it needs (with the one after it,
//     which says whether another page follows) scores more than any
//     document without the words in its name could: the sum of the
//     highest scores of the other clauses (tf-idf: a term scores at most
//     boost·idf² times the query's norm, when it is the whole field; a
//     common word's clause nothing, as sparse.go empties it), times the
//     share of the clauses that can match (the disjunction's
//     coordination). Otherwise the query is searched whole, as before.
//  3. The total and the facets of such a search are counted from a
//     sample: every k-th document that has the words (the field words,
//     a bitmap walk that decodes no frequencies), at most sampleSize,
//     through the same filters; counts are scaled by k and the results
//     say they are approximate (Results.Approximate). A typo or prefix
//     that only the whole query finds is not in the sample.
//
// So a search costs the documents with the words in their name, not all
// those with them: 14,000 rather than 84,000 for customer at 100k. Within
// the tier, blocks of documents that cannot beat the page held are
// skipped (blockmax.go): a few hundred of a million datasets' 144,000 with customer
// in the name are scored.
//
// A catalog where fewer than tierMinHits documents have the words is
// searched whole: its search is cheap, and its totals and facets exact;
// so is a query of several words searched loosely (each word's clause
// then scores typos and prefixes) and one with a word in no document.

const (
	tierMinHits = 5_000
	sampleSize  = 8_192
)

// tierFields are the fields whose clauses are the first tier.
var tierFields = map[string]bool{
	fNames: true, fName: true, fNameParts: true, fNameStem: true, fNameInside: true,
	fPath: true, fPathParts: true,
}

type tierMinCtxKey struct{}

// tierMin is the number of documents with the word from which a search is
// tiered: tierMinHits, or what the context says (tests; < 0: never).
func tierMin(ctx context.Context) int {
	if n, ok := ctx.Value(tierMinCtxKey{}).(int); ok {
		return n
	}
	return tierMinHits
}

// tierPlan is a query split into its tiers.
type tierPlan struct {
	// full is the whole query: a disjunction of ranking clauses (one
	// word), or the words required unscored and those clauses (several).
	full      query.Query
	high, low []query.Query // its ranking clauses on the name, and the others
	rank      query.Query   // their disjunction: what a document scores
	clauses   int           // ranking clauses, the empty ones included
	// words are the query's words among all fields' words: the hits but
	// typos and prefixes; lead is the rarest term among them.
	words []query.Query
	lead  query.Query
}

// tierPlan returns the plan of q's search in mode, or nil when it is to
// be searched whole: another order than relevance, a query of several
// words searched loosely (typos, prefixes: each word's clause scores), or
// words that few documents have.
func (x *Index) tierPlan(ctx context.Context, idx bleve.Index, q Query, mode queryMode) *tierPlan {
	text := queryText(q.Text)
	min := tierMin(ctx)
	if min < 0 || text == "" || q.Sort != SortRelevance || mode.highlight || mode.least > 0 {
		return nil
	}
	m := idx.Mapping()
	b := &queryBuilder{m: m, text: text, mode: mode, x: x, analyzed: map[string][]string{}}
	b.words = x.queryWords(text)
	if len(b.words) == 0 || mode.loose && len(b.words) > 1 {
		return nil // of several words, loosely: each word's clause scores
	}
	p := &tierPlan{full: b.build()}
	var rank *sparseDisjunction
	switch q := p.full.(type) {
	case *sparseDisjunction: // one word
		rank = q
	case *oneWordQuery: // one word, common in some fields: those clauses bound by what they score on the search's reader
		rank = q.common
	case *requiredQuery: // several: every word required, unscored
		if must, ok := q.must.(*sparseConjunction); ok && !slices.ContainsFunc(must.conjuncts, func(c query.Query) bool { _, ok := c.(unscored); return !ok }) {
			rank, _ = q.should.(*sparseDisjunction)
		}
	}
	if rank == nil {
		return nil
	}
	p.clauses, p.rank = len(rank.disjuncts), rank
	for _, c := range rank.disjuncts {
		if tierFields[fieldOf(c)] {
			p.high = append(p.high, c)
		} else {
			p.low = append(p.low, c)
		}
	}
	if len(p.high) == 0 {
		return nil
	}
	r, err := reader(idx)
	if err != nil {
		return nil
	}
	defer r.Close()
	// The documents with every word: at most those with the rarest term
	// of a word without synonyms (where its documents are all the word's),
	// which the sample walks.
	n, lead := -1, ""
	for _, w := range b.words {
		wq := b.wordIn(fWords, w, 1)
		if wq == nil {
			return nil
		}
		p.words = append(p.words, wq)
		if len(w.alts) > 1 {
			continue
		}
		for _, t := range b.terms(fWords, w.word) {
			if c := termCount(ctx, r, fWords, t); n < 0 || c < n {
				n, lead = c, t
			}
		}
	}
	if n <= 0 || n < min { // a word in no document: typos are its hits, and not in the sample
		return nil
	}
	p.lead = termQuery(fWords, lead)
	return p
}

func termCount(ctx context.Context, r index.IndexReader, field, term string) int {
	tr, err := hotIndex(ctx, r).TermFieldReader(ctx, []byte(term), field, false, false, false)
	if err != nil {
		return 0
	}
	defer tr.Close()
	return int(tr.Count())
}

// A query whose first tier could not tell its page (campaign clicks at a
// million datasets: its few datasets with the words in their name do not
// outrank the rest for sure) is searched whole after it, and its tier
// was a sixth of its time. Such a query is remembered for tierMissFor
// (by its words, filter and page), and searched whole at once: both ways
// find the same page, so a remembered miss that no longer holds costs
// time, never a hit.

const (
	tierMissFor = time.Minute
	tierMissMax = 4096
)

type tierMissKey struct {
	text, filter string
	first, from  int
}

// tierMisses are the queries whose tier could not tell, with when.
type tierMisses struct {
	mu sync.Mutex
	at map[tierMissKey]time.Time
}

func (m *tierMisses) has(k tierMissKey) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.at[k]
	return ok && time.Since(at) < tierMissFor
}

func (m *tierMisses) add(k tierMissKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.at == nil || len(m.at) >= tierMissMax {
		m.at = map[tierMissKey]time.Time{} // forgotten all at once: they are only a guess
	}
	m.at[k] = time.Now()
}

// tierBounds is what the first tier's search learns of the query: the
// highest score a document without a first-tier clause could have, before
// the query's norm, and that norm.
type tierBounds struct {
	low  float64 // +Inf: not bounded
	norm float64 // 0: never set
	// least is the score a hit must beat to be on the page, once full
	// (blockSearcher holds the page).
	least float64
	full  bool
	// skipped: documents were left out unseen (the search's total is not
	// its hits').
	skipped bool
	// complete: every document the tier leaves out ranks after those it
	// finds, so a full page is the query's (oneWordTier).
	complete bool
}

// searchTiered runs the first tier of p for a page of first hits from
// from (and the one after them), and reports whether that page is the
// whole query's.
func (x *Index) searchTiered(ctx context.Context, idx bleve.Index, q Query, p *tierPlan, first, from int) (*bleve.SearchResult, bool, error) {
	bounds := &tierBounds{low: math.Inf(1)}
	tq := &tierQuery{plan: p, bounds: bounds, need: from + first + 1, cols: x.facets}
	bq := &blockQuery{Query: withFilter(tq, q.Filter, x.facets, x.filterPath), tier: tq}
	req := bleve.NewSearchRequestOptions(bq, first+1, from, false)
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, false, fmt.Errorf("search: %w", err)
	}
	if len(res.Hits) >= first+1 && bounds.complete {
		return res, true, nil
	}
	if len(res.Hits) < first+1 || bounds.norm == 0 || math.IsInf(bounds.low, 1) {
		return res, false, nil
	}
	least := res.Hits[len(res.Hits)-1].Score
	// A relative margin for the float error of sums taken in another order.
	return res, least > bounds.low*bounds.norm*(1+1e-9), nil
}

// searchSkipping searches a query of one word that is not tiered (a
// prefix, a word that few documents have) in two passes: its page with
// the blocks that cannot beat it skipped (blockmax.go), then its hits
// unscored, for the total and the facets (counted by hooks), both exact:
// as bitmaps of postings (count.go), or if they cannot say by a search.
// The second pass is count, which sets res's total and hooks' facets, for
// the caller to run beside the page's datasets and matches (pageBeside);
// nil when the page's search saw every hit. A nil res: the query is
// searched whole (hooks untouched).
func (x *Index) searchSkipping(ctx context.Context, idx bleve.Index, q Query, mode queryMode, hooks collectHooks, first, from int) (res *bleve.SearchResult, count func() error, err error) {
	text := queryText(q.Text)
	if text == "" || q.Sort != SortRelevance || mode.highlight || mode.least > 0 || hooks.order != nil || tierMin(ctx) < 0 {
		return nil, nil, nil
	}
	full := x.textQuery(idx.Mapping(), text, mode)
	p := &tierPlan{full: full}
	switch f := full.(type) {
	case *sparseDisjunction:
		p.rank = f
	case *oneWordQuery:
		p.rank = f.plain // its searcher's own ranking replaces it
	case *requiredQuery:
		// Several words: each word's clause (searched loosely, the last
		// one being typed, typos: it scores where it was found) and the
		// ranking clauses add up.
		p.rank = &sumBound{[]query.Query{f.must, f.should}}
	default:
		return nil, nil, nil
	}
	tq := &tierQuery{plan: p, bounds: &tierBounds{low: math.Inf(1)}, need: from + first + 1, cols: x.facets, whole: true}
	bq := &blockQuery{Query: withFilter(tq, q.Filter, x.facets, x.filterPath), tier: tq}
	// The page's search counts the facets of what it sees: every hit, if
	// it skipped nothing (a query whose scores differ in every block).
	var seen *facetCounter
	if hooks.facets != nil {
		seen = &facetCounter{cols: hooks.facets.cols}
	}
	res, err = idx.SearchInContext(collectHooks{facets: seen}.in(ctx), bleve.NewSearchRequestOptions(bq, first+1, from, false))
	if err != nil {
		return nil, nil, fmt.Errorf("search: %w", err)
	}
	if tq.blocks == nil {
		return nil, nil, nil // not bounded: searched whole
	}
	if !tq.bounds.skipped {
		if seen != nil {
			*hooks.facets = *seen
		}
		return res, nil, nil
	}
	return res, func() error {
		var counter *facetCounter
		if hooks.facets != nil {
			counter = &facetCounter{cols: hooks.facets.cols}
		}
		total, ok, err := x.countHits(ctx, idx, full, q.Filter, counter)
		if err != nil {
			return err
		}
		if ok {
			if counter != nil {
				*hooks.facets = *counter
			}
			res.Total = total
			return nil
		}
		count := bleve.NewSearchRequestOptions(withFilter(unscored{full}, q.Filter, x.facets, x.filterPath), 0, 0, false)
		count.Score = bleve.ScoreNone
		counted, err := idx.SearchInContext(hooks.in(ctx), count)
		if err != nil {
			return fmt.Errorf("search: %w", err)
		}
		res.Total = counted.Total
		return nil
	}, nil
}

// tierQuery finds the documents of the plan's first tier, each scored as
// its whole query scores it (the same norm, the same sum).
type tierQuery struct {
	plan   *tierPlan
	bounds *tierBounds
	need   int // hits: the page's, those before it and the one after
	cols   *facetColumns
	// whole: the plan's whole query rather than its first tier.
	whole bool
	// blocks bound the scores of the tier's documents block by block
	// (blockmax.go); nil: not bounded.
	blocks *blockBounds
}

func (q *tierQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	if _, several := q.plan.full.(*requiredQuery); several && !q.whole {
		// Fewer documents with the words in their name than the page
		// needs (revenue region): the tier cannot tell, and is not
		// searched.
		if few, err := fewerThan(ctx, r, m, q.plan.high, q.need); err != nil || few {
			return &emptySearcher{}, err
		}
	}
	full, err := q.plan.full.Searcher(ctx, r, m, o)
	if err != nil {
		return nil, err
	}
	if q.whole {
		rank := q.plan.rank
		if ow, ok := full.(*oneWordSearcher); ok {
			rank = ow.rank
		}
		if q.blocks, err = boundsOf(ctx, r, m, o, q.cols, rank); err != nil {
			full.Close()
			return nil, err
		}
		return &normSearcher{Searcher: full, bounds: q.bounds}, nil
	}
	if ow, ok := full.(*oneWordSearcher); ok {
		// Every document that scores more than 0 is one of should's (the
		// word's clauses on the name and where it is not common, each a
		// small share of the catalog), and the rest score 0: the tier is
		// should's documents and the first of the rest (oneword.go).
		q.bounds.complete = true
		if q.blocks, err = boundsOf(ctx, r, m, o, q.cols, ow.rank); err != nil {
			full.Close()
			return nil, err
		}
		return &oneWordTier{ow: ow, bounds: q.bounds, zeros: q.need}, nil
	}
	high, err := unscored{newSparseDisjunction(q.plan.high...)}.Searcher(ctx, r, m, o)
	if err != nil {
		full.Close()
		return nil, err
	}
	// Its clauses' postings (more than its documents) cannot fill the
	// page: the tier would be walked for nothing ("id", in columns alone).
	if high.Count() < uint64(q.need) {
		w := full.Weight()
		full.Close()
		high.Close()
		return &emptySearcher{weight: w}, nil
	}
	// The bound is taken on the reader the search scores with, after the
	// full query's typos and prefixes were expanded (expand.go).
	docs, err := r.DocCount()
	if err == nil && docs > 0 {
		// A clause that scores nothing matches nothing (a word in no
		// document, a common word's clause emptied): the coordination
		// counts the others.
		sum, live, ok := 0.0, 0, true
		for _, c := range q.plan.low {
			b, bounded := clauseBound(ctx, r, c, docs)
			sum += b
			ok = ok && bounded
			if b > 0 {
				live++
			}
		}
		if ok {
			q.bounds.low = sum * float64(live) / float64(q.plan.clauses)
		}
	}
	ts := &tierSearcher{high: high, full: full, bounds: q.bounds, clauses: q.plan.clauses}
	if err := q.bound(ctx, r, m, o, ts); err != nil {
		ts.Close()
		return nil, err
	}
	return ts, nil
}

// bound sets the block bounds of the plan's ranking clauses (q.blocks:
// the high and the low ones, disjoined as the plan's rank disjoins them)
// and, when they are bounded, ts's low clauses and its sum of the high
// ones: a document whose name's clauses and the most the others that
// match it can add in its block cannot beat the page is passed over
// before the whole query, whose clauses are most of a search's cost,
// scores it.
func (q *tierQuery) bound(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions, ts *tierSearcher) error {
	b, bb, err := newBounder(ctx, r, m, o, q.cols)
	if err != nil || b == nil {
		return err
	}
	root := &boundNode{op: opDisj, n: q.plan.clauses}
	var lows []lowClause
	for i, c := range slices.Concat(q.plan.high, q.plan.low) {
		nd, ok, err := b.bound(c)
		if err != nil || !ok {
			return err
		}
		if nd.op == opNone {
			continue
		}
		root.kids = append(root.kids, nd)
		if i >= len(q.plan.high) {
			lows = append(lows, lowClause{node: nd, clause: c})
		}
	}
	if len(root.kids) == 0 {
		root = noneNode
	}
	bb.root = root
	q.blocks = bb
	// The documents of each low clause, as bitmaps (a phrase's cannot
	// be: then no document is passed over).
	bc := newBitmapCounter(ctx, b.r, m)
	for i := range lows {
		for _, seg := range b.segs {
			docs, ok, err := bc.bitmap(seg, lows[i].clause)
			if err != nil || !ok {
				return err
			}
			lows[i].docs = append(lows[i].docs, docs)
		}
	}
	kids, _, err := liveSearchers(ctx, r, m, o, q.plan.high)
	if err != nil {
		return err
	}
	ts.lows, ts.blocks, ts.raw = lows, bb, newRawSum(kids)
	return nil
}

// fewerThan says whether fewer than n documents of r match any of qs
// (counted by bitmaps, deleted documents too; false when a bitmap cannot
// tell).
func fewerThan(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, qs []query.Query, n int) (bool, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return false, nil
	}
	bc := newBitmapCounter(ctx, snap, m)
	total := uint64(0)
	for _, ss := range snap.Segments() {
		bm, ok, err := bc.combine(ss.Segment(), qs, false)
		if err != nil || !ok {
			return false, err
		}
		if bm != nil {
			if total += bm.GetCardinality(); total >= uint64(n) {
				return false, nil
			}
		}
	}
	return true, nil
}

// lowClause is a clause outside a search's first tier: its bounds by
// block, and its documents in each segment (a bitmap, deleted ones too).
type lowClause struct {
	clause query.Query
	node   *boundNode
	docs   []*roaring.Bitmap
}

// clauseBound is the highest score (before the query's norm) that clause c
// gives a document, and whether c is of a kind it can bound. Under tf-idf a
// term scores sqrt(tf)·norm·idf · boost·idf·queryNorm, and sqrt(tf)·norm
// (norm = 1/sqrt(field length)) is at most 1; a disjunction scores at most
// the sum of its clauses (its coordination is at most 1), a conjunction
// the sum.
func clauseBound(ctx context.Context, r index.IndexReader, c query.Query, docs uint64) (float64, bool) {
	idf2 := func(field, term string) float64 {
		n := termCount(ctx, r, field, term)
		if n == 0 {
			return 0 // matches nothing
		}
		idf := 1 + math.Log(float64(docs)/float64(n+1))
		return idf * idf
	}
	terms := func(key expansionKey, boost float64, single string) (float64, bool) {
		e, ok := cachedExpansion(ctx, key)
		if !ok {
			return 0, false
		}
		if len(e.terms) == 0 {
			return boost * idf2(key.field, single), true
		}
		sum := 0.0
		for _, t := range e.terms {
			sum += boost * idf2(key.field, t)
		}
		return sum, true
	}
	switch c := c.(type) {
	case *query.TermQuery:
		return c.Boost() * idf2(c.FieldVal, c.Term), true
	case *query.MatchNoneQuery:
		return 0, true
	case unscored:
		return 0, true
	case unlessCommon:
		// As its searcher: a common word scores nothing.
		if t, ok := c.Query.(*query.TermQuery); ok {
			if n := uint64(termCount(ctx, r, t.FieldVal, t.Term)); n > commonMin && n*commonShare > docs {
				return 0, true
			}
		}
		return clauseBound(ctx, r, c.Query, docs)
	case phraseUnlessCommon:
		// As its searcher: a phrase of words too common scores nothing.
		if skip, err := phraseSkipped(ctx, r, c.field, c.terms); err != nil || skip {
			return 0, err == nil
		}
		return clauseBound(ctx, r, c.Query, docs)
	case *query.MultiPhraseQuery:
		// A phrase scores as the conjunction of its terms.
		sum := 0.0
		for _, alts := range c.Terms {
			for _, t := range alts {
				sum += c.Boost() * idf2(c.FieldVal, t)
			}
		}
		return sum, true
	case *sparseDisjunction:
		return boundSum(ctx, r, c.disjuncts, docs)
	case *sparseConjunction:
		return boundSum(ctx, r, c.conjuncts, docs)
	case *prefixQuery:
		return terms(expansionKey{field: c.field, term: c.prefix}, c.boost, c.prefix)
	case *fuzzyQuery:
		p, _ := c.prefixTerm()
		return terms(expansionKey{field: c.field, term: c.term, fuzz: c.fuzz, prefix: len(p)}, c.boost, c.term)
	}
	return 0, false
}

// fieldOf is the field of a clause, or of every clause of a composite
// one; "" when they differ.
func fieldOf(q query.Query) string {
	var qs []query.Query
	switch q := q.(type) {
	case query.FieldableQuery:
		return q.Field()
	case *sparseDisjunction:
		qs = q.disjuncts
	case *sparseConjunction:
		qs = q.conjuncts
	default:
		return ""
	}
	f := ""
	for i, c := range qs {
		if g := fieldOf(c); i == 0 {
			f = g
		} else if g != f {
			return ""
		}
	}
	return f
}

func boundSum(ctx context.Context, r index.IndexReader, qs []query.Query, docs uint64) (float64, bool) {
	sum := 0.0
	for _, q := range qs {
		b, ok := clauseBound(ctx, r, q, docs)
		if !ok {
			return 0, false
		}
		sum += b
	}
	return sum, true
}

// normSearcher is a searcher that tells bounds the query's norm.
type normSearcher struct {
	bsearch.Searcher
	bounds *tierBounds
}

func (s *normSearcher) SetQueryNorm(n float64) {
	s.bounds.norm = n
	s.Searcher.SetQueryNorm(n)
}

// tierSearcher finds the documents of high, scored by full, which finds
// them all (high's clauses are among full's). Its weight and norm are
// full's, so that it scores as full does in the same place of a query.
// With raw (high's clauses scored, summed) and lows (the others'
// bounds by block), a document that cannot beat the page held is passed
// over before full scores it.
type tierSearcher struct {
	high, full bsearch.Searcher
	bounds     *tierBounds
	raw        *rawSum
	lows       []lowClause
	blocks     *blockBounds // the lows' segments and blocks
	clauses    int          // full's, for its coordination
}

// walk is the searcher of high's documents.
func (s *tierSearcher) walk() bsearch.Searcher {
	if s.raw != nil {
		return s.raw
	}
	return s.high
}

func (s *tierSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	h, err := s.walk().Next(ctx)
	return s.align(ctx, h, err)
}

func (s *tierSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	h, err := s.walk().Advance(ctx, id)
	return s.align(ctx, h, err)
}

// beaten says whether h (raw's) cannot beat the page held: its clauses'
// sum, with the most each other clause that has the document can add in
// its block, coordinated as full coordinates them, scores no more than
// the page's last hit.
func (s *tierSearcher) beaten(h *bsearch.DocumentMatch) bool {
	b := s.bounds
	if s.raw == nil || !b.full || b.norm == 0 {
		return false
	}
	n := h.IndexInternalID.Value()
	low, count := 0.0, s.raw.count
	seg, j := s.blocks.locate(n)
	local := uint32(n - s.blocks.offsets[seg])
	for _, l := range s.lows {
		if d := l.docs[seg]; d != nil && d.Contains(local) {
			u, _ := l.node.eval(seg, j)
			low += u
			count++
		}
	}
	ub := (h.Score + low*b.norm) * float64(count) / float64(s.clauses)
	if ub*(1-boundSlack) > b.least {
		return false
	}
	b.skipped = true
	return true
}

// align returns full's match of the document h is on, or of the first
// document after it that both find (passing over those beaten).
func (s *tierSearcher) align(ctx *bsearch.SearchContext, h *bsearch.DocumentMatch, err error) (*bsearch.DocumentMatch, error) {
	for err == nil && h != nil {
		if s.beaten(h) {
			ctx.DocumentMatchPool.Put(h)
			h, err = s.walk().Next(ctx)
			continue
		}
		var f *bsearch.DocumentMatch
		if f, err = s.full.Advance(ctx, h.IndexInternalID); err != nil || f == nil {
			ctx.DocumentMatchPool.Put(h)
			return nil, err
		}
		if f.IndexInternalID.Equals(h.IndexInternalID) {
			ctx.DocumentMatchPool.Put(h)
			return f, nil
		}
		// full is past h: catch high up with it.
		ctx.DocumentMatchPool.Put(h)
		if h, err = s.walk().Advance(ctx, f.IndexInternalID); err == nil && h != nil && h.IndexInternalID.Equals(f.IndexInternalID) && !s.beaten(h) {
			ctx.DocumentMatchPool.Put(h)
			return f, nil
		}
		ctx.DocumentMatchPool.Put(f)
	}
	return nil, err
}

func (s *tierSearcher) SetQueryNorm(n float64) {
	s.bounds.norm = n
	s.full.SetQueryNorm(n)
	if s.raw != nil {
		s.raw.SetQueryNorm(n)
	}
}

func (s *tierSearcher) Weight() float64 { return s.full.Weight() }
func (s *tierSearcher) Count() uint64   { return s.high.Count() }
func (s *tierSearcher) Min() int        { return 0 }
func (s *tierSearcher) Size() int       { return s.high.Size() + s.full.Size() }
func (s *tierSearcher) DocumentMatchPoolSize() int {
	n := s.high.DocumentMatchPoolSize() + s.full.DocumentMatchPoolSize() + 1
	if s.raw != nil {
		n += s.raw.DocumentMatchPoolSize()
	}
	return n
}

func (s *tierSearcher) Close() error {
	err := s.full.Close()
	if err2 := s.high.Close(); err == nil {
		err = err2
	}
	if s.raw != nil {
		if err2 := s.raw.Close(); err == nil {
			err = err2
		}
	}
	return err
}

// estimate is a sample's count of a tiered search's hits and facets.
type estimate struct {
	total  int
	facets []Facet
}

// sample counts the hits and, if asked, the facets of the documents that
// have the plan's words from a sample of those that have the rarest: about
// sampleSize of them, evenly spread over the index's document numbers,
// each a hit if it has the other words and passes q's filters. The counts
// are the sample's times the rarest word's documents over those sampled.
func (x *Index) sample(ctx context.Context, idx bleve.Index, q Query, p *tierPlan) (*estimate, error) {
	sq := &sampleQuery{lead: p.lead, words: p.words, tally: &sampleTally{}}
	req := bleve.NewSearchRequestOptions(withFilter(sq, q.Filter, x.facets, x.filterPath), 0, 0, false)
	req.Score = bleve.ScoreNone
	var counter *facetCounter
	if q.Facets {
		counter = &facetCounter{cols: x.facets}
	}
	res, err := idx.SearchInContext(collectHooks{facets: counter}.in(ctx), req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	scale := 0.0
	if t := sq.tally; t.sampled > 0 {
		scale = float64(t.lead) / float64(t.sampled)
	}
	out := &estimate{total: int(math.Round(float64(res.Total) * scale))}
	if counter != nil {
		out.facets = counter.facets()
		for _, f := range out.facets {
			for i := range f.Buckets {
				f.Buckets[i].Count = int(math.Round(float64(f.Buckets[i].Count) * scale))
			}
		}
	}
	return out, nil
}

// sampleTally is what a sample's searcher saw: the documents of its lead
// word, and how many of them it sampled.
type sampleTally struct {
	lead, sampled uint64
}

// sampleQuery samples the documents of lead and passes on those that
// have every one of words, unscored.
type sampleQuery struct {
	lead  query.Query
	words []query.Query
	tally *sampleTally
}

func (q *sampleQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, o bsearch.SearcherOptions) (bsearch.Searcher, error) {
	ss, err := q.bits(ctx, r, m)
	if err != nil {
		return nil, err
	}
	if ss == nil {
		for _, w := range append([]query.Query{q.lead}, q.words...) {
			s, err := unscored{w}.Searcher(ctx, r, m, o)
			if err != nil {
				closeSearchers(ss)
				return nil, err
			}
			ss = append(ss, s)
		}
	}
	docs, err := r.DocCount()
	if err != nil {
		closeSearchers(ss)
		return nil, err
	}
	// Skipping k document numbers after each sampled one leaves about
	// docs/(k + docs/lead) samples: k for sampleSize of them.
	lead := ss[0].Count()
	q.tally.lead = lead
	stride := uint64(1)
	if lead > sampleSize && docs > 0 {
		if k := float64(docs)/sampleSize - float64(docs)/float64(lead); k > 1 {
			stride = uint64(k)
		}
	}
	// The skips vary about their mean: an even stride would alias with
	// anything periodic in the order datasets were indexed (a crawl's
	// schemas in turn). Seeded by the index's state, the same search
	// samples alike.
	rng := rand.New(rand.NewPCG(lead, docs))
	return &sampleSearcher{lead: ss[0], rest: ss[1:], stride: stride, rng: rng, tally: q.tally}, nil
}

// bits are the searchers of the sample's lead and of its words by bitmaps
// (each document a step of a bitmap's iterator rather than an Advance
// through postings): the lead's, and the intersection of the words'; nil
// when bitmaps cannot tell them. They find what the words' searchers find:
// the same samples.
func (q *sampleQuery) bits(ctx context.Context, r index.IndexReader, m mapping.IndexMapping) ([]bsearch.Searcher, error) {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, nil
	}
	lead, err := newBitsSearcher(ctx, snap, m, q.lead, 0)
	if err != nil || lead == nil {
		return nil, err
	}
	all, err := newBitsSearcher(ctx, snap, m, newSparseConjunction(q.words...), 0)
	if err != nil || all == nil {
		return nil, err
	}
	return []bsearch.Searcher{lead, all}, nil
}

// sampleSearcher passes on a document of lead that every searcher of rest
// finds too, then skips about stride document numbers.
type sampleSearcher struct {
	lead   bsearch.Searcher
	rest   []bsearch.Searcher
	stride uint64 // the mean skip
	rng    *rand.Rand
	next   index.IndexInternalID // nil: from the start
	tally  *sampleTally
}

func (s *sampleSearcher) Next(ctx *bsearch.SearchContext) (*bsearch.DocumentMatch, error) {
	return s.Advance(ctx, nil)
}

// Advance returns the next sampled document at or after id (nil: any)
// that the rest find. The samples are its own: a filter that advances it
// to its next candidate does not choose them (it would choose the
// documents it passes), it says that those before id are not hits.
func (s *sampleSearcher) Advance(ctx *bsearch.SearchContext, id index.IndexInternalID) (*bsearch.DocumentMatch, error) {
	for {
		var d *bsearch.DocumentMatch
		var err error
		if s.next == nil {
			d, err = s.lead.Next(ctx)
		} else {
			d, err = s.lead.Advance(ctx, s.next)
		}
		if err != nil || d == nil {
			return nil, err
		}
		s.tally.sampled++
		n := d.IndexInternalID.Value()
		skip := s.stride
		if skip > 1 {
			skip = 1 + s.rng.Uint64N(2*skip-1)
		}
		s.next = index.NewIndexInternalID(s.next, n+min(skip, math.MaxUint64-n))
		if id != nil && d.IndexInternalID.Compare(id) < 0 {
			ctx.DocumentMatchPool.Put(d)
			continue
		}
		ok, err := s.all(ctx, d.IndexInternalID)
		if err != nil {
			ctx.DocumentMatchPool.Put(d)
			return nil, err
		}
		if ok {
			return d, nil
		}
		ctx.DocumentMatchPool.Put(d)
	}
}

// all reports whether every searcher of rest finds document id.
func (s *sampleSearcher) all(ctx *bsearch.SearchContext, id index.IndexInternalID) (bool, error) {
	for _, r := range s.rest {
		d, err := r.Advance(ctx, id)
		if err != nil || d == nil {
			return false, err
		}
		found := d.IndexInternalID.Equals(id)
		ctx.DocumentMatchPool.Put(d)
		if !found {
			return false, nil
		}
	}
	return true, nil
}

func (s *sampleSearcher) Close() error {
	err := s.lead.Close()
	for _, r := range s.rest {
		if err2 := r.Close(); err == nil {
			err = err2
		}
	}
	return err
}

func (s *sampleSearcher) Weight() float64      { return 0 }
func (s *sampleSearcher) SetQueryNorm(float64) {}
func (s *sampleSearcher) Count() uint64        { return s.lead.Count() }
func (s *sampleSearcher) Min() int             { return 0 }
func (s *sampleSearcher) Size() int            { return s.lead.Size() }
func (s *sampleSearcher) DocumentMatchPoolSize() int {
	n := s.lead.DocumentMatchPoolSize() + 1
	for _, r := range s.rest {
		n += r.DocumentMatchPoolSize()
	}
	return n
}

package search

import (
	"cmp"
	"context"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/quarrydata/quarry"
)

// Boosts of the ranking rules (see doc.go).
const (
	boostExactName  = 100
	boostNameWords  = 20
	boostNameStem   = 12
	boostPathWords  = 6
	boostExactCol   = 8
	boostColumns    = 3
	boostPrefix     = 4
	boostTags       = 3
	boostDescAll    = 2
	boostColDescAll = 1
	boostPhrase     = 20
	boostCover      = 1
	boostFuzzy      = 1.5
	boostFuzzyText  = 0.5
	boostInside     = 2
	maxFirst        = 100
	defaultFirst    = 20
	maxOffset       = 10_000 // deeper pages: narrow the search instead
	maxQueryLen     = 1_000  // bytes
	maxFuzzyWord    = 40     // letters: longer words are not typo-matched
	facetBucketSize = 20
)

// Query is a search.
type Query struct {
	Text   string
	Filter Filter
	First  int    // page size: default 20, at most 100
	After  string // cursor from the previous page
	// Facets asks for facet counts over all hits.
	Facets bool
	// NoMatches leaves the hits' Matches and Dataset empty, which saves
	// the search of the page's hits that finds them.
	NoMatches bool
	// Sort is the hits' order: SortRelevance (the default; by name for
	// an empty query), SortName, SortUpdated or SortPopularity.
	Sort string
}

// The orders of a search's hits.
const (
	SortRelevance = ""
	SortName      = "name"
	SortUpdated   = "updated" // the most recently updated first
)

// Filter narrows a search; values within a field are alternatives.
type Filter struct {
	Namespaces, Databases, Schemas, Kinds, Tags, Owners []string
	Freshness, Health                                   []string // statuses, as DatasetStatus holds them
	IncludeRemoved                                      bool
}

// Results are one page of hits with the total and facets of all of them.
type Results struct {
	Total     int
	Hits      []Hit
	Facets    []Facet
	EndCursor string
	HasNext   bool
	// Partial says that no dataset has every word of the query: the hits
	// are those with most of them, most first.
	Partial bool
	// Approximate says that Total and the facets' counts were estimated
	// from a sample of the hits, as they are for a word that thousands of
	// datasets have (tier.go); the hits themselves are exact.
	Approximate bool
	// DidYouMean is the query with its words that no name, column or tag
	// has spelled as one has, when the query finds few hits (suggest.go).
	DidYouMean string
}

// Hit is a matching dataset and why it matched.
type Hit struct {
	ID      string
	Score   float64
	Matches []Match
	// Dataset is the dataset as read from the store to rank and mark the
	// page, so that a caller showing it need not read it again: nil for an
	// empty query, with NoMatches unless ranked by relevance, or if it left
	// the store since it was indexed.
	Dataset *quarry.Dataset
}

// Match says which field matched, with the matched text marked by <mark>.
type Match struct {
	Field string // name, qualifiedName, column, description, columnDescription, tag
	Text  string
}

// Facet counts hits by the values of a field.
type Facet struct {
	Field   string // namespace, database, schema, kind, tags, owners, freshness, health
	Buckets []Bucket
}

// Bucket is one value of a facet.
type Bucket struct {
	Value string
	Count int
}

var facetFields = [...]string{fNamespace, fDatabase, fSchema, fKind, fTags, fOwners, fFreshness, fHealth}

// Search runs a query. An empty query lists datasets by name. A query of
// several words finds the datasets that have every word; when none has,
// it finds those with most of them and says so (Results.Partial).
func (x *Index) Search(ctx context.Context, q Query) (_ *Results, err error) {
	idx, err := x.serving()
	if err != nil {
		return nil, err
	}
	defer x.mu.RUnlock() // deferred: a panic in bleve must not keep the lock
	defer x.guard(idx, "search", &err)
	ctx = withExpansions(ctx) // typos' and prefixes' terms found once (expand.go)
	ctx = withSegmentBitmaps(ctx)
	ctx = withHot(ctx, x.facets.hot)
	qw := x.queryWords(queryText(q.Text))
	words := len(qw)
	// Of several words, each as typed first (a conjunction of one term
	// each is the cheapest search there is), unless one is in no
	// document, then also as a typo, inside a name or as the word being
	// typed.
	unknown, allKnown := x.unknownWords(idx, qw)
	var out *Results
	if words <= 1 || allKnown {
		out, err = x.search(ctx, idx, q, queryMode{unknown: unknown})
	}
	if err == nil && (out == nil || out.Total == 0 && words > 1) {
		out, err = x.search(ctx, idx, q, queryMode{loose: true, unknown: unknown})
	}
	// A word that no document has may be a typo of a word that only
	// descriptions or column names have. Their dictionaries are the
	// largest, so they are searched for typos only when the other fields
	// found less than a page: what they find ranks below typos of names,
	// so a full first page would barely change.
	textTypos := unknown != 0
	if page, _, _ := paging(q.First, ""); err == nil && out.Total < page && textTypos {
		out, err = x.search(ctx, idx, q, queryMode{loose: true, unknown: unknown, textTypos: true})
	}
	// The best partial matches: those with the most words any dataset has.
	for _, least := range partialTiers(words) {
		if err != nil || out.Total > 0 {
			break
		}
		out, err = x.search(ctx, idx, q, queryMode{loose: true, least: least, unknown: unknown, textTypos: textTypos})
		if err == nil {
			out.Partial = out.Total > 0
		}
	}
	if err == nil && words > 0 && out.Total <= fewHits {
		out.DidYouMean = x.suggest(idx, queryText(q.Text))
	}
	return out, err
}

// unknownWords says which words are a term of fWords in no document,
// neither as typed nor as a synonym (bit i for word i, of the first 64),
// and whether every word is one: a dictionary look-up each.
func (x *Index) unknownWords(idx bleve.Index, words []queryWord) (unknown uint64, allKnown bool) {
	m := idx.Mapping()
	a := m.AnalyzerNamed(m.AnalyzerNameForPath(fWords))
	if a == nil {
		return 0, false // an index of an older mapping: no such field
	}
	r, err := reader(idx)
	if err != nil {
		return 0, false
	}
	defer r.Close()
	allKnown = true
	for i, w := range words {
		found := false
		for _, alt := range w.alts {
			all := true
			for _, t := range a.Analyze([]byte(alt)) {
				if all = termIndexed(r, fWords, t.Term); !all {
					break
				}
			}
			if found = all; found {
				break
			}
		}
		if !found {
			allKnown = false
			if i < 64 {
				unknown |= 1 << i
			}
		}
	}
	return unknown, allKnown
}

func reader(idx bleve.Index) (index.IndexReader, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return nil, err
	}
	return adv.Reader()
}

// termIndexed reports whether field has term. Of a scorch index it asks
// each segment's dictionary, where bleve's merged dictionary iterator
// would start a goroutine per segment; a term of deleted documents alone
// counts until their segment is merged away.
func termIndexed(r index.IndexReader, field string, term []byte) bool {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		dict, err := r.FieldDictPrefix(field, term)
		if err != nil {
			return false
		}
		defer dict.Close()
		e, err := dict.Next()
		return err == nil && e != nil && e.Term == string(term)
	}
	for _, ss := range snap.Segments() {
		dict, err := ss.Segment().Dictionary(field)
		if err != nil {
			continue
		}
		if ok, err := dict.Contains(term); err == nil && ok {
			return true
		}
	}
	return false
}

// partialTiers are the numbers of words a fallback search asks its hits
// to have, in the order tried: all but one, two, three, then one. A long
// query costs four searches more at most, not one per word.
func partialTiers(words int) []int {
	var out []int
	for least := words - 1; least > 1 && least >= words-3; least-- {
		out = append(out, least)
	}
	if words > 1 {
		out = append(out, 1)
	}
	return out
}

func (x *Index) search(ctx context.Context, idx bleve.Index, q Query, mode queryMode) (*Results, error) {
	req, first, from, err := x.newRequest(idx.Mapping(), q, mode)
	if err != nil {
		return nil, err
	}
	var hooks collectHooks
	if q.Facets { // counted as hits are collected (facets.go)
		hooks.facets = &facetCounter{cols: x.facets}
	}
	if queryText(q.Text) == "" && q.Sort != SortUpdated && q.Sort != SortPopularity || q.Sort == SortName { // by name, as newRequest sorts, but from memory (order.go)
		hooks.order = &nameOrder{cols: x.facets}
		req.SortByCustom(bsearch.SortOrder{hooks.order, &bsearch.SortDocID{}})
	}
	if q.Sort == SortPopularity { // popularity.go
		order, err := x.popularityOrder(ctx)
		if err != nil {
			return nil, err
		}
		req.SortByCustom(order)
	}
	// A word that thousands of datasets have: its name's tier first, a
	// sample for the total and facets (tier.go).
	var plan *tierPlan
	miss := tierMissKey{text: queryText(q.Text), filter: fmt.Sprint(q.Filter), first: first, from: from}
	if !x.facets.misses.has(miss) {
		plan = x.tierPlan(ctx, idx, q, mode)
	}
	if plan != nil {
		tiered, exact, err := x.searchTiered(ctx, idx, q, plan, first, from)
		if err != nil {
			return nil, err
		}
		if !exact {
			x.facets.misses.add(miss)
		} else {
			// The total and the facets from a sample, counted beside the
			// page (pageBeside).
			var est *estimate
			out, err := x.pageBeside(ctx, idx, q, tiered, first, from, mode, func() (err error) {
				est, err = x.sample(ctx, idx, q, plan)
				return err
			})
			switch {
			case err != nil:
				return nil, err
			case est.total > 0:
				out.Total, out.Facets, out.Approximate = max(out.Total, est.total), est.facets, true
				return out, nil
			}
			// A sample without one of the hits says nothing of them (a
			// word in few documents, its name's tier forced in tests):
			// the query runs whole, its page marked for nothing.
		}
	}
	// Not tiered, or its tier could not tell: its page by blocks, if they
	// bound it.
	res, count, err := x.searchSkipping(ctx, idx, q, mode, hooks, first, from)
	if err != nil {
		return nil, err
	}
	if res == nil {
		if res, err = idx.SearchInContext(hooks.in(ctx), req); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
	}
	out, err := x.pageBeside(ctx, idx, q, res, first, from, mode, count)
	if err != nil {
		return nil, err
	}
	if hooks.facets != nil {
		out.Facets = hooks.facets.facets()
	}
	return out, nil
}

// pageBeside is the results of res, a search's page of hits (with the one
// after them), made while side (if not nil) runs on a goroutine of its
// own: a count of the search's hits and facets, which the page does not
// need and which may change res's total. Each was about a third of the
// time a search of a common word took at a million datasets (customer:
// the sample 2.5 and the page's datasets and matches 2.9 of 6.8 ms; a
// prefix's count 1.4-3.4 ms and its page 1.2-2.9), on one core of two.
// The results' total is res's once both are done.
func (x *Index) pageBeside(ctx context.Context, idx bleve.Index, q Query, res *bleve.SearchResult, first, from int, mode queryMode, side func() error) (*Results, error) {
	var serr error
	var running sync.WaitGroup
	// The side ends before the search lets go of idx (x.mu: a swap may
	// close it), also when the page panics.
	defer running.Wait()
	if side != nil {
		running.Go(func() {
			defer x.guard(idx, "search", &serr) // a panic in bleve fails the search, as on the search's own goroutine
			if x.testBeside != nil {
				x.testBeside()
			}
			serr = side()
		})
	}
	out, err := x.page(ctx, idx, q, res, first, from, mode)
	running.Wait()
	if serr != nil {
		return nil, serr
	}
	if err != nil {
		return nil, err
	}
	out.Total = int(res.Total)
	return out, nil
}

// page is the results of res but their total: the page's datasets read
// from the store (and its cache) once, to demote the deprecated ones and
// to mark their matches.
func (x *Index) page(ctx context.Context, idx bleve.Index, q Query, res *bleve.SearchResult, first, from int, mode queryMode) (*Results, error) {
	text := queryText(q.Text)
	var ds map[string]*quarry.Dataset
	var err error
	if text != "" && (q.Sort == SortRelevance || !q.NoMatches) {
		if ds, err = x.hitDatasets(ctx, idx, res.Hits); err != nil {
			return nil, err
		}
	}
	if text != "" && q.Sort == SortRelevance {
		if err := x.popularityHits(ctx, res.Hits); err != nil { // popularity.go
			return nil, err
		}
		demote(res.Hits, ds)
	}
	out := &Results{}
	for i, h := range res.Hits {
		if i == first {
			out.HasNext = true
			break
		}
		out.Hits = append(out.Hits, Hit{ID: h.ID, Score: h.Score, Dataset: ds[h.ID]})
	}
	if text != "" && len(out.Hits) > 0 && !q.NoMatches {
		if err := x.highlight(idx.Mapping(), text, out.Hits, mode); err != nil {
			return nil, err
		}
	}
	if out.HasNext {
		out.EndCursor = strconv.Itoa(from + first)
	}
	return out, nil
}

// newRequest is the bleve request of a query (one hit more than the page,
// to tell whether another follows), its page size and offset.
func (x *Index) newRequest(m mapping.IndexMapping, q Query, mode queryMode) (*bleve.SearchRequest, int, int, error) {
	first, from, err := paging(q.First, q.After)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(q.Text) > maxQueryLen {
		return nil, 0, 0, quarry.Invalid("query", "is %d bytes long; the limit is %d", len(q.Text), maxQueryLen)
	}
	text := queryText(q.Text)
	var match query.Query // nil: all datasets
	if text != "" {
		match = x.textQuery(m, text, mode)
	}
	req := bleve.NewSearchRequestOptions(withFilter(match, q.Filter, x.facets, x.filterPath), first+1, from, false)
	switch {
	case q.Sort == SortPopularity: // set by search, which has the context
	case q.Sort == SortUpdated:
		req.SortBy([]string{"-" + fUpdated, fQName, "_id"})
	case text == "" || q.Sort == SortName:
		req.SortBy([]string{fQName, "_id"})
	case q.Sort != SortRelevance:
		return nil, 0, 0, quarry.Invalid("sort", "is %q; it is one of relevance, name, updated and popularity", q.Sort)
	}
	return req, first, from, nil
}

func queryText(s string) string { return strings.TrimSpace(strings.ToValidUTF8(s, " ")) }

// highlightFields are the fields whose matched words a hit shows.
var highlightFields = []string{fName, fPath, fColumns, fDesc, fColumnDesc, fTagsText}

// highlight marks the matched words of a page of hits (those with their
// Dataset) in the texts the store has for them (marks.go).
func (x *Index) highlight(m mapping.IndexMapping, text string, hits []Hit, mode queryMode) error {
	mode.highlight = true
	var q query.Query
	var fields map[string]*pageField
	for i, h := range hits {
		if h.Dataset == nil {
			continue
		}
		if q == nil {
			// The clauses on the shown fields are the ones that mark words
			// there; a hit that matched by others still shows its fields' text.
			q = x.textQuery(m, text, mode)
			fields = pageFields(m, q)
		}
		p := newPageText(newTextsDoc(h.Dataset), fields)
		found := map[string][]mark{}
		if _, err := p.marks(q, found); err != nil {
			return err
		}
		hits[i].Matches = matches(found, p.values, x.fold)
	}
	return nil
}

// hitDatasets reads the datasets of hits from the store, by ID; a dataset
// removed since it was indexed is not there.
func (x *Index) hitDatasets(ctx context.Context, idx bleve.Index, hits bsearch.DocumentMatchCollection) (map[string]*quarry.Dataset, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	ds, err := x.st.DatasetsByID(ctx, ids) // in one transaction
	if err != nil {
		return nil, err
	}
	if len(ds) < len(hits) && x.damaged(idx) { // the store forgets no dataset: the index may make them up
		return nil, errUnavailable()
	}
	out := make(map[string]*quarry.Dataset, len(ds))
	for _, d := range ds {
		out[d.ID] = d
	}
	return out, nil
}

func paging(first int, after string) (int, int, error) {
	switch {
	case first == 0:
		first = defaultFirst
	case first < 0:
		return 0, 0, quarry.Invalid("first", "must be positive, got %d", first)
	case first > maxFirst:
		first = maxFirst
	}
	from := 0
	if after != "" {
		n, err := strconv.Atoi(after)
		if err != nil || n < 0 || n > maxOffset {
			return 0, 0, quarry.Invalid("after", "%q is not a cursor from this search (pages reach %d hits deep)", after, maxOffset)
		}
		from = n
	}
	return first, from, nil
}

// textQuery builds the ranking of doc.go from plain text. Nothing in the
// text is query syntax. mode says what the query is for: a search that
// wants every word matched, its fallback to partial matches, or marking
// the words of known hits.
func (x *Index) textQuery(m mapping.IndexMapping, text string, mode queryMode) query.Query {
	b := &queryBuilder{m: m, text: text, mode: mode, x: x, analyzed: map[string][]string{}}
	b.words = x.queryWords(text)
	return b.build()
}

// queryMode says what a text query is for: a search that wants every word
// matched (the zero mode), its fallback to hits with at least some of
// them, or marking the words of known hits.
type queryMode struct {
	loose bool // a word may also be found as a typo, inside a name or as a prefix
	least int  // > 0: a hit has this many of the words at least (loosely)
	// unknown: bit i says that word i is in no document as typed, so it may
	// be a typo of a word that only a description or column has; textTypos
	// looks for such words so.
	unknown   uint64
	textTypos bool
	highlight bool // a flat disjunction of the clauses on the fields a hit shows
}

var modeAll = queryMode{}

// queryBuilder builds one text query.
type queryBuilder struct {
	x        *Index
	m        mapping.IndexMapping
	text     string
	mode     queryMode
	words    []queryWord
	analyzed map[string][]string // analyzer + "\x00" + text -> terms
}

// queryWord is a word of the query with the synonyms configured for it.
type queryWord struct {
	word string
	alts []string // the word first, then its synonyms
	pos  int      // in the query, stop words counted
	// afterRepeat: a word typed again, not a stop word, was left out
	// between this word and the one before it.
	afterRepeat bool
}

// queryWords are the words of a query as they are matched: accents folded,
// split and lower-cased as identifiers are (fctOrders is fct orders), stop
// words left out unless the query is nothing else, each with its synonyms.
func (x *Index) queryWords(text string) []queryWord {
	var words []string
	for _, t := range x.words.Analyze([]byte(text)) {
		words = append(words, string(t.Term))
	}
	stops := 0
	for _, w := range words {
		if x.stop[w] {
			stops++
		}
	}
	out := make([]queryWord, 0, len(words)-stops)
	seen := map[string]bool{}
	repeat := false
	for i, w := range words {
		stop := x.stop[w] && stops < len(words)
		if seen[w] && !stop { // a word typed twice counts once
			repeat = true
			continue
		}
		if stop {
			continue
		}
		seen[w] = true
		out = append(out, queryWord{word: w, alts: append([]string{w}, x.synonyms[w]...), pos: i, afterRepeat: repeat})
		repeat = false
	}
	return out
}

// keep reports whether a clause on field belongs to the query built.
func (b *queryBuilder) keep(field string) bool {
	return !b.mode.highlight || slices.Contains(highlightFields, field)
}

// terms analyzes s as field is.
func (b *queryBuilder) terms(field, s string) []string {
	name := b.m.AnalyzerNameForPath(field)
	key := name + "\x00" + s
	if t, ok := b.analyzed[key]; ok {
		return t
	}
	var out []string
	for _, t := range b.m.AnalyzerNamed(name).Analyze([]byte(s)) {
		out = append(out, string(t.Term))
	}
	b.analyzed[key] = out
	return out
}

// wordIn is the clause that finds a word (or one of its synonyms) in
// field; nil when the field's analyzer drops it (a stop word).
func (b *queryBuilder) wordIn(field string, w queryWord, boost float64) query.Query {
	var alts []query.Query
	for _, a := range w.alts {
		terms := b.terms(field, a)
		if len(terms) == 0 {
			continue
		}
		parts := make([]query.Query, len(terms))
		for i, t := range terms {
			q := termQuery(field, t)
			q.SetBoost(boost)
			parts[i] = q
		}
		if len(parts) == 1 {
			alts = append(alts, parts[0])
		} else {
			alts = append(alts, newSparseConjunction(parts...))
		}
	}
	switch len(alts) {
	case 0:
		return nil
	case 1:
		return alts[0]
	}
	return newSparseDisjunction(alts...)
}

// allIn is the clause that finds every word in field (bleve's match query
// with the "and" operator, analyzed as the field is, but one word is a
// term query: bleve would wrap it in a conjunction of one, which costs a
// step per hit).
func (b *queryBuilder) allIn(field string, boost float64) query.Query {
	var terms []query.Query
	for _, w := range b.words {
		if q := b.wordIn(field, w, boost); q != nil {
			terms = append(terms, q)
		}
	}
	switch len(terms) {
	case 0:
		return bleve.NewMatchNoneQuery() // counts for the coordination factor, as before
	case 1:
		return terms[0]
	}
	return newSparseConjunction(terms...)
}

// wordByWord are the fields of coverFields whose words a query of several
// words weighs one by one alone (build).
var wordByWord = []string{fPath, fTagsText, fDesc, fColumnDesc}

type coverField struct {
	field string
	boost float64
}

// coverFields are the fields a word of a query of several words may be
// found in, each in its most forgiving analysis, with what finding it
// there weighs: a word of the name says most, of a column's description
// least.
var coverFields = []coverField{{fNameStem, 3}, {fPath, 1}, {fColumnStem, 1}, {fTagsText, 1.5}, {fDesc, 2}, {fColumnDesc, 1}}

// wordFound is the clause that finds word i where a query of several words
// requires it: among the words of all the fields (fWords), as a typo of a
// name word, inside a compound name or, for the word being typed, as a
// prefix. It scores little: wordWeight says where the word was found.
func (b *queryBuilder) wordFound(i int) query.Query {
	w := b.words[i]
	any := b.looseWord(i)
	// A prefix or typo that most of a large catalog has in its columns
	// (cust, in the customer_id of 69% of a million datasets) finds
	// nothing there, as in a query of one word (oneword.go): "fct_cust"
	// is the fct tables named with it, not every fct table with a
	// customer column, and its search does not walk them.
	for j, c := range any {
		if fieldOf(c) == fColumns {
			any[j] = unlessCommon{c}
		}
	}
	if q := b.wordIn(fWords, w, boostCover); q != nil {
		any = append(any, unscored{q})
	}
	if len(any) == 1 {
		return any[0]
	}
	return newSparseDisjunction(any...)
}

// wordWeight is the clause that scores word i by the fields it is in
// (coverFields): a word of the name weighs more than one of a column's
// description.
func (b *queryBuilder) wordWeight(i int) query.Query {
	var any []query.Query
	for _, f := range coverFields {
		if q := b.wordIn(f.field, b.words[i], f.boost*boostCover); q != nil {
			any = append(any, unlessCommon{q})
		}
	}
	switch len(any) {
	case 0:
		return nil
	case 1:
		return any[0]
	}
	return newSparseDisjunction(any...)
}

// looseWord are the clauses of rule 6 for word i: typos, inside longer
// name words, and as a prefix when it is the word being typed.
func (b *queryBuilder) looseWord(i int) []query.Query {
	w, last := b.words[i].word, i == len(b.words)-1
	var out []query.Query
	add := func(q query.Query, boost float64) {
		if !b.keep(q.(query.FieldableQuery).Field()) {
			return
		}
		q.(query.BoostableQuery).SetBoost(boost)
		out = append(out, q)
	}
	if n := len([]rune(w)); n >= 4 && n <= maxFuzzyWord {
		fuzz := 1
		if n >= 8 {
			fuzz = 2
		}
		for _, f := range []string{fNameParts, fName} {
			// A prefix of 1: typos rarely hit the first letter; it keeps the search fast.
			add(&fuzzyQuery{automata: b.x.automata, term: w, field: f, fuzz: fuzz, prefix: 1}, boostFuzzy)
		}
		// A typo of a word that only a description or a column has
		// ("reveneu" of revenue in "The source of truth for revenue")
		// finds it too, when the other fields find less than a page
		// (textTypos; Search), and only for a word that no document has
		// as typed. A description's terms
		// are stemmed, so the word is looked for as its stem.
		if b.mode.textTypos && i < 64 && b.mode.unknown&(1<<i) != 0 {
			add(&fuzzyQuery{automata: b.x.automata, term: w, field: fColumns, fuzz: fuzz, prefix: 1}, boostFuzzyText)
			if t := b.terms(fDesc, w); len(t) == 1 && len([]rune(t[0])) >= 4 {
				add(&fuzzyQuery{automata: b.x.automata, term: t[0], field: fDesc, fuzz: fuzz, prefix: 1}, boostFuzzyText)
			}
		}
	}
	// Words of 5+ letters also match inside longer name words: names
	// written as one lower-case word (employeepayhistory) hold several;
	// a plural is looked for as its stem (reasons in salesreason).
	inside := singular(w)
	if len([]rune(inside)) < minInside {
		inside = w // "items" inside orderitems still
	}
	if len([]rune(inside)) >= minInside {
		add(newPrefixQuery(inside, fNameInside), boostInside)
	}
	if last && lastWord(b.text) != "" {
		for _, f := range []string{fName, fNameParts, fColumns} {
			add(newPrefixQuery(w, f), boostPrefix)
		}
	}
	return out
}

// singular is an English plural's singular, as far as a prefix of the
// word tells: categories -> categor, reasons -> reason, boxes -> box.
func singular(w string) string {
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3]
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && len(w) > 3:
		return w[:len(w)-1]
	}
	return w
}

// singularWord is an English plural's singular as a word: categories ->
// category, boxes -> box, reasons -> reason.
func singularWord(w string) string {
	if strings.HasSuffix(w, "ies") && len(w) > 4 {
		return w[:len(w)-3] + "y"
	}
	return singular(w)
}

func (b *queryBuilder) build() query.Query {
	var rank []query.Query
	add := func(q query.Query, boost float64) {
		if q == nil || !b.keep(q.(query.FieldableQuery).Field()) {
			return
		}
		q.(query.BoostableQuery).SetBoost(boost)
		rank = append(rank, q)
	}
	multi := len(b.words) > 1
	all := func(field string, boost float64) {
		if !b.keep(field) {
			return
		}
		// Of several words, each word's clause (below) finds them one by
		// one in the qualified name, tags and descriptions, and scores
		// each word found there (so does a search marking them): a clause
		// of them all would add little but cost a searcher per word.
		if (multi || b.mode.highlight) && slices.Contains(wordByWord, field) {
			return
		}
		rank = append(rank, b.allIn(field, boost))
	}
	lower := strings.ToLower(b.text)
	// 1. The name or a dotted tail of it, as written; words typed apart
	// also match the name written joined or with underscores ("sales
	// territory" is salesterritory, "order items" is order_items). Words
	// typed with a dot between them are a dotted tail, not words apart:
	// "raw.orders" is analytics.raw.orders, not every raw_orders seed.
	add(termQuery(fNames, lower), boostExactName)
	if words := identWords(string(b.x.fold.Filter([]byte(b.text)))); len(words) > 0 && !strings.Contains(b.text, ".") {
		if len(words) > 1 {
			add(termQuery(fNames, strings.Join(words, "")), boostExactName)
			add(termQuery(fNames, strings.Join(words, "_")), boostExactName)
		}
		// The last word's plural folded, as in the name's words, a word
		// of the list (words.txt) alone: "countries" is country, before
		// countryregion whose description says countries; "product
		// categories" is productcategory.
		if last := words[len(words)-1]; singularWord(last) != last && b.x.compound.words[singularWord(last)] {
			words[len(words)-1] = singularWord(last)
			add(termQuery(fNames, strings.Join(words, "")), boostExactName)
			if len(words) > 1 {
				add(termQuery(fNames, strings.Join(words, "_")), boostExactName)
			}
		}
	}
	// 2-3. Every word in the name, or in the qualified name.
	all(fName, boostNameWords)
	all(fNameParts, boostNameWords)
	all(fNameStem, boostNameStem)
	all(fPath, boostPathWords)
	all(fPathParts, boostPathWords)
	// 4. A column, or words of column names.
	add(termQuery(fColumnExact, lower), boostExactCol)
	all(fColumns, boostColumns)
	all(fColumnStem, boostColumns)
	// 5. Tags and descriptions: every word, and more for words side by
	// side as the query has them.
	all(fTagsText, boostTags)
	all(fDesc, boostDescAll)
	all(fColumnDesc, boostColDescAll)
	if multi && !b.mode.highlight && strings.ContainsFunc(b.text, unicode.IsSpace) { // words, not an identifier
		rank = append(rank, b.nearPhrase(fDesc, boostPhrase)...)
		rank = append(rank, b.nearPhrase(fColumnDesc, boostPhrase/2)...)
	}
	// 6. Typos, words inside names and the word being typed. A query of
	// one word has them here; one of several has them in the clause of
	// each word (below), which every hit must match.
	// A search marking the words of a query of several words that matched
	// them as typed marks no typos either.
	if !multi || b.mode.highlight && b.mode.loose {
		for i, w := range b.words {
			rank = append(rank, b.looseWord(i)...)
			if len(w.alts) > 1 && !b.mode.highlight {
				if q := b.wordWeight(i); q != nil {
					rank = append(rank, q) // its synonyms
				}
			}
		}
	}
	if b.mode.highlight {
		// The words, one by one, in the fields of coverFields that a hit
		// shows: what the search's clauses there mark, its phrases' words
		// included.
		for _, f := range wordByWord {
			for _, w := range b.words {
				if q := b.wordIn(f, w, 1); q != nil {
					rank = append(rank, q)
				}
			}
		}
		return newSparseDisjunction(rank...)
	}
	if !multi {
		return b.oneWord(rank)
	}
	// Several words: a hit has every one of them, in whatever fields
	// (coverage beats one word in the name), or in the fallback the number
	// asked for; each scores by where it was found.
	each := make([]query.Query, len(b.words))
	for i, w := range b.words {
		if q := b.wordIn(fWords, w, boostCover); q != nil && !b.mode.loose {
			each[i] = unscored{q}
		} else {
			each[i] = b.wordFound(i)
		}
		if q := b.wordWeight(i); q != nil {
			rank = append(rank, q)
		}
	}
	ranked := newSparseDisjunction(rank...)
	var must query.Query = newSparseConjunction(each...)
	if b.mode.least > 0 {
		some := bleve.NewDisjunctionQuery(each...)
		some.SetMin(float64(b.mode.least))
		must = some
	}
	return &requiredQuery{must: must, should: ranked}
}

// nearPhrase are the clauses that find the query's words side by side in
// field: each pair of consecutive words as a phrase, with as many words
// between them as the query has stop words there ("reviews of products"),
// and, when it has some, with none ("credit cards of customers" has the
// pair of "customer credit card" that matters). The more pairs a text has,
// the nearer the phrase.
func (b *queryBuilder) nearPhrase(field string, boost float64) []query.Query {
	var out []query.Query
	for i := 0; i+1 < len(b.words); i++ {
		w1, w2 := b.words[i], b.words[i+1]
		t1, t2 := b.terms(field, w1.word), b.terms(field, w2.word)
		if len(t1) == 0 || len(t2) == 0 {
			continue
		}
		gaps := []int{0}
		// The words between are stop words, unless one was a word typed
		// again: then the gap says nothing of the text ("daily ad
		// performance at the ad level" is not "performance at the
		// campaign level").
		if g := w2.pos - w1.pos - 1; g > 0 && !w2.afterRepeat {
			gaps = append(gaps, g)
		}
		for _, gap := range gaps {
			terms := make([][]string, 0, gap+2)
			terms = append(terms, []string{t1[len(t1)-1]})
			for range gap {
				terms = append(terms, nil)
			}
			terms = append(terms, []string{t2[0]})
			q := query.NewMultiPhraseQuery(terms, field)
			q.SetBoost(boost)
			out = append(out, phraseUnlessCommon{Query: q, field: field, terms: []string{t1[len(t1)-1], t2[0]}})
		}
	}
	return out
}

// identWords splits text as identifiers are split at punctuation, lower-cased.
func identWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// lastWord is the word being typed: the last one, unless the text ends in a
// separator.
func lastWord(text string) string {
	words := identWords(text)
	if len(words) == 0 {
		return ""
	}
	if r := []rune(text); !unicode.IsLetter(r[len(r)-1]) && !unicode.IsDigit(r[len(r)-1]) {
		return ""
	}
	return words[len(words)-1]
}

// withFilter narrows q (nil: all datasets) by a filter (filter.go). The
// index holds datasets alone, so no clause asks for their type: it would
// visit every document, as would a match-all clause beside the filter's.
// path is Index.filterPath.
func withFilter(q query.Query, f Filter, cols *facetColumns, path string) query.Query {
	fq := &filteredQuery{text: q, cols: cols, path: path}
	for i, values := range [len(facetFields)][]string{f.Namespaces, f.Databases, f.Schemas, f.Kinds, f.Tags, f.Owners, f.Freshness, f.Health} {
		if len(values) == 0 {
			continue
		}
		var alts []query.Query
		for _, v := range values {
			t := termQuery(facetFields[i], v)
			if q != nil {
				t.SetBoost(0) // it narrows, it does not rank (alone, it has to score)
			}
			alts = append(alts, t)
		}
		fq.filters = append(fq.filters, bleve.NewDisjunctionQuery(alts...))
		fq.values[i] = values
	}
	b := bleve.NewBooleanQuery()
	switch {
	case len(fq.filters) == 0 && q == nil:
		b.Must = bleve.NewMatchAllQuery()
	case len(fq.filters) == 0:
		b.Must = q // not wrapped in a conjunction of one, which costs a step per hit
	case q == nil && len(fq.filters) == 1:
		b.Must = fq.filters[0]
	case q == nil:
		b.AddMust(fq.filters...)
	default:
		b.Must = fq
	}
	b.AddMustNot(termQuery(fType, typeJob)) // a few postings: cheap
	if !f.IncludeRemoved {
		removed := bleve.NewBoolFieldQuery(true)
		removed.SetField(fRemoved)
		b.AddMustNot(removed)
	}
	return b
}

// liveDemotion is the share of its score a deprecated hit loses beside a
// live one: enough to order equal matches, small beside what a better
// match of the words adds (an exact name still finds the deprecated
// dataset first). It is taken off the deprecated hits of a page (demote)
// rather than added to every live one in the query: a should clause on the
// deprecated field matched nearly every document and made a one-word search
// at 100k datasets cost twice the CPU.
const liveDemotion = 0.1

// demote lowers the score of the deprecated hits among hits by liveDemotion
// and orders them again, so that a live dataset outranks a deprecated one
// that matches as well. It sees one page (and the hit after it), whose
// datasets ds has: a tie across pages is not reordered.
func demote(hits bsearch.DocumentMatchCollection, ds map[string]*quarry.Dataset) {
	changed := false
	for _, h := range hits {
		if d := ds[h.ID]; d != nil && d.Deprecated() != nil {
			h.Score *= 1 - liveDemotion
			changed = true
		}
	}
	if changed {
		slices.SortStableFunc(hits, func(a, b *bsearch.DocumentMatch) int { return cmp.Compare(b.Score, a.Score) })
	}
}

func termQuery(field, v string) *query.TermQuery {
	q := bleve.NewTermQuery(v)
	q.SetField(field)
	return q
}

// matches turns the words marked in each field (by field, of values)
// into the fields users know.
func matches(found map[string][]mark, values map[string][]string, fold analysis.CharFilter) []Match {
	names := map[string]string{
		fName: "name", fPath: "qualifiedName", fColumns: "column", fDesc: "description",
		fColumnDesc: "columnDescription", fTagsText: "tag",
	}
	var out []Match
	for _, f := range []string{fName, fPath, fColumns, fTagsText, fDesc, fColumnDesc} {
		if text, ok := markField(found[f], values[f], fold); ok {
			out = append(out, Match{Field: names[f], Text: text})
		}
	}
	if len(out) > 1 && out[0].Field == "name" && out[1].Field == "qualifiedName" {
		out = slices.Delete(out, 1, 2) // the name says it already
	}
	return out
}

// fragmentSize is about how much of a long text a match shows.
const fragmentSize = 200

// markField returns the text of a field (values) where the query matched
// it (marks), the matched words in <mark> and the rest HTML-escaped: of a
// field with several values (columns), the value with the most distinct
// words matched; of a long text, about fragmentSize bytes around its first
// match, as bleve's highlighter does.
func markField(marks []mark, values []string, fold analysis.CharFilter) (string, bool) {
	type span struct{ start, end int }
	byValue := map[int][]span{}        // value index -> matched spans
	terms := map[int]map[string]bool{} // value index -> distinct words matched
	for _, m := range marks {
		byValue[m.value] = append(byValue[m.value], span{m.start, m.end})
		if terms[m.value] == nil {
			terms[m.value] = map[string]bool{}
		}
		terms[m.value][m.term] = true
	}
	if len(byValue) == 0 {
		return "", false
	}
	best, most := -1, 0
	for i := range byValue {
		if len(terms[i]) > most || len(terms[i]) == most && i < best {
			best, most = i, len(terms[i])
		}
	}
	text := values[best]
	spans := byValue[best]
	if at := foldedOffsets(text, fold); at != nil { // the words' offsets are in the folded text
		for i, sp := range spans {
			spans[i] = span{at[sp.start], at[sp.end]}
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	from, to := 0, len(text)
	if len(text) > fragmentSize {
		from = max(0, spans[0].start-fragmentSize/4)
		for from > 0 && text[from-1] != ' ' && spans[0].start-from < fragmentSize/2 {
			from-- // start at a word
		}
		to = min(len(text), from+fragmentSize)
		for to < len(text) && text[to] != ' ' && to-from < fragmentSize*3/2 {
			to++
		}
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
	}
	pos, marked := from, false
	for _, sp := range spans {
		if sp.start < pos || sp.end > to || sp.start > sp.end {
			continue // overlapping, or outside the fragment
		}
		if !wordBoundary(text, sp.start) || !wordBoundary(text, sp.end) {
			continue // cut inside what the text shows as one word
		}
		b.WriteString(html.EscapeString(text[pos:sp.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[sp.start:sp.end]))
		b.WriteString("</mark>")
		pos, marked = sp.end, true
	}
	b.WriteString(html.EscapeString(text[pos:to]))
	if to < len(text) {
		b.WriteString("…")
	}
	return b.String(), marked
}

// wordBoundary reports whether byte offset i of text can begin or end a
// word as the analyzers cut words: at either end of the text, beside a
// character that is not a letter or digit, between a lower-case letter and
// an upper-case one (camelCase), or between a letter and a digit.
func wordBoundary(text string, i int) bool {
	if i <= 0 || i >= len(text) {
		return i >= 0 && i <= len(text)
	}
	if !utf8.RuneStart(text[i]) {
		return false
	}
	prev, _ := utf8.DecodeLastRuneInString(text[:i])
	next, _ := utf8.DecodeRuneInString(text[i:])
	alnum := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	switch {
	case !alnum(prev) || !alnum(next):
		return true
	case unicode.IsLower(prev) && unicode.IsUpper(next):
		return true
	case unicode.IsUpper(prev) && unicode.IsUpper(next):
		// ABCDef: camelcase splits before the last capital of a run
		rest := text[i+utf8.RuneLen(next):]
		after, _ := utf8.DecodeRuneInString(rest)
		return rest != "" && unicode.IsLower(after)
	case unicode.IsDigit(prev) != unicode.IsDigit(next):
		return true
	}
	return false
}

// foldedOffsets maps each byte offset of text with its accents folded (as
// the analyzers fold it, a rune at a time) to the offset in text it comes
// from; nil when folding changes nothing (ASCII text).
func foldedOffsets(text string, fold analysis.CharFilter) []int {
	ascii := true
	for i := 0; i < len(text) && ascii; i++ {
		ascii = text[i] < utf8.RuneSelf
	}
	if ascii || fold == nil {
		return nil
	}
	at := make([]int, 0, len(text)+1)
	for i := 0; i < len(text); {
		_, size := utf8.DecodeRuneInString(text[i:])
		n := len(fold.Filter([]byte(text[i : i+size])))
		for range n {
			at = append(at, i)
		}
		i += size
	}
	return append(at, len(text))
}

// Suggestion is an autocompletion: a dataset name, or a column name.
type Suggestion struct {
	Text      string
	Kind      string // DATASET or COLUMN
	DatasetID string // for a dataset
	Count     int    // for a column: how many datasets have it
}

// Autocomplete suggests dataset names that start with prefix, or one of
// whose name words does ("ord" suggests fct_order_items), shortest first,
// then column names that start with it. It reads the term dictionaries, so
// its cost is bounded by limit, not by how many datasets match (but for
// the removed datasets that have a column suggested). Removed datasets are
// never suggested; their column names may be, with their counts, until
// bleve merges the index segment that held them (a term dictionary forgets
// deleted documents only then, and the document of a dataset removed is
// one deleted and one added).
func (x *Index) Autocomplete(ctx context.Context, prefix string, limit int) (_ []Suggestion, err error) {
	switch {
	case limit <= 0:
		limit = 10
	case limit > maxFirst:
		limit = maxFirst
	}
	if len(prefix) > maxQueryLen {
		return nil, quarry.Invalid("prefix", "is %d bytes long; the limit is %d", len(prefix), maxQueryLen)
	}
	prefix = strings.ToLower(strings.TrimSpace(strings.ToValidUTF8(prefix, "")))
	if prefix == "" {
		return nil, nil
	}
	idx, err := x.serving()
	if err != nil {
		return nil, err
	}
	defer x.mu.RUnlock()
	defer x.guard(idx, "autocomplete", &err)
	// Where a name may start: its dotted tails (names, which removed
	// datasets and jobs have too: the filter leaves them out) and the word
	// tails of its last segment (name_starts).
	var terms []dictTerm
	for _, f := range []string{fNames, fNameStarts} {
		t, err := dictPrefix(idx, f, prefix, 10*limit)
		if err != nil {
			return nil, err
		}
		for i := range t {
			t[i].field = f
		}
		terms = append(terms, t...)
	}
	slices.SortStableFunc(terms, func(a, b dictTerm) int { return len(a.term) - len(b.term) })
	var alts []query.Query
	for _, t := range terms[:min(len(terms), limit)] {
		alts = append(alts, termQuery(t.field, t.term))
	}
	var out []Suggestion
	if len(alts) > 0 {
		req := bleve.NewSearchRequestOptions(withFilter(bleve.NewDisjunctionQuery(alts...), Filter{}, x.facets, x.filterPath), limit, 0, false)
		req.Fields = []string{fPath}
		res, err := idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("autocomplete: %w", err)
		}
		for _, h := range res.Hits {
			name, _ := h.Fields[fPath].(string)
			out = append(out, Suggestion{Text: name, Kind: "DATASET", DatasetID: h.ID})
		}
		slices.SortStableFunc(out, func(a, b Suggestion) int { return len(a.Text) - len(b.Text) })
	}
	if len(out) >= limit {
		return out, nil
	}
	cols, err := columnSuggestions(ctx, idx, prefix, limit-len(out))
	if err != nil {
		return nil, err
	}
	for _, c := range cols {
		out = append(out, Suggestion{Text: c.term, Kind: "COLUMN", Count: c.count})
	}
	return out, nil
}

// columnSuggestions returns up to n column names that start with prefix,
// each with how many datasets not removed have it. The column field holds
// every dataset's columns (a field of the live datasets' alone, for
// autocomplete's sake, indexed every column name twice): a removed
// dataset's are counted off by a search of those alone, which most
// catalogs, with few or no removed datasets, make cheap.
func columnSuggestions(ctx context.Context, idx bleve.Index, prefix string, n int) ([]dictTerm, error) {
	removed := bleve.NewBoolFieldQuery(true)
	removed.SetField(fRemoved)
	count := func(q query.Query) (int, error) {
		res, err := idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, 0, 0, false))
		if err != nil {
			return 0, fmt.Errorf("autocomplete: %w", err)
		}
		return int(res.Total), nil
	}
	anyRemoved, err := count(removed)
	if err != nil {
		return nil, err
	}
	dict, err := idx.FieldDictPrefix(fColumnExact, []byte(prefix))
	if err != nil {
		return nil, fmt.Errorf("autocomplete: %w", err)
	}
	defer dict.Close()
	var out []dictTerm
	for read := 0; len(out) < n && read < 10*n; read++ {
		e, err := dict.Next()
		if err != nil {
			return nil, fmt.Errorf("autocomplete: %w", err)
		}
		if e == nil {
			break
		}
		live := int(e.Count)
		if anyRemoved > 0 {
			gone, err := count(bleve.NewConjunctionQuery(termQuery(fColumnExact, e.Term), removed))
			if err != nil {
				return nil, err
			}
			live -= gone
		}
		if live > 0 {
			out = append(out, dictTerm{term: e.Term, count: live})
		}
	}
	return out, nil
}

type dictTerm struct {
	term  string
	count int
	field string // Autocomplete's: the field the term is of
}

// dictPrefix returns up to n terms of a field that start with prefix, in
// term order.
func dictPrefix(idx bleve.Index, field, prefix string, n int) ([]dictTerm, error) {
	dict, err := idx.FieldDictPrefix(field, []byte(prefix))
	if err != nil {
		return nil, fmt.Errorf("autocomplete: %w", err)
	}
	defer dict.Close()
	var out []dictTerm
	for len(out) < n {
		e, err := dict.Next()
		if err != nil {
			return nil, fmt.Errorf("autocomplete: %w", err)
		}
		if e == nil {
			break
		}
		out = append(out, dictTerm{term: e.Term, count: int(e.Count)})
	}
	return out, nil
}

// JobHit is a job a search found.
type JobHit struct {
	ID    string
	Score float64
}

// SearchJobs finds jobs by name, namespace, description and SQL, best
// first; at most first (default 20, capped at 100).
func (x *Index) SearchJobs(ctx context.Context, text string, first int) (_ []JobHit, err error) {
	if len(text) > maxQueryLen {
		return nil, quarry.Invalid("query", "is %d bytes long; the limit is %d", len(text), maxQueryLen)
	}
	first, _, err = paging(first, "")
	if err != nil {
		return nil, err
	}
	idx, err := x.serving()
	if err != nil {
		return nil, err
	}
	defer x.mu.RUnlock()
	defer x.guard(idx, "search jobs", &err)
	b := bleve.NewBooleanQuery()
	b.AddMust(termQuery(fType, typeJob))
	if text = queryText(text); text != "" {
		sql := bleve.NewMatchQuery(text)
		sql.SetField(fSQL)
		sql.SetBoost(0.5) // below the name and description
		b.AddShould(x.textQuery(idx.Mapping(), text, modeAll), sql)
		b.SetMinShould(1)
	}
	req := bleve.NewSearchRequestOptions(b, first, 0, false)
	if text == "" {
		req.SortBy([]string{fQName, "_id"})
	}
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search jobs: %w", err)
	}
	out := make([]JobHit, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = JobHit{ID: h.ID, Score: h.Score}
	}
	return out, nil
}

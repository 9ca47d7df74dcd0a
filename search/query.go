package search

import (
	"context"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

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
	boostFuzzy      = 1.5
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
}

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
}

// Hit is a matching dataset and why it matched.
type Hit struct {
	ID      string
	Score   float64
	Matches []Match
	// Dataset is the dataset as read from the store to mark its matches,
	// so that a caller showing it need not read it again: nil for an empty
	// query, with NoMatches, or if it left the store since it was indexed.
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

// Search runs a query. An empty query lists datasets by name.
func (x *Index) Search(ctx context.Context, q Query) (_ *Results, err error) {
	idx, err := x.serving()
	if err != nil {
		return nil, err
	}
	defer x.mu.RUnlock() // deferred: a panic in bleve must not keep the lock
	defer x.guard(idx, "search", &err)
	req, first, from, err := x.newRequest(idx.Mapping(), q)
	if err != nil {
		return nil, err
	}
	var hooks collectHooks
	if q.Facets { // counted as hits are collected (facets.go)
		hooks.facets = &facetCounter{cols: x.facets}
	}
	if queryText(q.Text) == "" { // listed by name, as newRequest sorts, but from memory (order.go)
		hooks.order = &nameOrder{cols: x.facets}
		req.SortByCustom(bsearch.SortOrder{hooks.order, &bsearch.SortDocID{}})
	}
	sctx := ctx
	if hooks != (collectHooks{}) {
		sctx = context.WithValue(ctx, bsearch.MakeDocumentMatchHandlerKey, bsearch.MakeDocumentMatchHandler(hooks.handler))
	}
	res, err := idx.SearchInContext(sctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &Results{Total: int(res.Total)}
	for i, h := range res.Hits {
		if i == first {
			out.HasNext = true
			break
		}
		out.Hits = append(out.Hits, Hit{ID: h.ID, Score: h.Score})
	}
	if text := queryText(q.Text); text != "" && len(out.Hits) > 0 && !q.NoMatches {
		if err := x.highlight(ctx, idx, text, out.Hits); err != nil {
			return nil, err
		}
	}
	if out.HasNext {
		out.EndCursor = strconv.Itoa(from + first)
	}
	if hooks.facets != nil {
		out.Facets = hooks.facets.facets()
	}
	return out, nil
}

// newRequest is the bleve request of a query (one hit more than the page,
// to tell whether another follows), its page size and offset.
func (x *Index) newRequest(m mapping.IndexMapping, q Query) (*bleve.SearchRequest, int, int, error) {
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
		match = x.textQuery(m, text, nil)
	}
	req := bleve.NewSearchRequestOptions(withFilter(match, q.Filter, x.facets, x.filterPath), first+1, from, false)
	if text == "" {
		req.SortBy([]string{fQName, "_id"})
	}
	return req, first, from, nil
}

func queryText(s string) string { return strings.TrimSpace(strings.ToValidUTF8(s, " ")) }

// highlightFields are the fields whose matched words a hit shows.
var highlightFields = []string{fName, fPath, fColumns, fDesc, fColumnDesc, fTagsText}

// highlight marks the matched words of a page of hits. It is a search of
// its own, of those hits alone: asking for highlights in the search itself
// would make every term searcher decode the positions of every hit, most
// of the cost of a query with many hits.
//
// The texts marked are the store's: the documents' stored fields would
// cost a read and decode of each, and the page's datasets are read from
// the store anyway (and cached) to be shown.
func (x *Index) highlight(ctx context.Context, idx bleve.Index, text string, hits []Hit) error {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	// The clauses on the shown fields are the ones that mark words there;
	// a hit that matched by others still shows its fields' text.
	q := bleve.NewBooleanQuery()
	q.AddMust(bleve.NewDocIDQuery(ids))
	q.AddShould(x.textQuery(idx.Mapping(), text, func(f string) bool { return slices.Contains(highlightFields, f) }))
	req := bleve.NewSearchRequestOptions(q, len(hits), 0, false)
	req.Score = bleve.ScoreNone
	req.IncludeLocations = true
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return fmt.Errorf("highlight: %w", err)
	}
	byID := make(map[string]*bsearch.DocumentMatch, len(res.Hits))
	for _, h := range res.Hits {
		byID[h.ID] = h
	}
	ds, err := x.st.DatasetsByID(ctx, ids) // every hit's, in one transaction: they are shown
	if err != nil {
		return err
	}
	if len(ds) < len(hits) && x.damaged(idx) { // the store forgets no dataset: the index may make them up
		return errUnavailable()
	}
	for i, j := 0, 0; i < len(hits) && j < len(ds); i++ {
		if ds[j].ID != hits[i].ID {
			continue // removed from the store since it was indexed
		}
		d := ds[j]
		j++
		hits[i].Dataset = d
		if h := byID[hits[i].ID]; h != nil {
			hits[i].Matches = matches(h, newTextsDoc(d))
		}
	}
	return nil
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
// text is query syntax. Given fields, it keeps the clauses on fields it
// accepts.
func (x *Index) textQuery(m mapping.IndexMapping, text string, fields func(string) bool) query.Query {
	lower := strings.ToLower(text)
	var any []query.Query
	add := func(q query.Query, boost float64) {
		if fields != nil && !fields(q.(query.FieldableQuery).Field()) {
			return
		}
		q.(query.BoostableQuery).SetBoost(boost)
		any = append(any, q)
	}
	// all is bleve's match query with the "and" operator, analyzed as the
	// field is, but one word is a term query: bleve would wrap it in a
	// conjunction of one, which costs a step per hit.
	analyzed := map[string][]string{} // by analyzer: most are shared by several fields
	all := func(field string, boost float64) {
		if fields != nil && !fields(field) {
			return
		}
		name := m.AnalyzerNameForPath(field)
		words, ok := analyzed[name]
		if !ok {
			for _, t := range m.AnalyzerNamed(name).Analyze([]byte(text)) {
				words = append(words, string(t.Term))
			}
			analyzed[name] = words
		}
		terms := make([]query.Query, len(words))
		for i, w := range words {
			q := termQuery(field, w)
			q.SetBoost(boost)
			terms[i] = q
		}
		switch len(terms) {
		case 0:
			any = append(any, bleve.NewMatchNoneQuery()) // counts for the coordination factor, as before
		case 1:
			any = append(any, terms[0])
		default:
			any = append(any, bleve.NewConjunctionQuery(terms...))
		}
	}
	// 1. The name or a dotted tail of it, as written; words typed apart
	// also match the name written joined or with underscores ("sales
	// territory" is salesterritory, "order items" is order_items).
	add(termQuery(fNames, lower), boostExactName)
	if words := identWords(text); len(words) > 1 {
		add(termQuery(fNames, strings.Join(words, "")), boostExactName)
		add(termQuery(fNames, strings.Join(words, "_")), boostExactName)
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
	// 5. Tags and descriptions.
	all(fTagsText, boostTags)
	all(fDesc, boostDescAll)
	all(fColumnDesc, boostDescAll/2)
	// 6. Typos and the word being typed.
	words := identWords(text)
	for _, w := range words {
		if n := len([]rune(w)); n >= 4 && n <= maxFuzzyWord {
			fuzz := 1
			if n >= 8 {
				fuzz = 2
			}
			for _, f := range []string{fNameParts, fName} {
				// A prefix of 1: typos rarely hit the first letter; it keeps the search fast.
				add(&fuzzyQuery{automata: x.automata, term: w, field: f, fuzz: fuzz, prefix: 1}, boostFuzzy)
			}
		}
	}
	// Words of 5+ letters also match inside longer name words: names
	// written as one lower-case word (employeepayhistory) hold several.
	for _, w := range words {
		if len([]rune(w)) >= minInside {
			q := bleve.NewPrefixQuery(w)
			q.SetField(fNameInside)
			add(q, boostInside)
		}
	}
	if last := lastWord(text); last != "" {
		for _, f := range []string{fName, fNameParts, fColumns} {
			q := bleve.NewPrefixQuery(last)
			q.SetField(f)
			add(q, boostPrefix)
		}
	}
	return bleve.NewDisjunctionQuery(any...)
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

func termQuery(field, v string) *query.TermQuery {
	q := bleve.NewTermQuery(v)
	q.SetField(field)
	return q
}

// matches turns highlight fragments into the fields users know.
func matches(h *bsearch.DocumentMatch, doc *datasetDoc) []Match {
	names := map[string]string{
		fName: "name", fPath: "qualifiedName", fColumns: "column", fDesc: "description",
		fColumnDesc: "columnDescription", fTagsText: "tag",
	}
	values := map[string][]string{
		fName: {doc.Name}, fPath: {doc.Path}, fColumns: doc.Columns, fDesc: {doc.Desc},
		fColumnDesc: doc.ColumnDesc, fTagsText: doc.Tags,
	}
	var out []Match
	for _, f := range []string{fName, fPath, fColumns, fTagsText, fDesc, fColumnDesc} {
		if text, ok := markField(h, f, values[f]); ok {
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

// markField returns the text of field (values, as the document was built)
// where the query matched it,
// the matched words in <mark> and the rest HTML-escaped: of a field with
// several values (columns), the value with the most matched words; of a
// long text, about fragmentSize bytes around its first match. This is what
// bleve's highlighter does, from the locations the search found, without
// re-analyzing the document.
func markField(h *bsearch.DocumentMatch, field string, values []string) (string, bool) {
	type span struct{ start, end int }
	byValue := map[int][]span{} // value index -> matched spans
	for _, locs := range h.Locations[field] {
		for _, l := range locs {
			i := 0
			if len(l.ArrayPositions) > 0 {
				i = int(l.ArrayPositions[0])
			}
			byValue[i] = append(byValue[i], span{int(l.Start), int(l.End)})
		}
	}
	if len(byValue) == 0 {
		return "", false
	}
	best, most := -1, 0
	for i, spans := range byValue {
		if len(spans) > most || len(spans) == most && i < best {
			best, most = i, len(spans)
		}
	}
	if best >= len(values) {
		return "", false // the store moved on since the document was indexed
	}
	text := values[best]
	spans := byValue[best]
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
	at := from
	for _, sp := range spans {
		if sp.start < at || sp.end > to || sp.start > sp.end {
			continue // overlapping, or outside the fragment
		}
		b.WriteString(html.EscapeString(text[at:sp.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[sp.start:sp.end]))
		b.WriteString("</mark>")
		at = sp.end
	}
	b.WriteString(html.EscapeString(text[at:to]))
	if to < len(text) {
		b.WriteString("…")
	}
	return b.String(), text != ""
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
// its cost is bounded by limit, not by how many datasets match. Removed
// datasets are never suggested; their column names may be, with their
// counts, until bleve merges the index segment that held them (a term
// dictionary forgets deleted documents only then).
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
	terms, err := dictPrefix(idx, fNameStarts, prefix, 10*limit)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(terms, func(a, b dictTerm) int { return len(a.term) - len(b.term) })
	var alts []query.Query
	for _, t := range terms[:min(len(terms), limit)] {
		alts = append(alts, termQuery(fNameStarts, t.term))
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
	cols, err := dictPrefix(idx, fColumnSuggest, prefix, limit-len(out))
	if err != nil {
		return nil, err
	}
	for _, c := range cols {
		out = append(out, Suggestion{Text: c.term, Kind: "COLUMN", Count: c.count})
	}
	return out, nil
}

type dictTerm struct {
	term  string
	count int
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
		out = append(out, dictTerm{e.Term, int(e.Count)})
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
		b.AddShould(x.textQuery(idx.Mapping(), text, nil), sql)
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

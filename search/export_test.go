package search

import (
	"context"
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/quarrydata/quarry"
)

// SetMappingVersionForTest makes the closed index in dir look built by
// another mapping version.
func SetMappingVersionForTest(dir, v string) error {
	idx, err := bleve.Open(dir)
	if err != nil {
		return err
	}
	defer idx.Close()
	return idx.SetInternal(keyVersion, []byte(v))
}

// SetRebuildBatchForTest sets how many changelog records a rebuild
// indexes at once.
func (x *Index) SetRebuildBatchForTest(n int) { x.rebuildBatch = n }

// CountFacetsByBitmapsForTest makes searches count facet values through
// the values' bitmaps always (true) or never (false), not by cost.
func (x *Index) CountFacetsByBitmapsForTest(always bool) {
	x.facets.bits = bitsNever
	if always {
		x.facets.bits = bitsAlways
	}
}

// SegmentsForTest is the number of segments of the serving index.
func (x *Index) SegmentsForTest() int {
	idx, err := x.current()
	if err != nil {
		return 0
	}
	defer x.mu.RUnlock()
	s := scorchOf(idx)
	if s == nil {
		return 0
	}
	return segmentCount(s)
}

// StoreShownForTest makes the indexes Open creates store the values of
// the fields a hit shows, for bleve's highlighter
// (MatchesInOneSearchForTest).
func StoreShownForTest(o *Options) *Options {
	o.storeShown = true
	return o
}

// MappingVersion is the mapping version of the serving index.
func (x *Index) MappingVersion() string {
	idx, err := x.current()
	if err != nil {
		return ""
	}
	defer x.mu.RUnlock()
	v, _ := idx.GetInternal(keyVersion)
	return string(v)
}

// BleveFacetsForTest counts the facets of q's hits with bleve's facet
// builder, which visits each hit's doc values: what Search's must equal.
func (x *Index) BleveFacetsForTest(ctx context.Context, q Query) ([]Facet, error) {
	idx, err := x.current()
	if err != nil {
		return nil, err
	}
	defer x.mu.RUnlock()
	req, _, _, err := x.newRequest(idx.Mapping(), q, modeAll)
	if err != nil {
		return nil, err
	}
	req.Size, req.From, req.Highlight = 0, 0, nil
	for _, f := range facetFields {
		req.AddFacet(f, bleve.NewFacetRequest(f, facetBucketSize))
	}
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []Facet
	for _, f := range facetFields {
		facet := Facet{Field: f}
		for _, t := range res.Facets[f].Terms.Terms() {
			if t.Term == "" { // an empty field: no value
				continue
			}
			facet.Buckets = append(facet.Buckets, Bucket{Value: t.Term, Count: t.Count})
		}
		out = append(out, facet)
	}
	return out, nil
}

// MatchesInOneSearchForTest returns the matches of q's hits as bleve
// highlights them within the search itself: what Search's must equal.
func (x *Index) MatchesInOneSearchForTest(ctx context.Context, q Query) (map[string][]Match, error) {
	idx, err := x.current()
	if err != nil {
		return nil, err
	}
	defer x.mu.RUnlock()
	req, _, _, err := x.newRequest(idx.Mapping(), q, modeAll)
	if err != nil {
		return nil, err
	}
	req.Highlight = bleve.NewHighlightWithStyle("html")
	req.Highlight.Fields = highlightFields
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	out := map[string][]Match{}
	for _, h := range res.Hits {
		out[h.ID] = bleveMatches(h)
	}
	return out, nil
}

// bleveMatches is matches from bleve's highlighter: its fragments.
func bleveMatches(h *bsearch.DocumentMatch) []Match {
	names := map[string]string{
		fName: "name", fPath: "qualifiedName", fColumns: "column", fDesc: "description",
		fColumnDesc: "columnDescription", fTagsText: "tag",
	}
	var out []Match
	for _, f := range []string{fName, fPath, fColumns, fTagsText, fDesc, fColumnDesc} {
		for _, frag := range h.Fragments[f] {
			out = append(out, Match{Field: names[f], Text: frag})
		}
	}
	if len(out) > 1 && out[0].Field == "name" && out[1].Field == "qualifiedName" {
		out = slices.Delete(out, 1, 2)
	}
	return out
}

// FuzzyHitsForTest searches field for terms within fuzz edits of word,
// with the package's fuzzy query (got) and bleve's (want): hits and
// scores must be equal.
func (x *Index) FuzzyHitsForTest(ctx context.Context, word, field string, fuzz int) (got, want map[string]float64, err error) {
	idx, err := x.current()
	if err != nil {
		return nil, nil, err
	}
	defer x.mu.RUnlock()
	hits := func(q query.Query) (map[string]float64, error) {
		req := bleve.NewSearchRequestOptions(q, 10_000, 0, false)
		res, err := idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, err
		}
		out := map[string]float64{}
		for _, h := range res.Hits {
			out[h.ID] = h.Score
		}
		return out, nil
	}
	bq := bleve.NewFuzzyQuery(word)
	bq.SetField(field)
	bq.SetFuzziness(fuzz)
	bq.SetPrefix(1)
	bq.SetBoost(boostFuzzy)
	if want, err = hits(bq); err != nil {
		return nil, nil, err
	}
	got, err = hits(&fuzzyQuery{automata: x.automata, term: word, field: field, fuzz: fuzz, prefix: 1, boost: boostFuzzy})
	return got, want, err
}

// Field names for tests.
const (
	FieldNameForTest      = fName
	FieldNamePartsForTest = fNameParts
)

// BleveOrderForTest returns the IDs of a page of q's hits as bleve sorts
// them (an empty query: by its doc values): what Search's must equal.
func (x *Index) BleveOrderForTest(ctx context.Context, q Query) ([]string, error) {
	idx, err := x.current()
	if err != nil {
		return nil, err
	}
	defer x.mu.RUnlock()
	req, first, _, err := x.newRequest(idx.Mapping(), q, modeAll)
	if err != nil {
		return nil, err
	}
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, h := range res.Hits {
		if i < first {
			out = append(out, h.ID)
		}
	}
	return out, nil
}

// SearchFilteredForTest is Search with every filter searched one way:
// "columns" (the text's hits checked against the facet columns) or
// "conjunction" (bleve's conjunction of the text and the filter).
func (x *Index) SearchFilteredForTest(ctx context.Context, q Query, way string) (*Results, error) {
	x.setFilterPath(way)
	defer x.setFilterPath("")
	return x.Search(ctx, q)
}

func (x *Index) setFilterPath(way string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.filterPath = way
}

// SetWriteForTest has f called before each write into a bleve index; f may
// fail or panic, as bleve does on a full disk.
func (x *Index) SetWriteForTest(f func() error) { x.testWrite = f }

// SetBesideForTest has f called as each count beside a search's page
// begins (pageBeside); f may panic.
func (x *Index) SetBesideForTest(f func()) { x.testBeside = f }

// SkewedDatasetForTest is dataset i of the scale benchmark's skewed
// catalog (BenchmarkIndexSkewed's).
func SkewedDatasetForTest(i int) *quarry.Dataset { return skewedForTest().dataset(i) }

var skewedForTest = sync.OnceValue(newSkewedWords)

// FacetSegmentsForTest is the number of segments whose facet columns are
// built.
func (x *Index) FacetSegmentsForTest() int {
	x.mu.RLock()
	cols := x.facets
	x.mu.RUnlock()
	cols.mu.Lock()
	defer cols.mu.Unlock()
	return len(cols.segs)
}

// SetHotPostingsForTest makes the index read the terms with at least min
// postings decoded (hot.go), keeping up to budget bytes of them; min < 0:
// none.
func (x *Index) SetHotPostingsForTest(min, budget int) {
	x.facets.hot = nil
	if min >= 0 {
		x.facets.hot = newHotPostings(budget)
		x.facets.hot.min = uint64(min)
	}
}

// WarmForTest does what Run does each second to warm the index: facet
// columns, and the postings decoded when it last closed.
func (x *Index) WarmForTest() { x.warm() }

// HotTermsForTest is how many terms' postings the index keeps decoded.
func (x *Index) HotTermsForTest() int { return len(x.facets.hot.terms()) }

// ReleaseMappedForTest drops the serving index's segment maps from the
// resident set, as Run does every releaseInterval.
func (x *Index) ReleaseMappedForTest() { x.releaseMapped() }

// SetMergeFloorForTest sets the size, in documents, of the merge plans'
// smallest tier for the indexes opened until the test ends.
func SetMergeFloorForTest(t interface{ Cleanup(func()) }, n int64) {
	old := mergeFloor.Swap(n)
	t.Cleanup(func() { mergeFloor.Store(old) })
}

// MergeBudgetsForTest are the most segments the merge plans leave an
// index of n documents: bleve's own (bulkPlan), compact's while writes
// come and the follower keeps up (writePlan), and once they pause.
func MergeBudgetsForTest(n int64) (bulk, writing, compacted int) {
	b, w, c := bulkPlan(), writePlan(), compactPlan()
	return mergeplan.CalcBudget(n, b.FloorSegmentSize, b), mergeplan.CalcBudget(n, w.FloorSegmentSize, w), mergeplan.CalcBudget(n, c.FloorSegmentSize, c)
}

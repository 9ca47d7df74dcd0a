package search

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/quarrydata/quarry"
)

// A conjunction of unscored clauses searched through the intersection of
// their bitmaps finds, by Next and by Advance, the documents bleve's
// conjunction of their searchers finds, over segments with deletions.
func TestBitsConjunctionFindsWhatBlevesDoes(t *testing.T) {
	idx, r := fourSegmentsRead(t)
	ctx := context.Background()
	m := idx.Mapping()
	for _, words := range [][]string{{"customer", "orders"}, {"revenue", "region"}, {"customer", "id"}, {"nosuchword", "customer"}} {
		conj := newSparseConjunction()
		for _, w := range words {
			term := string(m.AnalyzerNamed(analyzerIdentStem).Analyze([]byte(w))[0].Term)
			conj.conjuncts = append(conj.conjuncts, unscored{termQuery(fWords, term)})
		}
		o := search.SearcherOptions{}
		fresh := func(bits bool) search.Searcher {
			if bits {
				s, err := conj.Searcher(ctx, r, m, o)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			var ss []search.Searcher
			for _, c := range conj.conjuncts {
				s, err := c.Searcher(ctx, r, m, o)
				if err != nil {
					t.Fatal(err)
				}
				ss = append(ss, s)
			}
			s, err := searcher.NewConjunctionSearcher(ctx, r, ss, composite(o))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		walk := func(s search.Searcher, targets []uint64) []uint64 {
			sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
			var out []uint64
			var d *search.DocumentMatch
			var err error
			for i := 0; ; i++ {
				// As searchers are advanced: past the document they are on.
				if i < len(targets) && (len(out) == 0 || targets[i] > out[len(out)-1]) {
					d, err = s.Advance(sctx, index.NewIndexInternalID(nil, targets[i]))
				} else {
					d, err = s.Next(sctx)
				}
				if err != nil {
					t.Fatal(err)
				}
				if d == nil {
					return out
				}
				out = append(out, d.IndexInternalID.Value())
				sctx.DocumentMatchPool.Put(d)
			}
		}
		bits := fresh(true)
		if _, ok := bits.(*bitsSearcher); !ok && words[0] != "nosuchword" {
			t.Fatalf("%v: searched by a %T, not by bitmaps", words, bits)
		}
		want, got := walk(fresh(false), nil), walk(bits, nil)
		if !slices.Equal(got, want) || len(want) == 0 && words[0] != "nosuchword" {
			t.Fatalf("%v by Next: %d documents, want %d", words, len(got), len(want))
		}
		rnd := rand.New(rand.NewPCG(1, uint64(len(want))))
		var targets []uint64
		for at := uint64(0); at < 2800 && len(targets) < 200; at += uint64(rnd.IntN(40)) {
			targets = append(targets, at)
		}
		if want, got := walk(fresh(false), targets), walk(fresh(true), targets); !slices.Equal(got, want) {
			t.Fatalf("%v by Advance: %v\nwant %v", words, got, want)
		}
		// Advanced to the document it is on, or one before it, a
		// searcher returns the first at or after it again (as a sample
		// asks of a word: does it have this document?).
		if len(want) > 2 {
			s := fresh(true)
			sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
			for _, at := range []uint64{want[1], want[1], want[0], want[2] + 1} {
				d, err := s.Advance(sctx, index.NewIndexInternalID(nil, at))
				if err != nil {
					t.Fatal(err)
				}
				i, _ := slices.BinarySearch(want, at)
				if d == nil || i == len(want) || d.IndexInternalID.Value() != want[i] {
					t.Fatalf("%v: Advance to %d, not past the last returned: got %v, want %d", words, at, d, want[min(i, len(want)-1)])
				}
			}
		}
	}
}

// fourSegments is an index of 2,800 skewed datasets in four segments (a
// batch each), every seventh dataset of the earlier ones deleted by the
// later batches.
// fourSegmentsRead is fourSegments and a reader of it, both closed when
// the test ends.
func fourSegmentsRead(t *testing.T) (bleve.Index, index.IndexReader) {
	idx := fourSegments(t)
	r, err := reader(idx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Close()
		idx.Close()
	})
	return idx, r
}

func fourSegments(t *testing.T) bleve.Index {
	t.Helper()
	// Four segments, as the tests read them: with the serving index's
	// plan the first three were at times merged in the background before
	// the reader was taken (noMerge).
	idx, err := create(t.TempDir(), false, noMerge)
	if err != nil {
		t.Fatal(err)
	}
	cat := newSkewedWords()
	for round := range 4 { // a segment a round
		b := idx.NewBatch()
		for i := range 700 {
			n := round*700 + i
			if err := addDoc(b, idx.Mapping(), fmt.Sprintf("d%05d", n), newDatasetDoc(cat.dataset(n), quarry.DatasetStatus{})); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < round*700; i += 7 { // deleted from earlier segments
			b.Delete(fmt.Sprintf("d%05d", i))
		}
		if err := idx.Batch(b); err != nil {
			t.Fatal(err)
		}
	}
	if n := segmentCount(scorchOf(idx)); n != 4 {
		t.Fatalf("%d segments, want 4", n)
	}
	return idx
}

// noMerge is a scorch config whose merge plan leaves a few small segments
// as they are: up to 100 a tier, each counted at its own size.
var noMerge = map[string]any{"scorchMergePlanOptions": map[string]any{
	"MaxSegmentsPerTier": 100, "SegmentsPerMergeTask": 100, "FloorSegmentSize": 1,
}}

// A phrase too common to check (phraseSkipped) is not searched, but it
// weighs what bleve's phrase searcher of it weighs: the query's norm,
// which every score is multiplied by, sums the weights of all clauses.
func TestSkippedPhraseWeighsAsBlevesPhrase(t *testing.T) {
	ctx := context.Background()
	idx, r := fourSegmentsRead(t)
	// The two words in most descriptions: side by side in 2,800
	// documents' worth of them, too many to check.
	dict, err := r.FieldDict(fDesc)
	if err != nil {
		t.Fatal(err)
	}
	var top []*index.DictEntry
	for e, err := dict.Next(); e != nil || err != nil; e, err = dict.Next() {
		if err != nil {
			t.Fatal(err)
		}
		top = append(top, &index.DictEntry{Term: e.Term, Count: e.Count})
	}
	dict.Close()
	slices.SortFunc(top, func(a, b *index.DictEntry) int { return cmp.Compare(b.Count, a.Count) })
	if len(top) < 2 {
		t.Fatalf("descriptions hold %d terms", len(top))
	}
	w1, w2 := top[0].Term, top[1].Term
	for _, terms := range [][][]string{{{w1}, {w2}}, {{w1}, nil, {w2}}} {
		q := query.NewMultiPhraseQuery(terms, fDesc)
		q.SetBoost(2.5)
		pq := phraseUnlessCommon{Query: q, field: fDesc, terms: []string{w1, w2}}
		if skip, err := phraseSkipped(ctx, r, fDesc, pq.terms); err != nil || !skip {
			t.Fatalf("%v: skipped %v, %v; want skipped (%d and %d documents)", terms, skip, err, top[0].Count, top[1].Count)
		}
		got, err := pq.Searcher(ctx, r, idx.Mapping(), bsearch.SearcherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got.(*emptySearcher); !ok {
			t.Fatalf("%v: searcher %T, want none", terms, got)
		}
		want, err := q.Searcher(ctx, r, idx.Mapping(), bsearch.SearcherOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Weight() != want.Weight() || want.Weight() == 0 {
			t.Errorf("%v: weight %v, bleve's phrase %v", terms, got.Weight(), want.Weight())
		}
		got.Close()
		want.Close()
	}
}

// The lazy disjunction finds, by Next and by Advance (forward, to where
// it is, and back), the documents bleve's disjunction of the same clauses
// finds, with the same scores to the bit and the same term locations,
// over segments with deletions.
func TestLazyDisjunctionFindsAsBlevesDoes(t *testing.T) {
	idx, r := fourSegmentsRead(t)
	ctx := context.Background()
	m := idx.Mapping()
	fields := []string{fName, fNameParts, fColumns, fDesc, fColumnDesc, fWords}
	for _, words := range [][]string{{"customer", "orders"}, {"revenue", "region"}, {"payment", "refund", "amount"}, {"id"}} {
		var clauses []query.Query
		for _, f := range fields {
			for _, w := range words {
				for _, tok := range m.AnalyzerNamed(m.AnalyzerNameForPath(f)).Analyze([]byte(w)) {
					q := termQuery(f, string(tok.Term))
					q.SetBoost(1 + float64(len(clauses)%3))
					clauses = append(clauses, q)
				}
			}
		}
		for _, o := range []search.SearcherOptions{{}, {IncludeTermVectors: true}, {Explain: true}} {
			fresh := func(lazy bool) search.Searcher {
				var kids []search.Searcher
				for _, c := range clauses {
					s, err := c.Searcher(ctx, r, m, o)
					if err != nil {
						t.Fatal(err)
					}
					if s.Count() == 0 || len(kids) == searcher.DisjunctionHeapTakeover {
						s.Close()
						continue
					}
					kids = append(kids, s)
				}
				// A clause that is a disjunction of its own (moved on at
				// once): the first two, as one.
				if len(kids) > 3 {
					d, err := searcher.NewDisjunctionSearcher(ctx, r, kids[:2], 0, o)
					if err != nil {
						t.Fatal(err)
					}
					kids = append([]search.Searcher{d}, kids[2:]...)
				}
				var s search.Searcher
				var err error
				if lazy {
					s, err = newLazyDisjunction(ctx, r, kids, o)
					if _, ok := s.(*lazyDisjunction); !ok {
						t.Fatalf("%v: a %T, not lazy", words, s)
					}
				} else {
					s, err = searcher.NewDisjunctionSearcher(ctx, r, kids, 0, o)
				}
				if err != nil {
					t.Fatal(err)
				}
				s.SetQueryNorm(0.37)
				return s
			}
			walk := func(s search.Searcher, targets []uint64) []string {
				sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
				var out []string
				for i := 0; ; i++ {
					var d *search.DocumentMatch
					var err error
					if i < len(targets) {
						d, err = s.Advance(sctx, index.NewIndexInternalID(nil, targets[i]))
					} else {
						d, err = s.Next(sctx)
					}
					if err != nil {
						t.Fatal(err)
					}
					if d == nil {
						if i < len(targets) {
							continue
						}
						return out
					}
					locs := 0
					for _, l := range d.FieldTermLocations {
						locs += int(l.Location.Pos)
					}
					out = append(out, fmt.Sprintf("%d %b %d %v", d.IndexInternalID.Value(), d.Score, locs, d.Expl != nil))
					sctx.DocumentMatchPool.Put(d)
				}
			}
			want := walk(fresh(false), nil)
			if got := walk(fresh(true), nil); !slices.Equal(got, want) || len(want) == 0 {
				t.Fatalf("%v %+v by Next: %d documents, want %d (first differing: %v)", words, o, len(got), len(want), firstDiff(got, want))
			}
			// Forward in steps, to a document it returned, and back.
			rnd := rand.New(rand.NewPCG(7, uint64(len(want))))
			var targets []uint64
			for at := uint64(0); at < 2800 && len(targets) < 300; at += uint64(rnd.IntN(30)) {
				targets = append(targets, at)
				if rnd.IntN(8) == 0 && at > 50 {
					targets = append(targets, at, at-uint64(rnd.IntN(50)))
				}
			}
			if got, want := walk(fresh(true), targets), walk(fresh(false), targets); !slices.Equal(got, want) {
				t.Fatalf("%v %+v by Advance: first differing %v", words, o, firstDiff(got, want))
			}
		}
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d: %q, want %q", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}

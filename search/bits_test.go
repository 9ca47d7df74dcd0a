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
	idx := fourSegments(t)
	defer idx.Close()
	ctx := context.Background()
	r, err := reader(idx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
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
func fourSegments(t *testing.T) bleve.Index {
	t.Helper()
	idx, err := create(t.TempDir(), false)
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
	return idx
}

// A phrase too common to check (phraseSkipped) is not searched, but it
// weighs what bleve's phrase searcher of it weighs: the query's norm,
// which every score is multiplied by, sums the weights of all clauses.
func TestSkippedPhraseWeighsAsBlevesPhrase(t *testing.T) {
	ctx := context.Background()
	idx := fourSegments(t)
	r, err := reader(idx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
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

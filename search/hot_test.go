package search

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
)

// A term's decoded postings read, by Next and by Advance (within a
// segment and into later ones), as zap's: the same documents, deleted ones left
// out, with the same frequencies and norms.
func TestHotReaderReadsAsZap(t *testing.T) {
	idx := fourSegments(t)
	defer idx.Close()
	r, err := reader(idx)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	snap := r.(*scorch.IndexSnapshot)
	if len(snap.Segments()) < 2 {
		t.Fatalf("%d segments: the test needs several", len(snap.Segments()))
	}
	ctx := context.Background()
	hot := newHotPostings(1 << 30)
	hot.min = 1
	m := idx.Mapping()
	for _, w := range []struct{ field, word string }{{fColumns, "customer"}, {fColumns, "id"}, {fNameParts, "revenue"}, {fDesc, "order"}, {fNames, "nosuchword"}} {
		term := []byte(m.AnalyzerNamed(m.AnalyzerNameForPath(w.field)).Analyze([]byte(w.word))[0].Term)
		open := func(decoded bool) index.TermFieldReader {
			var ir index.IndexReader = snap
			if decoded {
				ir = hotSnapshot{snap, hot}
			}
			tr, err := ir.TermFieldReader(ctx, term, w.field, true, true, false)
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}
		if _, ok := open(true).(*hotReader); !ok && w.word != "nosuchword" {
			t.Fatalf("%s:%s not read decoded", w.field, term)
		}
		type posting struct {
			n    uint64
			freq uint64
			norm float64
		}
		rnd := rand.New(rand.NewPCG(7, uint64(len(term))))
		var targets []uint64
		for at := uint64(0); at < 2900; at += uint64(rnd.IntN(60)) {
			targets = append(targets, at)
		}
		// As searchers advance: to a document past the one they are on,
		// or on to the next.
		walk := func(tr index.TermFieldReader, advance bool) []posting {
			var out []posting
			for i := 0; ; i++ {
				var d *index.TermFieldDoc
				var err error
				if advance && i < len(targets) && (len(out) == 0 || targets[i] > out[len(out)-1].n) {
					d, err = tr.Advance(index.NewIndexInternalID(nil, targets[i]), nil)
				} else {
					d, err = tr.Next(nil)
				}
				if err != nil {
					t.Fatal(err)
				}
				if d == nil {
					return out
				}
				out = append(out, posting{d.ID.Value(), d.Freq, d.Norm})
			}
		}
		for _, advance := range []bool{false, true} {
			want, got := walk(open(false), advance), walk(open(true), advance)
			if len(want) == 0 && w.word != "nosuchword" {
				t.Fatalf("%s:%s has no postings", w.field, term)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Logf("first difference at %d (target %v): got %v want %v", i, targets[min(i, len(targets)-1)], got[i], want[i])
						break
					}
				}
				t.Fatalf("%s:%s, advance %v: %d postings\n got %v\nwant %v", w.field, term, advance, len(got), got[:min(len(got), 8)], want[:min(len(want), 8)])
			}
		}
		if a, b := open(false).Count(), open(true).Count(); a != b {
			t.Fatalf("%s:%s: count %d, want %d", w.field, term, b, a)
		}
	}
	if hot.bytes == 0 {
		t.Fatal("nothing decoded")
	}
}

// Decoded postings take at most an eighth of the soft memory limit, and
// 256 MB when it is larger or unset.
func TestHotBudgetUnderTheMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		limit int64
		want  int
	}{{math.MaxInt64, 256 << 20}, {4 << 30, 256 << 20}, {1 << 30, 128 << 20}, {256 << 20, 32 << 20}} {
		if got := hotBudgetFor(c.limit); got != c.want {
			t.Errorf("limit %d: budget %d, want %d", c.limit, got, c.want)
		}
	}
}

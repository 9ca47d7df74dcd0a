package search_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	"github.com/blevesearch/bleve/v2/index/scorch"
	index "github.com/blevesearch/bleve_index_api"
)

// zap's postings iterator, as patched in third_party/zapx, jumps to an
// Advance's target instead of walking every posting before it: what it
// finds there (the document, its frequency, norm and term locations) is
// what walking finds, whether or not the segment has deleted documents.
func TestPostingsAdvanceFindsWhatNextFinds(t *testing.T) {
	ctx := context.Background()
	idx, err := bleve.NewUsing(t.TempDir(), bleve.NewIndexMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	words := strings.Fields("alpha beta gamma delta epsilon")
	r := rand.New(rand.NewPCG(1, 2))
	index1 := func(from, to int) {
		b := idx.NewBatch()
		for i := from; i < to; i++ {
			var text []string
			for range 1 + r.IntN(6) {
				text = append(text, words[min(r.IntN(len(words)), r.IntN(len(words)))])
			}
			if err := b.Index(fmt.Sprint(i), map[string]any{"f": strings.Join(text, " ")}); err != nil {
				t.Fatal(err)
			}
		}
		if err := idx.Batch(b); err != nil {
			t.Fatal(err)
		}
	}
	index1(0, 12000)
	check := func(stage string) {
		adv, err := idx.Advanced()
		if err != nil {
			t.Fatal(err)
		}
		reader, err := adv.Reader()
		if err != nil {
			t.Fatal(err)
		}
		defer reader.Close()
		for _, w := range words {
			walk, err := reader.TermFieldReader(ctx, []byte(w), "f", true, true, true)
			if err != nil {
				t.Fatal(err)
			}
			var all []posting
			for d, err := walk.Next(nil); d != nil || err != nil; d, err = walk.Next(nil) {
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, postingOf(d))
			}
			walk.Close()
			if len(all) < 1000 {
				t.Fatalf("%s: %q in %d documents: too few to skip chunks", stage, w, len(all))
			}
			// Jumps of every size, with steps of Next between them, by a
			// reader that decodes all (the scored clause's) and one that
			// decodes nothing (the unscored's: documents alone).
			for _, decode := range []bool{true, false} {
				checkJumps(t, stage, w, all, r, decode, func() (index.TermFieldReader, error) {
					return reader.TermFieldReader(ctx, []byte(w), "f", decode, decode, decode)
				})
			}
		}
	}
	check("clean")
	// Deleted documents: the segments' postings are no longer their live
	// ones (zap's other way through Advance).
	b := idx.NewBatch()
	for i := 0; i < 12000; i += 3 {
		b.Delete(fmt.Sprint(i))
	}
	if err := idx.Batch(b); err != nil {
		t.Fatal(err)
	}
	check("with deletions")
}

// posting is what a term field reader says of a document.
type posting struct {
	id   uint64
	freq uint64
	norm float64
	locs string
}

// postingOf is d as compared.
func postingOf(d *index.TermFieldDoc) posting {
	var locs []string
	for _, v := range d.Vectors {
		locs = append(locs, fmt.Sprint(v.Pos, v.Start, v.End))
	}
	return posting{d.ID.Value(), d.Freq, d.Norm, strings.Join(locs, ",")}
}

// checkJumps advances a new reader of open over all (a walk's postings)
// by jumps of every size and steps of Next, and fails where it finds
// other than the walk did (decode false: documents alone).
func checkJumps(t *testing.T, stage, w string, all []posting, r *rand.Rand, decode bool, open func() (index.TermFieldReader, error)) {
	t.Helper()
	jump, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer jump.Close()
	at := 0 // all[at] is the next posting jump should find
	for target := uint64(0); at < len(all); {
		var d *index.TermFieldDoc
		if r.IntN(3) == 0 {
			d, err = jump.Next(nil)
		} else {
			d, err = jump.Advance(index.NewIndexInternalID(nil, target), nil)
			for at < len(all) && all[at].id < target {
				at++
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if at == len(all) {
			if d != nil {
				t.Fatalf("%s: %q: found %d past the last posting", stage, w, d.ID.Value())
			}
			return
		}
		want := all[at]
		if !decode {
			want = posting{id: want.id}
		}
		if d == nil || postingOf(d) != want {
			t.Fatalf("%s: %q at %d (decoding %v): found %+v, want %+v", stage, w, target, decode, d, want)
		}
		at++
		target = all[at-1].id + 1 + uint64(r.ExpFloat64()*float64([]int{1, 30, 3000}[r.IntN(3)]))
	}
}

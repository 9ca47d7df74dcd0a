package search

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	lev "github.com/blevesearch/vellum/levenshtein"
)

// TestCompactDFA checks that a compacted automaton accepts what vellum's
// does, with the same edit distances, walking both byte by byte over
// edits of the word and random text.
func TestCompactDFA(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	letters := []rune("abcdefghijklmnopqrstuvwxyz_0éüß日本")
	edit := func(w []rune) []rune {
		w = append([]rune(nil), w...)
		for range 1 + r.IntN(3) {
			i := r.IntN(len(w) + 1)
			switch r.IntN(4) {
			case 0: // insert
				w = append(w[:i], append([]rune{letters[r.IntN(len(letters))]}, w[i:]...)...)
			case 1: // delete
				if i < len(w) {
					w = append(w[:i], w[i+1:]...)
				}
			case 2: // substitute
				if i < len(w) {
					w[i] = letters[r.IntN(len(letters))]
				}
			case 3: // transpose
				if i+1 < len(w) {
					w[i], w[i+1] = w[i+1], w[i]
				}
			}
		}
		return w
	}
	cache := newAutomatonCache(1 << 20)
	for _, word := range []string{"revenue", "custmer", "warehouse", "subscription", "café", "straße", "日本語テキスト", "ab"} {
		for fuzz := 1; fuzz <= 2; fuzz++ {
			b, err := lev.NewLevenshteinAutomatonBuilder(uint8(fuzz), true)
			if err != nil {
				t.Fatal(err)
			}
			want, err := b.BuildDfa(word, uint8(fuzz))
			if err != nil {
				t.Fatal(err)
			}
			got, err := cache.get(word, fuzz)
			if err != nil {
				t.Fatal(err)
			}
			matched := 0
			for n := range 3000 {
				var in string
				if n%4 == 3 {
					in = string(edit([]rune("xq" + word)))
				} else {
					in = string(edit([]rune(word)))
				}
				if n%50 == 0 && len(in) > 0 { // invalid UTF-8 too
					in = in[:len(in)-1] + "\xff"
				}
				gm, gd := got.MatchAndDistance(in)
				wm, wd := want.MatchAndDistance(in)
				if gm != wm || gd != wd {
					t.Fatalf("%q~%d on %q (valid %v): got %v %d, want %v %d", word, fuzz, in, utf8.ValidString(in), gm, gd, wm, wd)
				}
				if gm {
					matched++
				}
				// State by state, as a dictionary iterator walks them.
				gs, ws := got.Start(), want.Start()
				for i := 0; i < len(in); i++ {
					if got.CanMatch(gs) != want.CanMatch(ws) || got.IsMatch(gs) != want.IsMatch(ws) {
						t.Fatalf("%q~%d on %q at %d: states differ", word, fuzz, in, i)
					}
					if !got.CanMatch(gs) {
						break
					}
					gs, ws = got.Accept(gs, in[i]), want.Accept(ws, in[i])
				}
			}
			if matched < 100 {
				t.Errorf("%q~%d: only %d of the edits matched; the test tests little", word, fuzz, matched)
			}
		}
	}
}

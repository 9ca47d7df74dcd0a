package search

import (
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	index "github.com/blevesearch/bleve_index_api"
)

// A query that finds little gets a "did you mean": the query with each
// word that no name, column or tag has replaced by the nearest one that
// some has (within the edit distance a fuzzy search allows), the most
// frequent of the nearest. Names, columns and tags, not descriptions:
// their words are indexed as written, where descriptions' are stems
// ("revenu"), which would be no word to offer.

// fewHits is at most how many hits a query may find for a suggestion.
const fewHits = 3

// suggestFields are the fields whose words a suggestion offers.
var suggestFields = []string{fNameParts, fColumns, fTagsText}

// suggest returns the corrected query, or "" when no word needs a
// correction or none was found.
func (x *Index) suggest(idx bleve.Index, text string) string {
	adv, err := idx.Advanced()
	if err != nil {
		return ""
	}
	r, err := adv.Reader()
	if err != nil {
		return ""
	}
	defer r.Close()
	fr, ok := r.(index.IndexReaderFuzzy)
	if !ok {
		return ""
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c)
	})
	changed := false
	for i, w := range words {
		n := len([]rune(w))
		if n < 4 || n > maxFuzzyWord || x.known(r, w) {
			continue
		}
		fuzz := 1
		if n >= 8 {
			fuzz = 2
		}
		best, bestDist, bestCount := "", fuzz+1, 0
		for _, f := range suggestFields {
			dict, err := fr.FieldDictFuzzy(f, w, fuzz, string([]rune(w)[:1]))
			if err != nil {
				continue
			}
			for {
				e, err := dict.Next()
				if err != nil || e == nil {
					break
				}
				d := distance(w, e.Term)
				if d < bestDist || d == bestDist && int(e.Count) > bestCount {
					best, bestDist, bestCount = e.Term, d, int(e.Count)
				}
			}
			dict.Close()
		}
		if best != "" {
			words[i], changed = best, true
		}
	}
	if !changed {
		return ""
	}
	return strings.Join(words, " ")
}

// known reports whether a name, column or tag has the word as written.
func (x *Index) known(r index.IndexReader, w string) bool {
	for _, f := range suggestFields {
		if termIndexed(r, f, []byte(w)) {
			return true
		}
	}
	return false
}

// distance is the Levenshtein distance between two words, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

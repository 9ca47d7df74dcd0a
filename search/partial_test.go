package search

import (
	"slices"
	"testing"
)

func TestPartialTiers(t *testing.T) {
	for words, want := range map[int][]int{0: nil, 1: nil, 2: {1}, 3: {2, 1}, 4: {3, 2, 1}, 5: {4, 3, 2, 1}, 9: {8, 7, 6, 1}} {
		if got := partialTiers(words); !slices.Equal(got, want) {
			t.Errorf("partialTiers(%d) = %v, want %v", words, got, want)
		}
	}
}

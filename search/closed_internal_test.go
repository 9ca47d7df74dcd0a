package search

import "testing"

// TestAClosedIndexHasNoSegments: Run's compact may count the segments of
// an index as it closes, whose scorch reader is then a nil snapshot.
func TestAClosedIndexHasNoSegments(t *testing.T) {
	idx, err := create(t.TempDir(), false, scorchConfig())
	if err != nil {
		t.Fatal(err)
	}
	s := scorchOf(idx)
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	if n := segmentCount(s); n != 0 {
		t.Errorf("a closed index has %d segments", n)
	}
	if err := mergeBy(t.Context(), s, compactPlan()); err != nil {
		t.Errorf("merging a closed index: %v", err)
	}
}

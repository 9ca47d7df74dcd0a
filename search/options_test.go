package search_test

import (
	"path/filepath"
	"testing"

	"github.com/blevesearch/bleve/v2/search/searcher"

	"github.com/quarrydata/quarry/search"
)

// TestDisjunctionHeapTakeover: Open sets bleve's process-wide setting, to
// 32 unless told otherwise (importing the package leaves it alone).
func TestDisjunctionHeapTakeover(t *testing.T) {
	c := newCatalog(t)
	open := func(o *search.Options) {
		t.Helper()
		x, err := search.Open(t.Context(), filepath.Join(t.TempDir(), "index"), c.st, o)
		if err != nil {
			t.Fatal(err)
		}
		x.Close()
	}
	open(&search.Options{Logger: quiet, DisjunctionHeapTakeover: 20})
	if got := searcher.DisjunctionHeapTakeover; got != 20 {
		t.Errorf("with the option 20: %d", got)
	}
	open(nil)
	if got := searcher.DisjunctionHeapTakeover; got != 32 {
		t.Errorf("by default: %d, want 32", got)
	}
}

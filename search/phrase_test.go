package search_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// Words side by side in a description score more than the same words
// apart, unless checking the phrase would mean checking thousands of
// documents' positions (words in most descriptions of a large catalog):
// then the phrase scores nothing, as a common word does.
func TestPhraseSkippedWhereTooCommonToCheck(t *testing.T) {
	for _, c := range []struct {
		fillers int
		skipped bool
	}{{20, false}, {6000, true}} {
		ctx := context.Background()
		st := storetest.MustOpen(t, &store.Options{NoSync: true})
		ds := []quarry.Dataset{
			{Namespace: "pg://x", Name: "s.near", Kind: quarry.KindTable, Provided: quarry.Metadata{Description: "zinc alder ok"}},
			{Namespace: "pg://x", Name: "s.apart", Kind: quarry.KindTable, Provided: quarry.Metadata{Description: "alder ok zinc"}},
		}
		for i := range c.fillers {
			ds = append(ds, quarry.Dataset{Namespace: "pg://db", Name: fmt.Sprintf("s.f%d", i), Kind: quarry.KindTable, Provided: quarry.Metadata{Description: "zinc and alder"}})
		}
		for len(ds) > 0 {
			n := min(len(ds), 1000)
			if _, err := st.UpsertDatasets(ctx, ds[:n]); err != nil {
				t.Fatal(err)
			}
			ds = ds[n:]
		}
		idx := openCaughtUp(t, st)
		res, err := idx.Search(ctx, search.Query{Text: "zinc alder", First: 10, Filter: search.Filter{Namespaces: []string{"pg://x"}}})
		if err != nil {
			t.Fatal(err)
		}
		score := map[string]float64{}
		for _, h := range res.Hits {
			score[h.Dataset.Name] = h.Score
		}
		near, apart := score["s.near"], score["s.apart"]
		if near == 0 || apart == 0 {
			t.Fatalf("%d fillers: s.near %v, s.apart %v: not found", c.fillers, near, apart)
		}
		if c.skipped && near != apart || !c.skipped && near <= apart {
			t.Errorf("%d fillers: side by side %v, apart %v; phrase skipped: want %v", c.fillers, near, apart, c.skipped)
		}
	}
}

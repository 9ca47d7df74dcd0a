package search_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
)

// TestQuestions checks the rules for queries typed as analysts type them
// (doc.go, rules 5 and 7-9) on datasets made for each: the demo catalog
// around them answers with its own names.
func TestQuestions(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	ns := "postgres://questions:5432"
	mustUpsert(t, c.st,
		quarry.Dataset{Namespace: ns, Name: "q.public.venues", Provided: quarry.Metadata{Description: "Every café we supply, with its opening hours."}},
		quarry.Dataset{Namespace: ns, Name: "q.public.reason", Provided: quarry.Metadata{Description: "Reason codes."}},
		quarry.Dataset{Namespace: ns, Name: "q.public.lookups", Provided: quarry.Metadata{Description: "Lookup table of return reasons for parcels."}},
		quarry.Dataset{Namespace: ns, Name: "q.public.about", Provided: quarry.Metadata{Description: "What the company does."}},
		quarry.Dataset{Namespace: ns, Name: "q.public.transfer", Provided: quarry.Metadata{Description: "Moves of stock."}},
		quarry.Dataset{Namespace: ns, Name: "q.public.staffmoves", Provided: quarry.Metadata{Description: "Representative transfers between regions."}},
	)
	if err := c.idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	first := func(text string) (string, *search.Results) {
		t.Helper()
		res, err := c.idx.Search(ctx, search.Query{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) == 0 {
			return "", res
		}
		return res.Hits[0].Dataset.Name, res
	}
	t.Run("Accents", func(t *testing.T) {
		for _, text := range []string{"cafe", "café", "CAFE supply"} {
			name, res := first(text)
			if name != "q.public.venues" {
				t.Fatalf("%q: first %q", text, name)
			}
			// The word marked is the one in the text, accent and all.
			want := "Every <mark>café</mark> we supply,"
			if text == "CAFE supply" {
				want = "Every <mark>café</mark> we <mark>supply</mark>,"
			}
			if i := slices.IndexFunc(res.Hits[0].Matches, func(m search.Match) bool { return m.Field == "description" }); i < 0 ||
				!strings.HasPrefix(res.Hits[0].Matches[i].Text, want) {
				t.Fatalf("%q: matches %v", text, res.Hits[0].Matches)
			}
		}
	})
	t.Run("Coverage", func(t *testing.T) {
		// Every word, in the description, beats one word that is the name...
		if name, _ := first("return reasons"); name != "q.public.lookups" {
			t.Fatalf("return reasons: first %q", name)
		}
		// ... unless that word is the whole query.
		if name, _ := first("reason"); name != "q.public.reason" {
			t.Fatalf("reason: first %q", name)
		}
	})
	t.Run("StopWords", func(t *testing.T) {
		if name, _ := first("the reasons for the returns"); name != "q.public.lookups" {
			t.Fatalf("first %q", name)
		}
		if name, _ := first("about"); name != "q.public.about" { // a stop word alone is searched
			t.Fatalf("about: first %q", name)
		}
	})
	t.Run("Partial", func(t *testing.T) {
		name, res := first("return reasons spreadsheet")
		if name != "q.public.lookups" || !res.Partial || res.Total == 0 {
			t.Fatalf("first %q, partial %v, total %d", name, res.Partial, res.Total)
		}
		// Only those with the most words: two of three, not one.
		for _, h := range res.Hits {
			if h.Dataset.Name == "q.public.reason" {
				t.Fatalf("a hit with one word of three: %v", h.Dataset.Name)
			}
		}
		if _, res := first("return reasons"); res.Partial {
			t.Fatal("a query every word of which a dataset has is not partial")
		}
		if _, res := first("zzyzx qwxv"); res.Partial || res.Total != 0 {
			t.Fatalf("words no dataset has: partial %v, total %d", res.Partial, res.Total)
		}
	})
	t.Run("Synonyms", func(t *testing.T) {
		if _, res := first("rep transfers"); len(res.Hits) > 0 && res.Hits[0].Dataset.Name == "q.public.staffmoves" && !res.Partial {
			t.Fatal("found by a synonym no one configured")
		}
		// Opened again with synonyms: no rebuild, and rep finds representative.
		applied := c.idx.Applied()
		c.idx.Close()
		idx, err := search.Open(ctx, c.dir, c.st, &search.Options{Logger: quiet, Synonyms: [][]string{{"rep", "representative"}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { idx.Close() })
		c.idx = idx
		if idx.Applied() != applied {
			t.Fatalf("reopened at %d, was %d: the index was rebuilt", idx.Applied(), applied)
		}
		if name, res := first("rep transfers"); name != "q.public.staffmoves" || res.Partial {
			t.Fatalf("rep transfers: first %q, partial %v", name, res.Partial)
		}
		if _, err := search.Open(ctx, t.TempDir(), c.st, &search.Options{Synonyms: [][]string{{"rep"}}}); quarry.ErrorCode(err) != quarry.EINVALID {
			t.Fatalf("a group of one word: %v", err)
		}
	})
}

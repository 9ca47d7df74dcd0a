package search

import (
	"testing"

	bsearch "github.com/blevesearch/bleve/v2/search"
)

// A search that runs between an edit of a description and the index's
// catching up has the old text's locations: marked on the new text, they
// cut words ("curre<mark>ency</mark>"). Such spans are left unmarked.
func TestMarkFieldStaleLocations(t *testing.T) {
	text := "Revenue per day and currency. Use this one."
	loc := func(start, end uint64) *bsearch.Location { return &bsearch.Location{Start: start, End: end} }
	h := &bsearch.DocumentMatch{Locations: bsearch.FieldTermLocationMap{
		"description": {"revenu": {loc(0, 7)}, "per": {loc(24, 28)}, "day": {loc(29, 32)}},
	}}
	got, ok := markField(h, "description", []string{text}, nil, nil)
	if want := "<mark>Revenue</mark> per day and currency. Use this one."; !ok || got != want {
		t.Fatalf("marked %q, want %q", got, want)
	}
	// With the field's analyzer, the words are found again in the new text;
	// a text that has none of them is no match.
	m, err := newMapping(false)
	if err != nil {
		t.Fatal(err)
	}
	a := m.AnalyzerNamed(m.AnalyzerNameForPath("description"))
	for _, c := range []struct{ text, want string }{
		{text, "<mark>Revenue</mark> <mark>per</mark> <mark>day</mark> and currency. Use this one."},
		{"Daily revenue, per currency.", "Daily <mark>revenue</mark>, <mark>per</mark> currency."},
		{"Sales in euros.", ""},
	} {
		h := &bsearch.DocumentMatch{Locations: bsearch.FieldTermLocationMap{
			"description": {"revenu": {loc(0, 7)}, "per": {loc(24, 28)}, "dai": {loc(29, 32)}},
		}}
		got, ok := markField(h, "description", []string{c.text}, nil, a)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%q marked %q (%v), want %q", c.text, got, ok, c.want)
		}
	}
	for _, c := range []struct {
		text string
		at   int
		want bool
	}{
		{"daily_revenue", 6, true}, {"SalesOrderHeader", 5, true}, {"SalesOrderHeader", 6, false},
		{"HTTPServer", 4, true}, {"HTTPServer", 2, false}, {"abc123", 3, true}, {"café bar", 5, true}, {"café", 4, false},
	} {
		if got := wordBoundary(c.text, c.at); got != c.want {
			t.Errorf("wordBoundary(%q, %d) = %v", c.text, c.at, got)
		}
	}
}

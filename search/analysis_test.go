package search

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/analysis/tokenizer/character"
	"github.com/blevesearch/bleve/v2/mapping"
)

func TestAnalyzers(t *testing.T) {
	m := mapping.NewIndexMapping()
	if err := addAnalyzers(m); err != nil {
		t.Fatal(err)
	}
	tokens := func(analyzer, text string) string {
		a := m.AnalyzerNamed(analyzer)
		if a == nil {
			t.Fatalf("no analyzer %s", analyzer)
		}
		var out []string
		for _, tok := range a.Analyze([]byte(text)) {
			out = append(out, string(tok.Term))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct{ analyzer, in, want string }{
		{analyzerParts, "sales.fct_order_items_v2", "sales fct order items v2"},
		{analyzerParts, "fctOrderItems", "fctorderitems"},
		{analyzerIdent, "sales.fct_order_items_v2", "sales fct order items v 2"},
		{analyzerIdent, "fctOrderItems", "fct order items"},
		{analyzerIdent, "SalesOrderHeader", "sales order header"},
		{analyzerIdent, "HTTPLogs2024", "http logs 2024"},
		{analyzerIdent, "finance/revenue_export.csv", "finance revenue export csv"},
		{analyzerIdentStem, "order_items", "order item"},
		{analyzerIdentStem, "categories", "categori"},
		{analyzerIdentStem, "category", "categori"},
		{analyzerText, "The employee's pay history, by rate.", "employe pai histori rate"},
		{analyzerExact, "Sales.SalesOrderHeader", "sales.salesorderheader"},
		{analyzerSuffixes, "employeepayhistory", "mployeepayhistory ployeepayhistory loyeepayhistory oyeepayhistory yeepayhistory eepayhistory epayhistory payhistory ayhistory yhistory history istory story"},
		{analyzerSuffixes, "order_items", ""}, // no word longer than 5 letters
		// Compound lower-case names split into known words, plurals
		// included; known words and words the list lacks kept whole.
		{analyzerIdent, "salesorderheader", "sales order header"},
		{analyzerIdent, "productmodelillustrations", "product model illustrations"},
		{analyzerIdent, "billofmaterials", "bill of materials"},
		{analyzerIdent, "ofsales", "ofsales"}, // a joining word only between two
		{analyzerIdent, "invoice", "invoice"},
		{analyzerIdent, "salesorderheadr", "salesorderheadr"},
		{analyzerIdent, "dim_customers2024", "dim customers 2024"},
		{analyzerIdentStem, "salesreasons", "sale reason"},
		{analyzerParts, "salesorderheader", "salesorderheader"},
		// Accents folded everywhere but in exact fields.
		{analyzerText, "Résumés submitted by the café", "resum submit cafe"},
		{analyzerIdent, "café_visits", "cafe visits"},
		{analyzerSuffixes, "crème", ""},
		{analyzerExact, "Café", "café"},
	} {
		if got := tokens(tc.analyzer, tc.in); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.analyzer, tc.in, got, tc.want)
		}
	}
}

// TestAlnumTokenizer checks the identifier tokenizer against bleve's
// character tokenizer with the same rune test, on random text with
// punctuation, non-ASCII letters, U+FFFD and invalid UTF-8.
func TestAlnumTokenizer(t *testing.T) {
	want := character.NewCharacterTokenizer(isAlnum)
	r := rand.New(rand.NewPCG(9, 10))
	pieces := []string{"a", "Z", "9", "_", ".", " ", "é", "日", "ß", "-", "\ufffd", "\xff", "\xe6\x97", "Order", "items2"}
	for range 5000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		in := b.String()
		got, exp := alnumTokenizer{}.Tokenize([]byte(in)), want.Tokenize([]byte(in))
		if len(got) != len(exp) {
			t.Fatalf("%q: %d tokens, want %d", in, len(got), len(exp))
		}
		for i := range got {
			if !reflect.DeepEqual(*got[i], *exp[i]) {
				t.Fatalf("%q: token %d is %+v, want %+v", in, i, *got[i], *exp[i])
			}
		}
	}
}

// A word far longer than any name's (a job's SQL can hold one of a MiB) is
// neither split into known words nor into suffixes: both are quadratic in
// the word's length, and a 900 KB word kept the indexer busy for hours.
func TestLongWordNotSplit(t *testing.T) {
	m := mapping.NewIndexMapping()
	if err := addAnalyzers(m); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("order", 200_000)
	for _, name := range []string{analyzerIdent, analyzerSuffixes} {
		done := make(chan int, 1)
		go func() { done <- len(m.AnalyzerNamed(name).Analyze([]byte(long))) }()
		select {
		case n := <-done:
			if n > 1 {
				t.Fatalf("%s: a 1 MB word became %d tokens", name, n)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: analyzing a 1 MB word did not end", name)
		}
	}
}

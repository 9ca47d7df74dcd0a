package search

import (
	"strings"
	"testing"

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
	} {
		if got := tokens(tc.analyzer, tc.in); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.analyzer, tc.in, got, tc.want)
		}
	}
}

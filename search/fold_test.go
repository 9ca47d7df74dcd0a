package search

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/numeric"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/quarrydata/quarry"
)

// Folded, a document's fields must index as bleve's own fields do once zap
// has merged the values of each (invertedIndexOpaque.process): the same
// terms, frequencies, lengths and locations, array positions included; and
// each must tell bleve the size its token frequencies' Size would.
func TestFoldedFieldsIndexAsBleves(t *testing.T) {
	m, err := newMapping(false)
	if err != nil {
		t.Fatal(err)
	}
	var docs []any
	cat := newSkewedWords()
	for i := range 200 {
		d := cat.dataset(i)
		d.UpdatedAt = time.Unix(1_700_000_000+int64(i)*3_600, 0)
		docs = append(docs, newDatasetDoc(d, quarry.DatasetStatus{}))
	}
	odd := &quarry.Dataset{Namespace: "pg", Name: "shop.public.fctOrderItems_v2", Provided: quarry.Metadata{Description: "Orders, and orders again.", Tags: []string{"PII", "finance", "Customer Data"}}}
	for _, c := range []string{"order_id", "OrderID", "order_id", "café_crème", "x\xffy", "", "status"} {
		odd.Columns = append(odd.Columns, quarry.Column{Name: c, Description: "The order's status; the order " + c})
	}
	docs = append(docs, newDatasetDoc(odd, quarry.DatasetStatus{Freshness: quarry.FreshnessWarn}),
		newJobDoc(&quarry.Job{Name: "dbt.shop.orders", Namespace: "dbt", SQL: "select order_id, status from orders join orders_v2 using (order_id)", Owners: []string{"a", "b"}}))
	for i, v := range docs {
		plain, folded := document.NewDocument("d"), document.NewDocument("d")
		if err := m.MapDocument(plain, v); err != nil {
			t.Fatal(err)
		}
		if err := m.MapDocument(folded, v); err != nil {
			t.Fatal(err)
		}
		foldValues(folded)
		want, got := indexedFields(plain), indexedFields(folded)
		for _, f := range folded.Fields { // the size bleve asks of each is counted while analyzing
			if f, ok := f.(*foldedField); ok && f.freqsSize != f.freqs.Size() {
				t.Errorf("doc %d field %s: size %d, want %d", i, f.Name(), f.freqsSize, f.freqs.Size())
			}
		}
		if v, ok := v.(*datasetDoc); ok { // updated is sorted by: its full-precision term alone
			n := numeric.MustNewPrefixCodedInt64(numeric.Float64ToInt64(v.Updated), 0)
			want[fUpdated] = fmt.Sprintf("opts %v len 1: %q×1", index.IndexField|index.DocValues, n)
		}
		if len(folded.CompositeFields) > 0 {
			t.Errorf("doc %d: composite fields %d, want none (_all is off)", i, len(folded.CompositeFields))
		}
		if len(folded.Fields) >= len(plain.Fields) && i < 200 {
			t.Errorf("doc %d: %d fields folded from %d", i, len(folded.Fields), len(plain.Fields))
		}
		for _, name := range slices.Sorted(maps.Keys(want)) {
			if got[name] != want[name] {
				t.Errorf("doc %d field %s:\n got %s\nwant %s", i, name, got[name], want[name])
			}
		}
		if len(got) != len(want) {
			t.Errorf("doc %d: fields %v, want %v", i, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
	}
}

// indexedFields describes what zap indexes of each field of doc: its
// options, length, and each term's frequency and locations, merged over
// the field's values as zap merges them.
func indexedFields(doc *document.Document) map[string]string {
	lens := map[string]int{}
	opts := map[string]index.FieldIndexingOptions{}
	freqs := map[string]index.TokenFrequencies{}
	doc.VisitFields(func(f index.Field) {
		f.Analyze()
		name := f.Name()
		lens[name] += f.AnalyzedLength()
		opts[name] = f.Options()
		if freqs[name] == nil {
			freqs[name] = index.TokenFrequencies{}
		}
		freqs[name].MergeAll(name, f.AnalyzedTokenFrequencies())
	})
	out := map[string]string{}
	for name, tfs := range freqs {
		var b strings.Builder
		fmt.Fprintf(&b, "opts %v len %d:", opts[name], lens[name])
		for _, term := range slices.Sorted(maps.Keys(tfs)) {
			tf := tfs[term]
			fmt.Fprintf(&b, " %q×%d", term, tf.Frequency())
			for _, l := range tf.Locations {
				fmt.Fprintf(&b, "@%v%d[%d:%d]", l.ArrayPositions, l.Position, l.Start, l.End)
			}
		}
		out[name] = b.String()
	}
	return out
}

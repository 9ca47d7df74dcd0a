package search

import (
	"reflect"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/size"
	index "github.com/blevesearch/bleve_index_api"
)

// addDoc adds v, mapped as the mapping says, to b under id, each field's
// values folded into one field (foldValues).
func addDoc(b *bleve.Batch, m mapping.IndexMapping, id string, v any) error {
	doc := document.NewDocument(id)
	if err := m.MapDocument(doc, v); err != nil {
		return err
	}
	foldValues(doc)
	return b.IndexAdvanced(doc)
}

// foldValues makes one field of the several values of each field of doc: a
// dataset's 15 columns, analyzed three ways and copied into words, are 60
// fields as bleve maps them. Each of those costs as much again as its few
// tokens: a map of token frequencies of its own, a pass of every segment
// section, a merge into the field's first value (zap's
// invertedIndexOpaque.process). Folded, the index holds the same terms,
// frequencies, lengths and locations (each with its value's array
// position): foldedField analyzes the values as bleve's TextField does and
// merges them as zap would.
//
// Stored fields and fields with doc values are left as they are: zap
// reads their values one by one.
//
// The number a dataset is sorted by (updated) is indexed as one term, not
// bleve's sixteen (sortOnlyNumber).
func foldValues(doc *document.Document) {
	out := doc.Fields[:0]
	at := make(map[string]int, len(doc.Fields)/2) // field name -> index in out
	for _, f := range doc.Fields {
		if n, ok := f.(*document.NumericField); ok && n.Name() == fUpdated {
			out = append(out, &sortOnlyNumber{NumericField: n})
			continue
		}
		t, ok := f.(*document.TextField)
		if !ok || t.Analyzer() == nil || t.Options().IsStored() || t.Options().IncludeDocValues() {
			out = append(out, f)
			continue
		}
		i, seen := at[t.Name()]
		if !seen {
			at[t.Name()] = len(out)
			out = append(out, t)
			continue
		}
		switch first := out[i].(type) {
		case *document.TextField:
			out[i] = &foldedField{values: []*document.TextField{first, t}}
		case *foldedField:
			first.values = append(first.values, t)
		}
	}
	clear(doc.Fields[len(out):])
	doc.Fields = out
}

// foldedField is the values of one text field of a document, in the order
// bleve mapped them, indexed as one field.
type foldedField struct {
	values []*document.TextField
	length int
	freqs  index.TokenFrequencies
	// freqsSize is freqs.Size(), counted as Analyze builds it: bleve asks
	// each analyzed document its size (for its statistics alone), and
	// walking every term and location again to answer was 1.5% of the CPU
	// ingesting took, on the goroutine that builds the batch's segment.
	freqsSize int
}

// The sizes index.TokenFrequencies.Size counts.
var (
	sizeTokenFreq     = int(reflect.TypeFor[index.TokenFreq]().Size())
	sizeTokenLocation = int(reflect.TypeFor[index.TokenLocation]().Size())
)

var _ document.Field = (*foldedField)(nil)

func (f *foldedField) Name() string                                     { return f.values[0].Name() }
func (f *foldedField) Options() index.FieldIndexingOptions              { return f.values[0].Options() }
func (f *foldedField) EncodedFieldType() byte                           { return f.values[0].EncodedFieldType() }
func (f *foldedField) AnalyzedLength() int                              { return f.length }
func (f *foldedField) AnalyzedTokenFrequencies() index.TokenFrequencies { return f.freqs }

// ArrayPositions is each location's: the field has several.
func (f *foldedField) ArrayPositions() []uint64 { return nil }

// Value is nil: only stored fields and doc values read a field's value,
// and foldValues leaves those alone.
func (f *foldedField) Value() []byte { return nil }

func (f *foldedField) NumPlainTextBytes() uint64 {
	var n uint64
	for _, v := range f.values {
		n += v.NumPlainTextBytes()
	}
	return n
}

func (f *foldedField) Size() int {
	n := size.SizeOfPtr + size.SizeOfSlice + size.SizeOfInt + size.SizeOfMap
	for _, v := range f.values {
		n += v.Size()
	}
	return n + f.freqsSize
}

// Analyze is bleve's analysis.TokenFrequency of each value (with the
// value's array positions) merged into one map as
// index.TokenFrequencies.MergeAll merges them: the locations of a term in
// the order of the values, frequencies and lengths summed.
func (f *foldedField) Analyze() {
	opts := f.Options()
	vectors, freqs := opts.IncludeTermVectors(), !opts.SkipFreqNorm()
	f.length = 0
	f.freqs = make(index.TokenFrequencies, 4*len(f.values))
	f.freqsSize = size.SizeOfMap
	for _, v := range f.values {
		tokens := v.Analyzer().Analyze(v.Value())
		f.length += len(tokens)
		var locs []index.TokenLocation
		if vectors {
			locs = make([]index.TokenLocation, len(tokens))
		}
		ap := v.ArrayPositions()
		for i, t := range tokens {
			tf := f.freqs[string(t.Term)]
			if tf == nil {
				tf = &index.TokenFreq{Term: t.Term}
				f.freqs[string(t.Term)] = tf
				f.freqsSize += size.SizeOfString + size.SizeOfPtr + 2*len(t.Term) + sizeTokenFreq
			}
			if vectors {
				locs[i] = index.TokenLocation{ArrayPositions: ap, Start: t.Start, End: t.End, Position: t.Position}
				tf.Locations = append(tf.Locations, &locs[i])
				f.freqsSize += sizeTokenLocation + len(ap)*size.SizeOfUint64
			}
			if freqs {
				tf.SetFrequency(tf.Frequency() + 1)
			}
		}
	}
}

// sortOnlyNumber is a number only sorted by, never searched by range: its
// full-precision term is all the sort reads (its doc values), and the
// fifteen coarser ones bleve adds for ranges were a sixteenth of the
// index's terms.
type sortOnlyNumber struct {
	*document.NumericField
	freqs index.TokenFrequencies
}

func (n *sortOnlyNumber) Analyze() {
	v := n.Value()
	tokens := analysis.TokenStream{{Start: 0, End: len(v), Term: v, Position: 1, Type: analysis.Numeric}}
	n.freqs = analysis.TokenFrequency(tokens, n.ArrayPositions(), n.Options())
}

func (n *sortOnlyNumber) AnalyzedLength() int { return 1 }

func (n *sortOnlyNumber) AnalyzedTokenFrequencies() index.TokenFrequencies { return n.freqs }

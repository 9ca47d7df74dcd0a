package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The scale benchmark's synthetic catalog (BenchmarkScale): datasets of 15
// columns named and described from a business vocabulary. Dataset i is
// drawn from its own random stream, so that any dataset can be made again
// (an exact-name query names one) without the others.
//
// Words are drawn with a Zipf-like distribution (rank k has weight
// 1/k^zipfExponent) as they are in real warehouses: `customer` is in about
// 84% of the datasets, `revenue` in about 11.5%, and most words in few. The
// uniform draw of the older search benchmark (graph's BenchmarkSearch100k:
// every word in about 2% of datasets) stays available for comparison.
type scaleCatalog struct {
	words   []string
	cum     []float64 // cumulative weights, for the skewed draw
	uniform bool
}

const (
	// With 3,000 words and 23 draws a dataset (2 in its name, 5 in its
	// description, an owner, 15 columns), an exponent of 0.89 puts the top
	// word in 84% of the datasets; revenueRank puts `revenue` in 11.5%.
	zipfExponent = 0.89
	zipfWords    = 3000
	revenueRank  = 20 // 1-based
)

// scaleBusinessWords are the vocabulary's real words, most common first
// (revenue is moved to revenueRank).
const scaleBusinessWords = `customer order product account payment invoice user session event store
	region channel date country category price email status campaign device
	refund shipment inventory warehouse supplier vendor employee salary department ledger
	margin forecast budget click visit subscription plan churn cohort retention
	promotion coupon discount return review rating ticket support agent call
	lead opportunity contract renewal usage quota license asset transaction balance
	transfer fraud risk`

func newScaleCatalog(uniform bool) *scaleCatalog {
	c := &scaleCatalog{uniform: uniform}
	words := strings.Fields(scaleBusinessWords)
	n := zipfWords
	if uniform {
		// The older benchmark's vocabulary: 70 business words and made-up
		// ones to 2,000, every one as likely.
		n = 2000
		words = strings.Fields(businessWordsUniform)
	} else {
		words = slices.DeleteFunc(words, func(w string) bool { return w == "revenue" })
		words = slices.Insert(words, revenueRank-1, "revenue")
	}
	syllables := strings.Fields("ka lo mi ne ru sa ti vo ze ba de fi gu ho ja")
	for i := 0; len(words) < n; i++ {
		words = append(words, syllables[i%15]+syllables[(i/15)%15]+syllables[(i/225)%15])
	}
	c.words = words
	if !uniform {
		c.cum = make([]float64, len(words))
		sum := 0.0
		for k := range words {
			sum += 1 / math.Pow(float64(k+1), zipfExponent)
			c.cum[k] = sum
		}
	}
	return c
}

// businessWordsUniform is the older search benchmark's word list, in its
// order (graph/search_bench_test.go).
const businessWordsUniform = `customer order invoice payment refund shipment product category inventory
	warehouse supplier vendor employee salary department account ledger revenue margin forecast budget
	campaign click session visit event device subscription plan churn cohort retention region country
	store channel promotion coupon discount return review rating ticket support agent call email lead
	opportunity contract renewal usage quota license asset transaction balance transfer fraud risk`

func (c *scaleCatalog) word(r *rand.Rand) string {
	if c.uniform {
		return c.words[r.IntN(len(c.words))]
	}
	x := r.Float64() * c.cum[len(c.cum)-1]
	return c.words[sort.SearchFloat64s(c.cum, x)]
}

var (
	scalePrefixes = []string{"fct", "dim", "stg", "raw", "agg", "rpt", "int", "snap"}
	scaleSchemas  = []string{"sales", "finance", "marketing", "ops", "support"}
	scaleSuffixes = []string{"id", "at", "amount", "count", "name", "code", "status"}
	scaleTags     = []string{"tier1", "tier2", "pii", "finance", "deprecated"}
)

// scaleDataset is dataset i as upsertDatasets takes it (a DatasetInput).
type scaleDataset struct {
	Namespace   string        `json:"namespace"`
	Name        string        `json:"name"`
	Kind        string        `json:"kind"`
	Description string        `json:"description"`
	Owners      []string      `json:"owners"`
	Tags        []string      `json:"tags"`
	Columns     []scaleColumn `json:"columns"`
}

type scaleColumn struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

// table is the last part of dataset i's name: what a user who knows the
// table types.
func (d scaleDataset) table() string { return d.Name[strings.LastIndexByte(d.Name, '.')+1:] }

func (c *scaleCatalog) dataset(i int) scaleDataset {
	r := rand.New(rand.NewPCG(uint64(i), 0x5ca1e))
	w := func() string { return c.word(r) }
	table := fmt.Sprintf("%s_%s_%s_%d", scalePrefixes[r.IntN(len(scalePrefixes))], w(), w(), i)
	d := scaleDataset{
		Namespace:   fmt.Sprintf("postgres://warehouse-%d.internal:5432", i%7),
		Name:        fmt.Sprintf("dw%d.%s.%s", i%5, scaleSchemas[i%5], table),
		Kind:        []string{"TABLE", "TABLE", "VIEW"}[i%3],
		Description: fmt.Sprintf("One row per %s and %s, with %s and %s by %s.", w(), w(), w(), w(), w()),
		Owners:      []string{"team:" + w()},
		Tags:        []string{scaleTags[i%5]},
	}
	seen := map[string]bool{}
	for len(d.Columns) < 15 {
		col := w() + "_" + scaleSuffixes[r.IntN(len(scaleSuffixes))]
		if seen[col] {
			continue
		}
		seen[col] = true
		d.Columns = append(d.Columns, scaleColumn{Name: col, Type: "varchar(256)", Description: "The " + strings.ReplaceAll(col, "_", " ") + "."})
	}
	return d
}

// words returns the words of a dataset's name, description, owner and
// columns, each once: what a one-word search matches.
func (d scaleDataset) words() map[string]bool {
	out := map[string]bool{}
	add := func(s string) {
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '.' || r == ' ' || r == ',' || r == ':' }) {
			out[w] = true
		}
	}
	add(d.table())
	add(d.Description)
	add(d.Owners[0])
	for _, c := range d.Columns {
		add(c.Name)
	}
	return out
}

// The skewed catalog has the document frequencies the scale benchmark's
// numbers are read against: customer in ~84% of datasets, revenue in
// ~11.5%; the uniform one keeps every word rare.
func TestScaleCatalogSkew(t *testing.T) {
	const n = 5000
	for _, tc := range []struct {
		uniform                  bool
		customerMin, customerMax float64
		revenueMin, revenueMax   float64
	}{
		{false, 0.80, 0.88, 0.095, 0.135},
		{true, 0.005, 0.03, 0.005, 0.03},
	} {
		c := newScaleCatalog(tc.uniform)
		df := map[string]int{}
		for i := range n {
			for w := range c.dataset(i).words() {
				df[w]++
			}
		}
		cust, rev := float64(df["customer"])/n, float64(df["revenue"])/n
		t.Logf("uniform=%v: customer in %.1f%%, revenue in %.1f%%, id in %.1f%%", tc.uniform, 100*cust, 100*rev, 100*float64(df["id"])/n)
		if cust < tc.customerMin || cust > tc.customerMax || rev < tc.revenueMin || rev > tc.revenueMax {
			t.Errorf("uniform=%v: customer in %.1f%% (want %.0f-%.0f%%), revenue in %.1f%% (want %.1f-%.1f%%)",
				tc.uniform, 100*cust, 100*tc.customerMin, 100*tc.customerMax, 100*rev, 100*tc.revenueMin, 100*tc.revenueMax)
		}
	}
	if a, b := newScaleCatalog(false).dataset(77), newScaleCatalog(false).dataset(77); a.Name != b.Name {
		t.Errorf("dataset 77 is %s, then %s: a dataset must be made again alike", a.Name, b.Name)
	}
}

//go:build unix

package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/quarrydata/quarry"
)

// BenchmarkIndexSkewed indexes QUARRY_INDEX_N (default 20,000) datasets of
// 15 columns with skewed words, as the scale benchmark's catalog
// (cmd/quarry/scale_catalog_test.go) makes them, in batches of 1,000 as
// the follower applies an upsertDatasets batch (QUARRY_INDEX_BATCH), and waits for the merges
// to settle: the indexing half of the scale benchmark's datasets
// searchable per s, without the store and HTTP, to profile and compare
// mapping changes quickly. Unix only (it reads the process's CPU time).
// It merges as the serving index does during a bulk load (bulkPlan, no
// compact): below 100,000 documents, not at all; the numbers below were
// measured with bleve's default plan, before it.
//
// Measured at 10k on the shared 2-core machine (2026-12, load 11-13):
// mapping version 12, 644-699 documents per CPU-second; 13, 856-970;
// in batches of 4,000, 851 (12) and 1,092 (13), but the end-to-end
// benchmark's heap while merging grew 2.5 times with them (the follower
// applies 1,000 changelog records at a time).
func BenchmarkIndexSkewed(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("QUARRY_INDEX_N")); err == nil && v > 0 {
		n = v
	}
	batch := 1000
	if v, err := strconv.Atoi(os.Getenv("QUARRY_INDEX_BATCH")); err == nil && v > 0 {
		batch = v
	}
	cat := newSkewedWords()
	docs := make([]*datasetDoc, n)
	for i := range docs {
		docs[i] = newDatasetDoc(cat.dataset(i), quarry.DatasetStatus{})
	}
	b.ResetTimer()
	for range b.N {
		dir := b.TempDir()
		idx, err := create(dir, false, scorchConfig())
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := cpuTime()
		start := time.Now()
		for i := 0; i < n; i += batch {
			bt := idx.NewBatch()
			for j := i; j < min(i+batch, n); j++ {
				if err := addDoc(bt, idx.Mapping(), fmt.Sprintf("d%07d", j), docs[j]); err != nil {
					b.Fatal(err)
				}
			}
			if err := idx.Batch(bt); err != nil {
				b.Fatal(err)
			}
		}
		indexed := time.Since(start)
		for settling(idx) {
			time.Sleep(20 * time.Millisecond)
		}
		settled := time.Since(start)
		b.ReportMetric(float64(n)/indexed.Seconds(), "indexed/s")
		b.ReportMetric(float64(n)/settled.Seconds(), "settled/s")
		// The machine is shared: the CPU time the indexing and merging took
		// is what other load does not move.
		b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "settled/CPU-s")
		idx.Close()
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func settling(idx bleve.Index) bool {
	stats, _ := idx.StatsMap()["index"].(map[string]any)
	active, _ := stats["index_bgthreads_active"].(bool)
	return active
}

// skewedWords draws words as the scale benchmark's catalog does.
type skewedWords struct {
	words []string
	cum   []float64
}

func newSkewedWords() *skewedWords {
	words := strings.Fields(`customer order product account payment invoice user session event store
	region channel date country category price email status campaign revenue device
	refund shipment inventory warehouse supplier vendor employee salary department ledger
	margin forecast budget click visit subscription plan churn cohort retention
	promotion coupon discount return review rating ticket support agent call
	lead opportunity contract renewal usage quota license asset transaction balance
	transfer fraud risk`)
	syl := strings.Fields("ka lo mi ne ru sa ti vo ze ba de fi gu ho ja")
	for i := 0; len(words) < 3000; i++ {
		words = append(words, syl[i%15]+syl[(i/15)%15]+syl[(i/225)%15])
	}
	c := &skewedWords{words: words, cum: make([]float64, len(words))}
	sum := 0.0
	for k := range words {
		sum += 1 / math.Pow(float64(k+1), 0.89)
		c.cum[k] = sum
	}
	return c
}

func (c *skewedWords) word(r *rand.Rand) string {
	return c.words[sort.SearchFloat64s(c.cum, r.Float64()*c.cum[len(c.cum)-1])]
}

func (c *skewedWords) dataset(i int) *quarry.Dataset {
	r := rand.New(rand.NewPCG(uint64(i), 0x5ca1e))
	w := func() string { return c.word(r) }
	prefixes := []string{"fct", "dim", "stg", "raw", "agg", "rpt", "int", "snap"}
	suffixes := []string{"id", "at", "amount", "count", "name", "code", "status"}
	table := fmt.Sprintf("%s_%s_%s_%d", prefixes[r.IntN(len(prefixes))], w(), w(), i)
	d := &quarry.Dataset{
		Namespace: fmt.Sprintf("postgres://warehouse-%d.internal:5432", i%7),
		Name:      fmt.Sprintf("dw%d.%s.%s", i%5, []string{"sales", "finance", "marketing", "ops", "support"}[i%5], table),
		Kind:      quarry.DatasetKind([]string{"TABLE", "TABLE", "VIEW"}[i%3]),
		Provided: quarry.Metadata{
			Description: fmt.Sprintf("One row per %s and %s, with %s and %s by %s.", w(), w(), w(), w(), w()),
			Owners:      []string{"team:" + w()},
			Tags:        []string{[]string{"tier1", "tier2", "pii", "finance", "deprecated"}[i%5]},
		},
	}
	seen := map[string]bool{}
	for len(d.Columns) < 15 {
		col := w() + "_" + suffixes[r.IntN(len(suffixes))]
		if seen[col] {
			continue
		}
		seen[col] = true
		d.Columns = append(d.Columns, quarry.Column{Name: col, Type: "varchar(256)", Description: "The " + strings.ReplaceAll(col, "_", " ") + "."})
	}
	return d
}

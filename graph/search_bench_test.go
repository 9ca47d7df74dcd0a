package graph_test

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph/graphtest"
	"github.com/quarrydata/quarry/internal/machine"
	"github.com/quarrydata/quarry/search"
	quarryserver "github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
	"github.com/quarrydata/quarry/store"
)

// A synthetic catalog of 100,000 datasets with 15 columns each, named and
// described from a business vocabulary, built once for the search
// benchmarks. QUARRY_SEARCH_BENCH_N sets another size (for profiling);
// QUARRY_SEARCH_BENCH_DIR keeps the catalog in that directory and uses it
// again in later runs, instead of building it anew (minutes at 100k).
var benchDatasets = func() int {
	if n, err := strconv.Atoi(os.Getenv("QUARRY_SEARCH_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

var (
	benchOnce  sync.Once
	benchErr   error
	benchStore *store.Store
	benchIndex *search.Index
	benchHTTP  *httptest.Server
	benchDir   string

	benchGraphQL *graphtest.Client // posts to benchHTTP
)

// The vocabulary: 70 business words and 1,930 made-up ones, drawn
// uniformly, so that a specific word is in about 2% of datasets, as in a
// real catalog; column suffixes (id, at, amount, ...) are in most.
var vocabulary = func() []string {
	words := strings.Fields(businessWords)
	syllables := strings.Fields("ka lo mi ne ru sa ti vo ze ba de fi gu ho ja")
	for i := 0; len(words) < 2000; i++ {
		words = append(words, syllables[i%15]+syllables[(i/15)%15]+syllables[(i/225)%15])
	}
	return words
}()

const businessWords = `customer order invoice payment refund shipment product category inventory
	warehouse supplier vendor employee salary department account ledger revenue margin forecast budget
	campaign click session visit event device subscription plan churn cohort retention region country
	store channel promotion coupon discount return review rating ticket support agent call email lead
	opportunity contract renewal usage quota license asset transaction balance transfer fraud risk`

var prefixes = []string{"fct", "dim", "stg", "raw", "agg", "rpt", "int", "snap"}

func synthetic(n int, r *rand.Rand) quarry.Dataset {
	w := func() string { return vocabulary[r.IntN(len(vocabulary))] }
	name := fmt.Sprintf("%s_%s_%s_%d", prefixes[r.IntN(len(prefixes))], w(), w(), n)
	d := quarry.Dataset{
		Namespace: fmt.Sprintf("postgres://warehouse-%d.internal:5432", n%7),
		Name:      fmt.Sprintf("dw%d.%s.%s", n%5, []string{"sales", "finance", "marketing", "ops", "support"}[n%5], name),
		Kind:      []quarry.DatasetKind{quarry.KindTable, quarry.KindTable, quarry.KindView}[n%3],
		Provided: quarry.Metadata{
			Description: fmt.Sprintf("One row per %s and %s, with %s and %s by %s.", w(), w(), w(), w(), w()),
			Owners:      []string{"team:" + w()},
			Tags:        []string{[]string{"tier1", "tier2", "pii", "finance", "deprecated"}[n%5]},
		},
	}
	seen := map[string]bool{}
	for len(d.Columns) < 15 {
		c := w() + "_" + []string{"id", "at", "amount", "count", "name", "code", "status"}[r.IntN(7)]
		if seen[c] {
			continue
		}
		seen[c] = true
		d.Columns = append(d.Columns, quarry.Column{Name: c, Type: "varchar(256)", Nullable: true, Description: "The " + strings.ReplaceAll(c, "_", " ") + "."})
	}
	return d
}

func setupSearchBench(b *testing.B) {
	benchOnce.Do(func() {
		servertest.ServingGC() // as quarry serve does
		quiet := slog.New(slog.DiscardHandler)
		dir, kept := os.Getenv("QUARRY_SEARCH_BENCH_DIR"), false
		if dir != "" {
			_, err := os.Stat(filepath.Join(dir, "quarry.db"))
			kept = err == nil
			benchErr = os.MkdirAll(dir, 0o755)
		} else {
			benchDir, benchErr = os.MkdirTemp("", "quarry-search-bench")
			dir = benchDir // removed by TestMain
		}
		if benchErr != nil {
			return
		}
		benchStore, benchErr = store.Open(filepath.Join(dir, "quarry.db"), &store.Options{Logger: quiet, NoSync: true})
		if benchErr != nil {
			return
		}
		r := rand.New(rand.NewPCG(1, 2))
		batch := make([]quarry.Dataset, 0, 1000)
		for i := range benchDatasets {
			if kept {
				break
			}
			batch = append(batch, synthetic(i, r))
			if len(batch) == cap(batch) {
				if _, benchErr = benchStore.UpsertDatasets(context.Background(), batch); benchErr != nil {
					return
				}
				batch = batch[:0]
			}
		}
		if benchIndex, benchErr = search.Open(context.Background(), filepath.Join(dir, "index"), benchStore, &search.Options{Logger: quiet}); benchErr != nil {
			return
		}
		start := time.Now()
		if benchErr = benchIndex.CatchUp(context.Background()); benchErr != nil {
			return
		}
		took := time.Since(start)
		var size int64
		filepath.WalkDir(filepath.Join(dir, "index"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					size += fi.Size()
				}
			}
			return nil
		})
		if kept {
			fmt.Printf("search index: the catalog in %s again, %.1f MB on disk\n", dir, float64(size)/1e6)
		} else {
			fmt.Printf("search index: %d datasets of 15 columns in %s: %.0f datasets/s, %.1f MB on disk\n",
				benchDatasets, took.Round(time.Millisecond), float64(benchDatasets)/took.Seconds(), float64(size)/1e6)
		}
		// Time searches once bleve's background merging has settled, not
		// while it competes for the CPUs after the bulk build.
		settle := time.Now()
		for !kept && benchIndex.Settling() && time.Since(settle) < 5*time.Minute {
			time.Sleep(500 * time.Millisecond)
		}
		fmt.Printf("search index: segment merging settled %s after the build\n", time.Since(settle).Round(time.Second))
		reg := prometheus.NewRegistry()
		benchHTTP = httptest.NewServer(quarryserver.NewHandler(quarryserver.Config{Store: benchStore, Search: benchIndex, Logger: quiet, Registerer: reg, Gatherer: reg}))
		benchGraphQL = &graphtest.Client{URL: benchHTTP.URL + "/graphql"}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
}

var benchQueries = map[string][]search.Query{
	"one-word":   {{Text: "revenue"}, {Text: "churn"}, {Text: "invoice"}, {Text: "warehouse"}},
	"two-word":   {{Text: "customer orders"}, {Text: "payment refund"}, {Text: "campaign clicks"}, {Text: "support tickets"}},
	"prefix":     {{Text: "subscr"}, {Text: "fct_cust"}, {Text: "invent"}, {Text: "opportu"}},
	"misspelled": {{Text: "revenu"}, {Text: "custmer"}, {Text: "invioce"}, {Text: "shipmnet"}},
	"filtered": {
		{Text: "revenue", Filter: search.Filter{Kinds: []string{"VIEW"}}},
		{Text: "customer", Filter: search.Filter{Tags: []string{"pii"}, Schemas: []string{"sales"}}},
		{Text: "payment", Filter: search.Filter{Namespaces: []string{"postgres://warehouse-3.internal:5432"}}},
		{Text: "", Filter: search.Filter{Owners: []string{"team:revenue"}}},
	},
	// Words in most datasets' columns: the worst case, every hit scored.
	"dense": {{Text: "id"}, {Text: "amount"}, {Text: "status"}, {Text: "created at"}},
}

// BenchmarkSearch100k reports search latency over 100k datasets, through
// the Go API and through /graphql over HTTP, and autocomplete latency.
func BenchmarkSearch100k(b *testing.B) {
	setupSearchBench(b)
	ctx := context.Background()
	kinds := []string{"one-word", "two-word", "prefix", "misspelled", "filtered", "dense"}
	for _, kind := range kinds {
		qs := benchQueries[kind]
		b.Run("api/"+kind, func(b *testing.B) {
			latency(b, func(i int) {
				if _, err := benchIndex.Search(ctx, qs[i%len(qs)]); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
	// The page as the web UI asks for it: its own Search operation, each
	// hit's dataset with its freshness and health.
	page := uiOperation(b, "Search")
	for _, kind := range kinds {
		qs := benchQueries[kind]
		b.Run("http/"+kind, func(b *testing.B) {
			latency(b, func(i int) {
				q := qs[i%len(qs)]
				filter := map[string]any{"kind": q.Filter.Kinds, "tags": q.Filter.Tags, "schema": q.Filter.Schemas, "namespace": q.Filter.Namespaces, "owners": q.Filter.Owners}
				benchGraphQL.Raw(b, page, map[string]any{"query": q.Text, "filter": filter, "first": 20})
			})
		})
	}
	// The page alone, as a client that does not show facets asks for it.
	b.Run("http/one-word-no-facets", func(b *testing.B) {
		qs := benchQueries["one-word"]
		latency(b, func(i int) {
			benchGraphQL.Raw(b, `query($q: String!) { search(query: $q, first: 20) { total hits { score dataset { id name description } matches { field text } } } }`,
				map[string]any{"q": qs[i%len(qs)].Text})
		})
	})
	prefixes := []string{"rev", "cust", "fct_or", "subscription_", "pay", "camp", "ware", "dim_"}
	b.Run("api/autocomplete", func(b *testing.B) {
		latency(b, func(i int) {
			if _, err := benchIndex.Autocomplete(ctx, prefixes[i%len(prefixes)], 10); err != nil {
				b.Fatal(err)
			}
		})
	})
	suggest := uiOperation(b, "Autocomplete") // as the UI's search box asks
	b.Run("http/autocomplete", func(b *testing.B) {
		latency(b, func(i int) {
			benchGraphQL.Raw(b, suggest, map[string]any{"prefix": prefixes[i%len(prefixes)], "limit": 10})
		})
	})
}

// uiOperation is the text of one of the web UI's operations, with the
// fragments it spreads, from the file the UI is built from.
func uiOperation(b *testing.B, name string) string {
	op, err := graphtest.UIOperation("../ui/src/api/operations.graphql", name)
	if err != nil {
		b.Fatal(err)
	}
	return op
}

// latency runs op b.N times and reports p50 and p99 in milliseconds, and
// the CPU time the process spent per op (server and client alike): on a
// VM whose neighbours take its CPUs for a while (steal), latencies move
// with them but CPU time does not, so it tells whether a change made a
// search cheaper.
func latency(b *testing.B, op func(i int)) {
	var lat []time.Duration
	i := 0
	cpu := cpuTime()
	ticks, steal := machine.Ticks()
	for b.Loop() {
		start := time.Now()
		op(i)
		lat = append(lat, time.Since(start))
		i++
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
	if t, s := machine.Ticks(); t > ticks {
		// The share of the machine's CPU time its hypervisor gave to others
		// meanwhile: the latencies of a run with much of it are the
		// neighbours' as much as Quarry's.
		b.ReportMetric(100*float64(s-steal)/float64(t-ticks), "steal-%")
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// TestMain removes the search benchmark's catalog (hundreds of MB) once
// every benchmark that shares it has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchHTTP != nil {
		benchHTTP.Close()
	}
	if benchIndex != nil {
		benchIndex.Close()
	}
	if benchStore != nil {
		benchStore.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

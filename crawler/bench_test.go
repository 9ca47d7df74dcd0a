package crawler_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// The generated database: benchTables tables of 20 columns over
// benchSchemas schemas, and benchViews views over them.
const (
	benchDB      = "bench10k"
	benchTables  = 10_000
	benchSchemas = 20
	benchViews   = 500
	benchBatch   = 500 // tables per Exec, each Exec one implicit transaction
)

var (
	benchOnce     sync.Once
	benchSetupErr error
	// rawPerOp is the raw-queries sub-benchmark's time per op, for the
	// crawl sub-benchmarks to compare against (sub-benchmarks run in order).
	rawPerOp time.Duration
	// benchSetupLog says how long the setup took; a parent benchmark's own
	// log is not printed, so the first sub-benchmark logs it.
	benchSetupLog string
)

func benchTable(i int) string { return fmt.Sprintf("s%02d.t%05d", i%benchSchemas, i) }

// benchColumns are the 20 columns of every generated table.
var benchColumns = []string{
	"id bigint PRIMARY KEY",
	"name text NOT NULL",
	"amount numeric(12,2)",
	"created_at timestamptz NOT NULL DEFAULT now()",
	"active boolean",
	"payload jsonb",
	"ref_id bigint",
	"code varchar(32)",
	"qty integer DEFAULT 0",
	"ratio double precision",
	"day date",
	"uid uuid",
	"tags text[]",
	"small smallint",
	"note text",
	"price numeric(10,4)",
	"updated_at timestamp",
	"flag boolean NOT NULL DEFAULT false",
	"data bytea",
	"status char(1)",
}

// benchTablesDDL is the DDL of tables [from, to): every tenth has a table
// comment and three column comments, every twentieth a foreign key to an
// earlier table of the same batch (batches run concurrently).
func benchTablesDDL(from, to int) string {
	var sb strings.Builder
	for i := from; i < to; i++ {
		t := benchTable(i)
		fmt.Fprintf(&sb, "CREATE TABLE %s (\n\t%s", t, strings.Join(benchColumns, ",\n\t"))
		if i%20 == 7 && i-7 >= from {
			fmt.Fprintf(&sb, ",\n\tCONSTRAINT t%05d_ref_fk FOREIGN KEY (ref_id) REFERENCES %s (id)", i, benchTable(i-7))
		}
		sb.WriteString(");\n")
		if i%10 == 3 {
			fmt.Fprintf(&sb, "COMMENT ON TABLE %s IS 'Generated table %d: one row per thing, refreshed hourly.';\n", t, i)
			fmt.Fprintf(&sb, "COMMENT ON COLUMN %s.amount IS 'Amount in USD, two decimals.';\n", t)
			fmt.Fprintf(&sb, "COMMENT ON COLUMN %s.created_at IS 'When the row was first seen.';\n", t)
			fmt.Fprintf(&sb, "COMMENT ON COLUMN %s.payload IS 'Raw event payload.';\n", t)
		}
	}
	return sb.String()
}

// benchViewsDDL is the DDL of the views: every other one joins two tables.
func benchViewsDDL() string {
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for v := range benchViews {
		a, b := benchTable(rng.IntN(benchTables)), benchTable(rng.IntN(benchTables))
		name := fmt.Sprintf("s%02d.v%04d", v%benchSchemas, v)
		switch v % 4 {
		case 0, 2:
			fmt.Fprintf(&sb, "CREATE VIEW %s AS SELECT a.id, a.name, a.amount * 100 AS cents, b.created_at, b.status\n"+
				"\tFROM %s a JOIN %s b ON b.id = a.ref_id WHERE a.active;\n", name, a, b)
		case 1:
			fmt.Fprintf(&sb, "CREATE VIEW %s AS SELECT id, name, amount, created_at FROM %s WHERE NOT flag;\n", name, a)
		case 3:
			fmt.Fprintf(&sb, "CREATE VIEW %s AS SELECT day, count(*) AS n, sum(amount) AS total FROM %s GROUP BY day;\n", name, a)
		}
	}
	return sb.String()
}

// setupBenchDB creates and fills the benchmark database, once per process.
func setupBenchDB(b *testing.B) {
	b.Helper()
	benchOnce.Do(func() {
		start := time.Now()
		benchSetupErr = func() error {
			ctx := context.Background()
			if err := pg.CreateDatabase(ctx, benchDB); err != nil {
				return err
			}
			var schemas strings.Builder
			for s := range benchSchemas {
				fmt.Fprintf(&schemas, "CREATE SCHEMA s%02d;\n", s)
			}
			if err := pg.Exec(ctx, benchDB, schemas.String()); err != nil {
				return err
			}
			// Two connections, each one batch (one transaction) at a time.
			batches := make(chan int)
			errs := make(chan error, 2)
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					conn, err := pgx.Connect(ctx, pg.DSN(benchDB))
					if err != nil {
						errs <- err
						for range batches {
						}
						return
					}
					defer conn.Close(ctx)
					for from := range batches {
						if _, err := conn.Exec(ctx, benchTablesDDL(from, min(from+benchBatch, benchTables))); err != nil {
							errs <- fmt.Errorf("tables %d..: %w", from, err)
							for range batches {
							}
							return
						}
					}
				})
			}
			for from := 0; from < benchTables; from += benchBatch {
				batches <- from
			}
			close(batches)
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				return err
			}
			tables := time.Since(start)
			if err := pg.Exec(ctx, benchDB, benchViewsDDL()); err != nil {
				return fmt.Errorf("views: %w", err)
			}
			views := time.Since(start)
			if err := pg.Exec(ctx, benchDB, "ANALYZE"); err != nil {
				return err
			}
			benchSetupLog = fmt.Sprintf("setup: %d tables x %d columns, %d views in %d schemas: tables %.1fs, views %.1fs, analyze %.1fs, total %.1fs",
				benchTables, len(benchColumns), benchViews, benchSchemas,
				tables.Seconds(), (views - tables).Seconds(), (time.Since(start) - views).Seconds(), time.Since(start).Seconds())
			return nil
		}()
	})
	if benchSetupErr != nil {
		b.Fatal(benchSetupErr)
	}
}

// phases times a crawl's catalog phase (connect and queries, up to the
// last catalog step) and the rest (mapping and writing to the store).
type phases struct {
	start, catalogDone time.Time
	catalog, rest      time.Duration
}

func (p *phases) options() crawler.Options {
	return crawler.Options{Progress: func(pr crawler.Progress) {
		if pr.Phase == "catalog" && pr.Done == pr.Total {
			p.catalogDone = time.Now()
		}
	}}
}

func (p *phases) begin() { p.start = time.Now() }

func (p *phases) end() {
	p.catalog += p.catalogDone.Sub(p.start)
	p.rest += time.Since(p.catalogDone)
}

func (p *phases) report(b *testing.B, n int) {
	b.ReportMetric(p.catalog.Seconds()/float64(n), "catalog-s/op")
	b.ReportMetric(p.rest.Seconds()/float64(n), "write-s/op")
}

func openBenchStore(b *testing.B) *store.Store {
	b.Helper()
	return storetest.MustOpen(b, nil) // fsync'd, as a server's
}

// BenchmarkCrawlPostgres crawls a database of 10,000 tables of 20 columns
// and 500 views, and compares the crawl with the catalog queries alone: the
// crawl should stay within 2x of them.
func BenchmarkCrawlPostgres(b *testing.B) {
	setupBenchDB(b)
	ctx := context.Background()
	dsn := pg.DSN(benchDB)
	const want = benchTables + benchViews

	// The catalog queries of a crawl, rows drained but not decoded, with
	// the connection a crawl opens.
	logSetup := func(b *testing.B) {
		if benchSetupLog != "" {
			b.Log(benchSetupLog)
			benchSetupLog = ""
		}
	}
	b.Run("raw-queries", func(b *testing.B) {
		logSetup(b)
		var rows, bytes int
		var queries time.Duration
		each := make([]time.Duration, len(crawler.CatalogQueries))
		n := 0
		for b.Loop() {
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			q0 := time.Now()
			tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
			if err != nil {
				b.Fatal(err)
			}
			for i, q := range crawler.CatalogQueries {
				t0 := time.Now()
				r, err := tx.Query(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				for r.Next() {
					rows++
					for _, v := range r.RawValues() {
						bytes += len(v)
					}
				}
				if err := r.Err(); err != nil {
					b.Fatal(err)
				}
				each[i] += time.Since(t0)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
			queries += time.Since(q0)
			conn.Close(ctx)
			n++
		}
		rawPerOp = b.Elapsed() / time.Duration(n)
		b.ReportMetric(float64(rows)/float64(n), "rows/op")
		b.ReportMetric(float64(bytes)/float64(n)/1e6, "MB/op")
		b.ReportMetric(queries.Seconds()/float64(n), "query-s/op")
		var per []string
		for i, d := range each {
			per = append(per, fmt.Sprintf("#%d %v", i, (d/time.Duration(n)).Round(time.Millisecond)))
		}
		b.Logf("per query (relations, columns, constraints, partitions, stats, view deps, view rules): %s", strings.Join(per, ", "))
	})

	benchCrawls(b, crawler.CrawlPostgres, dsn, want, &rawPerOp, logSetup)
}

// benchCrawls runs a kind's "crawl" sub-benchmark (every iteration into a
// fresh store: all want datasets new, fsync'd) and its "recrawl" (into a
// store that already holds them: a scheduled crawl's steady state, nothing
// new), each also as a multiple of *rawPerOp, the time of the catalog
// queries alone (set by an earlier sub-benchmark; 0 reports no ratio).
// logSetup logs, once, how the database was set up.
func benchCrawls(b *testing.B, crawl func(context.Context, crawler.Store, string, crawler.Options) (*crawler.Result, error),
	dsn string, want int, rawPerOp *time.Duration, logSetup func(*testing.B)) {
	ctx := context.Background()
	ratio := func(b *testing.B, perOp time.Duration) {
		if raw := *rawPerOp; raw > 0 {
			r := float64(perOp) / float64(raw)
			b.ReportMetric(r, "x-raw")
			b.Logf("%s: %v per crawl, %.2fx the raw queries (%v); goal <= 2x", b.Name(), perOp.Round(time.Millisecond), r, raw.Round(time.Millisecond))
		}
	}
	b.Run("crawl", func(b *testing.B) {
		logSetup(b)
		datasets, n := 0, 0
		var ph phases
		for b.Loop() {
			b.StopTimer()
			st := openBenchStore(b)
			b.StartTimer()
			ph.begin()
			res, err := crawl(ctx, st, dsn, ph.options())
			if err != nil {
				b.Fatal(err)
			}
			ph.end()
			b.StopTimer()
			if res.Datasets != want || res.New != want || res.ViewsUnparsed != 0 {
				b.Fatalf("crawl: %+v, want %d new datasets", res.CrawlCounts, want)
			}
			datasets += res.Datasets
			n++
			if err := st.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(datasets)/b.Elapsed().Seconds(), "datasets/s")
		ph.report(b, n)
		ratio(b, b.Elapsed()/time.Duration(n))
	})
	b.Run("recrawl", func(b *testing.B) {
		logSetup(b)
		st := openBenchStore(b)
		defer st.Close()
		if _, err := crawl(ctx, st, dsn, crawler.Options{}); err != nil {
			b.Fatal(err)
		}
		datasets, n := 0, 0
		var ph phases
		for b.Loop() {
			ph.begin()
			res, err := crawl(ctx, st, dsn, ph.options())
			if err != nil {
				b.Fatal(err)
			}
			ph.end()
			if res.Datasets != want || res.New != 0 || res.Removed != 0 {
				b.Fatalf("recrawl: %+v", res.CrawlCounts)
			}
			datasets += res.Datasets
			n++
		}
		b.ReportMetric(float64(datasets)/b.Elapsed().Seconds(), "datasets/s")
		ph.report(b, n)
		ratio(b, b.Elapsed()/time.Duration(n))
	})
}

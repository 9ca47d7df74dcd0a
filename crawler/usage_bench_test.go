package crawler_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/pgtest"
)

// benchDigests is how many distinct statements the usage benchmark's
// workload leaves in pg_stat_statements.
const benchDigests = 5_000

// benchStatement is the i-th statement of the usage workload: a lookup,
// a join of two tables, or an insert.
func benchStatement(i int) string {
	a, b := benchTable(i%benchTables), benchTable((i*7+1)%benchTables)
	switch i % 3 {
	case 0:
		return fmt.Sprintf("SELECT name, amount FROM %s WHERE id = $1", a)
	case 1:
		return fmt.Sprintf("SELECT a.name, b.status FROM %s a JOIN %s b ON b.id = a.ref_id WHERE a.id = $1", a, b)
	}
	return fmt.Sprintf("INSERT INTO %s (id, name) VALUES ($1, 'x') ON CONFLICT (id) DO NOTHING", a)
}

var (
	usageBenchOnce sync.Once
	usageBench     *pgtest.Server
	usageBenchErr  error
	usageBenchLog  string
)

// setupUsageBench starts a cluster with pg_stat_statements, creates the
// 10,000 tables of the crawl benchmark, and runs benchDigests distinct
// statements as another role.
func setupUsageBench(b *testing.B) *pgtest.Server {
	b.Helper()
	usageBenchOnce.Do(func() {
		start := time.Now()
		ctx := context.Background()
		usageBench, usageBenchErr = pgtest.StartWith(ctx, &pgtest.Options{Args: []string{
			"-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.max=10000"}})
		if usageBenchErr != nil {
			return
		}
		usageBenchErr = func() error {
			s := usageBench
			if err := s.CreateDatabase(ctx, benchDB); err != nil {
				return err
			}
			var ddl strings.Builder
			ddl.WriteString("CREATE SCHEMA ext; CREATE EXTENSION pg_stat_statements SCHEMA ext; CREATE ROLE worker LOGIN PASSWORD 'w';\n")
			for sch := range benchSchemas {
				fmt.Fprintf(&ddl, "CREATE SCHEMA s%02d; GRANT USAGE ON SCHEMA s%02d TO worker; ALTER DEFAULT PRIVILEGES IN SCHEMA s%02d GRANT ALL ON TABLES TO worker;\n", sch, sch, sch)
			}
			if err := s.Exec(ctx, benchDB, ddl.String()); err != nil {
				return err
			}
			for from := 0; from < benchTables; from += benchBatch {
				if err := s.Exec(ctx, benchDB, benchTablesDDL(from, min(from+benchBatch, benchTables))); err != nil {
					return err
				}
			}
			tables := time.Since(start)
			conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://worker:w@127.0.0.1:%d/%s?sslmode=disable", s.Port, benchDB))
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			for i := range benchDigests {
				if _, err := conn.Exec(ctx, benchStatement(i), int64(i)); err != nil {
					return fmt.Errorf("%s: %w", benchStatement(i), err)
				}
			}
			usageBenchLog = fmt.Sprintf("setup: %d tables, %d statements as another role: tables %.1fs, statements %.1fs",
				benchTables, benchDigests, tables.Seconds(), (time.Since(start) - tables).Seconds())
			return nil
		}()
	})
	if usageBenchErr != nil {
		b.Fatal(usageBenchErr)
	}
	return usageBench
}

// BenchmarkUsagePostgres measures what usage collection adds to a crawl
// of 10,000 tables whose server holds 5,000 statements of another role:
// a recrawl (the steady state) without usage; with usage when nothing ran
// since the last crawl; and with usage after all 5,000 statements ran
// again (each is parsed). Goal: usage under 20% of the crawl. usage-% is
// Result.UsageTime over Result.Duration, measured inside each crawl: the
// difference of two crawls' times is noise on a shared machine.
func BenchmarkUsagePostgres(b *testing.B) {
	s := setupUsageBench(b)
	b.Cleanup(func() { s.Stop() })
	ctx := context.Background()
	dsn := s.DSN(benchDB)
	work := func(b *testing.B) {
		conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://worker:w@127.0.0.1:%d/%s?sslmode=disable", s.Port, benchDB))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		for i := range benchDigests {
			if _, err := conn.Exec(ctx, benchStatement(i), int64(i)); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchUsageRecrawls(b, crawler.CrawlPostgres, dsn, 0, "recrawl-usage-all-statements-ran", work, &usageBenchLog)
}

// benchUsageRecrawls runs the recrawls of a usage benchmark on dsn:
// without usage, with usage when nothing ran since the last crawl, and
// (allRan) after work ran every statement again; it reports usage's share
// of each crawl (Result.UsageTime over Result.Duration). want is the
// datasets each crawl finds (0: not checked); setupLog, once logged, is
// cleared.
func benchUsageRecrawls(b *testing.B, crawl func(context.Context, crawler.Store, string, crawler.Options) (*crawler.Result, error),
	dsn string, want int, allRan string, work func(*testing.B), setupLog *string) {
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		noUsage, work bool
	}{{"recrawl-without-usage", true, false}, {"recrawl-usage-idle", false, false}, {allRan, false, true}} {
		b.Run(tc.name, func(b *testing.B) {
			if *setupLog != "" {
				b.Log(*setupLog)
				*setupLog = ""
			}
			st := openBenchStore(b)
			defer st.Close()
			o := crawler.Options{NoUsage: tc.noUsage}
			// The first crawl sets the baseline (and warms the server's
			// caches of the catalog).
			if _, err := crawl(ctx, st, dsn, o); err != nil {
				b.Fatal(err)
			}
			var crawled, usage time.Duration
			n := 0
			for b.Loop() {
				if tc.work {
					b.StopTimer()
					work(b)
					b.StartTimer()
				}
				res, err := crawl(ctx, st, dsn, o)
				if err != nil {
					b.Fatal(err)
				}
				if want > 0 && res.Datasets != want {
					b.Fatalf("crawled %d datasets, want %d", res.Datasets, want)
				}
				crawled += res.Duration
				usage += res.UsageTime
				n++
			}
			if tc.noUsage {
				return
			}
			pct := 100 * usage.Seconds() / crawled.Seconds()
			b.ReportMetric(pct, "usage-%")
			b.ReportMetric(usage.Seconds()*1000/float64(n), "usage-ms/op")
			b.Logf("usage takes %.1f%% of the crawl (%v of %v); goal < 20%%", pct, (usage / time.Duration(n)).Round(time.Millisecond), (crawled / time.Duration(n)).Round(time.Millisecond))
		})
	}
}

// BenchmarkStatementTables measures the parse of one statement for the
// tables it reads and writes: PostgreSQL's (pg_query_go) and MySQL's
// (vitess) parsers, over the usage workload's statements.
func BenchmarkStatementTables(b *testing.B) {
	const n = 300
	pgStmts := make([]string, n)
	myStmts := make([]string, n)
	for i := range n {
		pgStmts[i] = benchStatement(i)
		myStmts[i] = strings.NewReplacer("$1", "?", "ON CONFLICT (id) DO NOTHING", "").Replace(pgStmts[i])
	}
	for _, tc := range []struct {
		name  string
		stmts []string
		parse func(string) ([]crawler.TableName, []crawler.TableName, error)
	}{{"postgres", pgStmts, crawler.PostgresStatementTables}, {"mysql", myStmts, crawler.MySQLStatementTables}} {
		b.Run(tc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				r, w, err := tc.parse(tc.stmts[i%n])
				if err != nil || len(r)+len(w) == 0 {
					b.Fatalf("%s: %v %v %v", tc.stmts[i%n], r, w, err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(i), "µs/statement")
		})
	}
}

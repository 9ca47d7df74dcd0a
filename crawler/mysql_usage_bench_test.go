package crawler_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/mysqltest"
)

// myBenchStatement is the i-th statement of the MySQL usage workload, as
// benchStatement is PostgreSQL's: a lookup, a join of two tables, or an
// insert. Literals, not placeholders: the text protocol is what leaves a
// statement digest (a prepared statement's executions are counted
// elsewhere).
func myBenchStatement(i int) string {
	a, b := myBenchTable(i%benchTables), myBenchTable((i*7+1)%benchTables)
	switch i % 3 {
	case 0:
		return fmt.Sprintf("SELECT name, amount FROM %s WHERE id = %d", a, i)
	case 1:
		return fmt.Sprintf("SELECT a.name, b.status FROM %s a JOIN %s b ON b.id = a.ref_id WHERE a.id = %d", a, b, i)
	}
	return fmt.Sprintf("INSERT IGNORE INTO %s (id, name) VALUES (%d, 'x')", a, i)
}

// myWorkloadDigest selects the workload's digests: those naming a
// generated table (the crawl's own name none).
const myWorkloadDigest = "DIGEST_TEXT LIKE '%`t0%' AND DIGEST_TEXT NOT LIKE 'CREATE%'"

var (
	myUsageBenchOnce sync.Once
	myUsageBench     *mysqltest.Server
	myUsageBenchErr  error
	myUsageBenchLog  string
)

// setupMyUsageBench starts a MariaDB with performance_schema, creates the
// 10,000 tables of the MySQL crawl benchmark, and runs benchDigests
// distinct statements as another account. performance_schema is sized for
// them: MariaDB's automatic sizing keeps fewer digests and table
// instances than that, and a digest that finds the table full is counted
// in one "NULL" row, whose tables no one can know.
func setupMyUsageBench(b *testing.B) *mysqltest.Server {
	b.Helper()
	myUsageBenchOnce.Do(func() {
		start := time.Now()
		ctx := context.Background()
		myUsageBench, myUsageBenchErr = mysqltest.Start(ctx, &mysqltest.Options{PerformanceSchema: true, Args: []string{
			"--table-open-cache=12000", "--table-definition-cache=12000", "--open-files-limit=30000", "--innodb-buffer-pool-size=256M",
			"--performance-schema-digests-size=10000", "--performance-schema-max-table-instances=12000",
			"--performance-schema-max-table-handles=24000"}})
		if myUsageBenchErr != nil {
			return
		}
		myUsageBenchErr = func() error {
			s := myUsageBench
			if err := s.Exec(ctx, "", "CREATE DATABASE "+myBenchDB+"; CREATE USER 'worker'@'%' IDENTIFIED BY 'w'; GRANT ALL ON "+myBenchDB+".* TO 'worker'@'%'"); err != nil {
				return err
			}
			for from := 0; from < benchTables; from += benchBatch {
				if err := s.Exec(ctx, myBenchDB, myBenchTablesDDL(from, min(from+benchBatch, benchTables))); err != nil {
					return fmt.Errorf("tables %d..: %w", from, err)
				}
			}
			tables := time.Since(start)
			// The DDL's digests (one per CREATE TABLE) would fill the table.
			if err := s.Exec(ctx, "", "TRUNCATE TABLE performance_schema.events_statements_summary_by_digest"); err != nil {
				return err
			}
			if err := myUsageWork(ctx, s); err != nil {
				return err
			}
			var digests int
			if err := myUsageQueryRow(ctx, s, "SELECT count(*) FROM performance_schema.events_statements_summary_by_digest WHERE SCHEMA_NAME = '"+myBenchDB+"' AND "+myWorkloadDigest, &digests); err != nil {
				return err
			}
			if digests < benchDigests {
				return fmt.Errorf("performance_schema keeps %d digests of the workload's %d: its digest table is too small", digests, benchDigests)
			}
			myUsageBenchLog = fmt.Sprintf("setup: %d tables, %d statements as another account (%d digests): tables %.1fs, statements %.1fs",
				benchTables, benchDigests, digests, tables.Seconds(), (time.Since(start) - tables).Seconds())
			return nil
		}()
	})
	if myUsageBenchErr != nil {
		b.Fatal(myUsageBenchErr)
	}
	return myUsageBench
}

func myUsageDB(s *mysqltest.Server, user, password string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", s.Addr(), myBenchDB
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	return db, nil
}

// myUsageWork runs the workload's benchDigests statements as worker.
func myUsageWork(ctx context.Context, s *mysqltest.Server) error {
	db, err := myUsageDB(s, "worker", "w")
	if err != nil {
		return err
	}
	defer db.Close()
	for i := range benchDigests {
		if _, err := db.ExecContext(ctx, myBenchStatement(i)); err != nil {
			return fmt.Errorf("%s: %w", myBenchStatement(i), err)
		}
	}
	return nil
}

func myUsageQueryRow(ctx context.Context, s *mysqltest.Server, q string, dest ...any) error {
	db, err := myUsageDB(s, mysqltest.User, mysqltest.Password)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.QueryRowContext(ctx, q).Scan(dest...)
}

// BenchmarkUsageMySQL is BenchmarkUsagePostgres on MariaDB's
// performance_schema: what usage collection adds to a recrawl of 10,000
// tables whose server holds 5,000 statement digests of another account,
// when nothing ran since the last crawl and after all 5,000 ran again
// (with -benchtime=1x, the one timed crawl parses every digest: later
// crawls reuse the tables the baseline keeps per digest). Goal: usage
// under 20% of the crawl. It also times the parse of the server's own
// digest texts, one by one.
func BenchmarkUsageMySQL(b *testing.B) {
	s := setupMyUsageBench(b)
	b.Cleanup(func() { s.Stop() })
	ctx := context.Background()
	dsn := s.DSN(myBenchDB)
	work := func(b *testing.B) {
		if err := myUsageWork(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	benchUsageRecrawls(b, crawler.CrawlMySQL, dsn, benchTables, "recrawl-usage-all-digests-ran", work, &myUsageBenchLog)
	// The digest texts as the server normalized them (backquoted names,
	// "?" literals), each parsed for its tables; an op parses all of them,
	// on one CPU (a crawl spreads them over the CPUs).
	b.Run("parse-digests", func(b *testing.B) {
		db, err := myUsageDB(s, mysqltest.User, mysqltest.Password)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		rows, err := db.QueryContext(ctx, "SELECT DIGEST_TEXT FROM performance_schema.events_statements_summary_by_digest WHERE SCHEMA_NAME = ? AND "+myWorkloadDigest, myBenchDB)
		if err != nil {
			b.Fatal(err)
		}
		var texts []string
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				b.Fatal(err)
			}
			texts = append(texts, t)
		}
		rows.Close()
		if len(texts) < benchDigests {
			b.Fatalf("%d digest texts, want %d", len(texts), benchDigests)
		}
		n := 0
		for b.Loop() {
			for _, t := range texts {
				r, w, err := crawler.MySQLStatementTables(t)
				if err != nil || len(r)+len(w) == 0 {
					b.Fatalf("%s: %v %v %v", t, r, w, err)
				}
				n++
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/digest")
	})
}

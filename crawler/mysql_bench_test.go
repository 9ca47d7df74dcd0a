package crawler_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/mysqltest"
)

// The generated MySQL database: benchTables tables of 20 columns and
// benchViews views over them, in one database, on a MariaDB of its own
// (the benchmark's table caches are sized for 10,000 tables), stopped by
// TestMain.
const myBenchDB = "bench10k"

var (
	myBenchOnce     sync.Once
	myBench         *mysqltest.Server
	myBenchErr      error
	myBenchSetupLog string
	myRawPerOp      time.Duration
)

var myBenchColumns = []string{
	"id bigint NOT NULL PRIMARY KEY",
	"name varchar(200) NOT NULL",
	"amount decimal(12,2)",
	"created_at timestamp NOT NULL DEFAULT current_timestamp()",
	"active tinyint(1)",
	"payload longtext",
	"ref_id bigint",
	"code varchar(32)",
	"qty int DEFAULT 0",
	"ratio double",
	"day date",
	"uid char(36)",
	"tags text",
	"small smallint unsigned",
	"note text",
	"price decimal(10,4)",
	"updated_at datetime",
	"flag tinyint(1) NOT NULL DEFAULT 0",
	"data blob",
	"status enum('a','b','c')",
}

func myBenchTable(i int) string { return fmt.Sprintf("t%05d", i) }

// myBenchTablesDDL: every tenth table has a table comment and three column
// comments, every twentieth a foreign key to an earlier table.
func myBenchTablesDDL(from, to int) string {
	var sb strings.Builder
	for i := from; i < to; i++ {
		cols := strings.Join(myBenchColumns, ",\n\t")
		if i%10 == 3 {
			cols = strings.Replace(cols, "amount decimal(12,2)", "amount decimal(12,2) COMMENT 'Amount in USD, two decimals.'", 1)
			cols = strings.Replace(cols, "current_timestamp()", "current_timestamp() COMMENT 'When the row was first seen.'", 1)
			cols = strings.Replace(cols, "payload longtext", "payload longtext COMMENT 'Raw event payload.'", 1)
		}
		fmt.Fprintf(&sb, "CREATE TABLE %s (\n\t%s", myBenchTable(i), cols)
		if i%20 == 7 {
			fmt.Fprintf(&sb, ",\n\tCONSTRAINT t%05d_ref_fk FOREIGN KEY (ref_id) REFERENCES %s (id)", i, myBenchTable(i-7))
		}
		sb.WriteString(")")
		if i%10 == 3 {
			fmt.Fprintf(&sb, " COMMENT 'Generated table %d: one row per thing, refreshed hourly.'", i)
		}
		sb.WriteString(";\n")
	}
	return sb.String()
}

func myBenchViewsDDL() string {
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	for v := range benchViews {
		a, b := myBenchTable(rng.IntN(benchTables)), myBenchTable(rng.IntN(benchTables))
		name := fmt.Sprintf("v%04d", v)
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

func setupMyBench(b *testing.B) *mysqltest.Server {
	b.Helper()
	myBenchOnce.Do(func() {
		start := time.Now()
		ctx := context.Background()
		myBench, myBenchErr = mysqltest.Start(ctx, &mysqltest.Options{Args: []string{
			"--table-open-cache=12000", "--table-definition-cache=12000", "--open-files-limit=30000", "--innodb-buffer-pool-size=256M"}})
		if myBenchErr != nil {
			return
		}
		myBenchErr = func() error {
			if err := myBench.Exec(ctx, "", "CREATE DATABASE "+myBenchDB); err != nil {
				return err
			}
			// One connection, multi-statement batches.
			for from := 0; from < benchTables; from += benchBatch {
				if err := myBench.Exec(ctx, myBenchDB, myBenchTablesDDL(from, min(from+benchBatch, benchTables))); err != nil {
					return fmt.Errorf("tables %d..: %w", from, err)
				}
			}
			tables := time.Since(start)
			if err := myBench.Exec(ctx, myBenchDB, myBenchViewsDDL()); err != nil {
				return fmt.Errorf("views: %w", err)
			}
			myBenchSetupLog = fmt.Sprintf("setup: %d tables x %d columns, %d views: server and tables %.1fs, views %.1fs",
				benchTables, len(myBenchColumns), benchViews, tables.Seconds(), (time.Since(start) - tables).Seconds())
			return nil
		}()
	})
	if myBenchErr != nil {
		b.Fatal(myBenchErr)
	}
	return myBench
}

// BenchmarkCrawlMySQL crawls a MariaDB database of 10,000 tables of 20
// columns and 500 views, and compares the crawl with its catalog queries
// alone: the crawl should stay within 2x of them. It also times the
// parsing of the views' definitions alone.
func BenchmarkCrawlMySQL(b *testing.B) {
	my := setupMyBench(b)
	ctx := context.Background()
	dsn := my.DSN(myBenchDB)
	const want = benchTables + benchViews
	logSetup := func(b *testing.B) {
		if myBenchSetupLog != "" {
			b.Log(myBenchSetupLog)
			myBenchSetupLog = ""
		}
	}
	b.Run("raw-queries", func(b *testing.B) {
		logSetup(b)
		var rows, bytes int
		each := make([]time.Duration, len(crawler.MySQLCatalogQueries))
		n := 0
		// MariaDB opens every table to answer information_schema: the
		// first pass after the setup fills its table caches. Time warm
		// passes only, as the crawls after it are.
		warm := true
		for warm || b.Loop() {
			cfg := mysql.NewConfig()
			cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName, cfg.InterpolateParams = mysqltest.User, mysqltest.Password, "tcp", my.Addr(), myBenchDB, true
			connector, err := mysql.NewConnector(cfg)
			if err != nil {
				b.Fatal(err)
			}
			db := sql.OpenDB(connector)
			tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			if err != nil {
				b.Fatal(err)
			}
			for i, q := range crawler.MySQLCatalogQueries {
				t0 := time.Now()
				r, err := tx.QueryContext(ctx, fmt.Sprintf(q, "?"), myBenchDB)
				if err != nil {
					b.Fatal(err)
				}
				cols, _ := r.Columns()
				vals := make([]any, len(cols))
				for j := range vals {
					vals[j] = new(sql.RawBytes)
				}
				for r.Next() {
					rows++
					if err := r.Scan(vals...); err != nil {
						b.Fatal(err)
					}
					for _, v := range vals {
						bytes += len(*v.(*sql.RawBytes))
					}
				}
				if err := r.Err(); err != nil {
					b.Fatal(err)
				}
				r.Close()
				each[i] += time.Since(t0)
			}
			tx.Commit()
			db.Close()
			if warm {
				warm, rows, bytes = false, 0, 0
				clear(each)
				continue
			}
			n++
		}
		myRawPerOp = b.Elapsed() / time.Duration(n)
		b.ReportMetric(float64(rows)/float64(n), "rows/op")
		b.ReportMetric(float64(bytes)/float64(n)/1e6, "MB/op")
		var per []string
		for i, d := range each {
			per = append(per, fmt.Sprintf("#%d %v", i, (d/time.Duration(n)).Round(time.Millisecond)))
		}
		b.Logf("per query (tables, columns, keys, views, table I/O): %s", strings.Join(per, ", "))
	})
	benchCrawls(b, crawler.CrawlMySQL, dsn, want, &myRawPerOp, logSetup)
	// The views' definitions as the server prints them, parsed against the
	// tables' columns, as a crawl does.
	b.Run("parse-views", func(b *testing.B) {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = mysqltest.User, mysqltest.Password, "tcp", my.Addr(), myBenchDB
		connector, _ := mysql.NewConnector(cfg)
		db := sql.OpenDB(connector)
		defer db.Close()
		var defs []string
		r, err := db.QueryContext(ctx, "SELECT VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?", myBenchDB)
		if err != nil {
			b.Fatal(err)
		}
		for r.Next() {
			var d string
			r.Scan(&d)
			defs = append(defs, d)
		}
		r.Close()
		columns := map[[2]string][]string{}
		names := make([]string, len(myBenchColumns))
		for i, c := range myBenchColumns {
			names[i], _, _ = strings.Cut(c, " ")
		}
		for i := range benchTables {
			columns[[2]string{myBenchDB, myBenchTable(i)}] = names
		}
		parse := crawler.ParseMySQLViews(myBenchDB, defs, columns)
		for b.Loop() {
			if n := parse(); n != len(defs) {
				b.Fatalf("%d of %d views parsed", n, len(defs))
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/float64(len(defs))*1e6, "µs/view")
	})
}

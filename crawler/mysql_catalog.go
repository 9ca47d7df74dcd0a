package crawler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// The catalog queries: a handful of set-based reads of information_schema
// per crawl, for every crawled database at once, never one per table.
// None reads table data. KEY_COLUMN_USAGE alone names every primary key,
// unique key and foreign key (MySQL lists no other constraint there), so
// TABLE_CONSTRAINTS is not joined in: on MariaDB each information_schema
// table is built by opening every table, and a join would build two.

const myQueryDatabases = `SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME`

const myQueryTables = `
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, coalesce(ENGINE, ''), TABLE_ROWS,
       DATA_LENGTH + INDEX_LENGTH, CREATE_TIME, UPDATE_TIME, coalesce(TABLE_COMMENT, ''),
       coalesce(TABLE_COLLATION, ''), coalesce(CREATE_OPTIONS, '')
FROM information_schema.TABLES
WHERE TABLE_SCHEMA IN (%s) AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW')
ORDER BY TABLE_SCHEMA, TABLE_NAME`

const myQueryColumns = `
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,
       coalesce(CHARACTER_SET_NAME, ''), coalesce(COLLATION_NAME, ''), EXTRA, coalesce(GENERATION_EXPRESSION, ''), COLUMN_COMMENT
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA IN (%s)
ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`

const myQueryKeys = `
SELECT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME,
       coalesce(REFERENCED_TABLE_SCHEMA, ''), coalesce(REFERENCED_TABLE_NAME, ''), coalesce(REFERENCED_COLUMN_NAME, '')
FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA IN (%s)
ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME IS NULL, ORDINAL_POSITION`

// Run only when a table is partitioned (CREATE_OPTIONS says so), and only
// for those tables' databases.
const myQueryPartitions = `
SELECT TABLE_SCHEMA, TABLE_NAME, PARTITION_NAME, coalesce(SUBPARTITION_NAME, '')
FROM information_schema.PARTITIONS
WHERE TABLE_SCHEMA IN (%s) AND PARTITION_NAME IS NOT NULL
ORDER BY TABLE_SCHEMA, TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION`

const myQueryViews = `
SELECT TABLE_SCHEMA, TABLE_NAME, coalesce(VIEW_DEFINITION, '')
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA IN (%s)`

// The columns of relations in databases the crawl does not cover that its
// views may read, so that their lineage resolves (names only).
const myQueryOutsideColumns = `
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA IN (%s)
ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`

// MySQL 8.0.13+ only.
const myQueryViewUsage = `
SELECT VIEW_SCHEMA, VIEW_NAME, TABLE_SCHEMA, TABLE_NAME
FROM information_schema.VIEW_TABLE_USAGE
WHERE VIEW_SCHEMA IN (%s)`

// Where performance_schema is on and the account may read it; otherwise
// the query fails or finds nothing, and the crawl goes on without it.
const myQueryIO = `
SELECT OBJECT_SCHEMA, OBJECT_NAME, COUNT_INSERT, COUNT_UPDATE, COUNT_DELETE, COUNT_READ, COUNT_WRITE
FROM performance_schema.table_io_waits_summary_by_table
WHERE OBJECT_TYPE = 'TABLE' AND OBJECT_SCHEMA IN (%s)`

type myTable struct {
	schema, name, typ, engine, comment, collation, options string
	rows, bytes                                            sql.NullInt64
	created, updated                                       sql.NullTime
	columns                                                []myColumn
	keys                                                   []*myKey
	partitions                                             []string
	definition                                             string
	lineage                                                *viewLineage // nil: a table, or a view whose SQL did not parse
	io                                                     *[3]int64    // inserts, updates, deletes
}

func (t *myTable) isView() bool   { return t.typ == "VIEW" }
func (t *myTable) key() [2]string { return [2]string{t.schema, t.name} }
func (t *myTable) partitioned() bool {
	return strings.Contains(strings.ToLower(t.options), "partitioned")
}

type myColumn struct {
	name, typ, charset, collation, extra, genExpr, comment string
	ordinal                                                int
	nullable                                               bool
	def                                                    sql.NullString
	mariadbNull                                            bool // COLUMN_DEFAULT "NULL" means NULL (MariaDB 10.2.7+ quotes literals)
}

type myKey struct {
	name                string
	cols                []string
	refSchema, refTable string
	refCols             []string
}

// myCatalog is what one crawl read of the server.
type myCatalog struct {
	version   string
	mariadb   bool
	databases []string
	tables    map[[2]string]*myTable
	order     []*myTable
	outside   map[[2]string]*myTable    // relations of other databases the views read: columns only
	usage     map[[2]string][][2]string // view -> relations, from VIEW_TABLE_USAGE
	unparsed  int                       // views whose SQL did not parse
	use       *myUsage                  // nil: not read
	parse     viewParser
}

// readMySQL connects, opens a read-only transaction under the statement
// and lock time limits, and runs the catalog queries.
func readMySQL(ctx context.Context, cfg *mysql.Config, o *Options) (*myCatalog, error) {
	db, conn, err := mysqlConnect(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()
	cat := &myCatalog{tables: map[[2]string]*myTable{}, parse: o.parseView}
	if cat.parse == nil {
		cat.parse = parseViewDefinition
	}
	qctx, cancel := withTimeout(ctx, o.QueryTimeout, "setting up the session")
	defer cancel()
	if err := conn.QueryRowContext(qctx, "SELECT VERSION()").Scan(&cat.version); err != nil {
		return nil, timedOut(qctx, fmt.Errorf("read the server's version: %w", err))
	}
	cat.mariadb = strings.Contains(strings.ToLower(cat.version), "mariadb")
	// The server's own limits, for every statement of the session; the
	// deadlines counted here back them up (a frozen server enforces none).
	settings := []string{"SET SESSION lock_wait_timeout = " + strconv.Itoa(max(1, int(o.LockTimeout.Round(time.Second)/time.Second)))}
	if cat.mariadb {
		settings = append(settings, "SET SESSION max_statement_time = "+strconv.FormatFloat(o.StatementTimeout.Seconds(), 'f', 3, 64))
	} else {
		settings = append(settings, "SET SESSION max_execution_time = "+strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10))
		if versionAtLeast(cat.version, 8, 0, 3) {
			// Otherwise MySQL 8 answers TABLE_ROWS and UPDATE_TIME from a cache up to a day old.
			settings = append(settings, "SET SESSION information_schema_stats_expiry = 0")
		}
	}
	for _, s := range settings {
		if _, err := conn.ExecContext(qctx, s); err != nil {
			if myErr, ok := errors.AsType[*mysql.MySQLError](err); ok && myErr.Number == 1193 {
				continue // an older server without the variable: the deadlines counted here still hold
			}
			return nil, timedOut(qctx, fmt.Errorf("set %s: %w", strings.TrimPrefix(s, "SET SESSION "), err))
		}
	}
	tx, err := conn.BeginTx(qctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, timedOut(qctx, fmt.Errorf("begin read-only transaction: %w", err))
	}
	defer tx.Rollback()

	if o.AllDatabases {
		err = myQuery(ctx, tx, o, "databases", myQueryDatabases, nil, func(rows *sql.Rows) error {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			if !mysqlSystemSchema(name) && o.inScope(name) {
				cat.databases = append(cat.databases, name)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	} else if !mysqlSystemSchema(cfg.DBName) && o.inScope(cfg.DBName) {
		cat.databases = []string{cfg.DBName}
	}
	progress := Progress{Database: cfg.DBName, Phase: "catalog", Total: 6}
	if o.AllDatabases {
		progress.Database = "(all)"
	}
	step := func() {
		progress.Done++
		o.progress(progress)
	}
	o.progress(progress)
	if len(cat.databases) == 0 {
		return cat, nil
	}
	in, args := placeholders(cat.databases)
	withIn := func(q string) string { return fmt.Sprintf(q, in) }

	err = myQuery(ctx, tx, o, "tables", withIn(myQueryTables), args, func(rows *sql.Rows) error {
		t := &myTable{}
		if err := rows.Scan(&t.schema, &t.name, &t.typ, &t.engine, &t.rows, &t.bytes, &t.created, &t.updated, &t.comment, &t.collation, &t.options); err != nil {
			return err
		}
		cat.tables[t.key()] = t
		cat.order = append(cat.order, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	step()
	err = myQuery(ctx, tx, o, "columns", withIn(myQueryColumns), args, func(rows *sql.Rows) error {
		var schema, table, nullable string
		c := myColumn{mariadbNull: cat.mariadb}
		if err := rows.Scan(&schema, &table, &c.name, &c.ordinal, &c.typ, &nullable, &c.def, &c.charset, &c.collation, &c.extra, &c.genExpr, &c.comment); err != nil {
			return err
		}
		c.nullable = nullable == "YES"
		if t := cat.tables[[2]string{schema, table}]; t != nil {
			t.columns = append(t.columns, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	step()
	var last *myKey
	err = myQuery(ctx, tx, o, "keys", withIn(myQueryKeys), args, func(rows *sql.Rows) error {
		var schema, table, name, col, refSchema, refTable, refCol string
		if err := rows.Scan(&schema, &table, &name, &col, &refSchema, &refTable, &refCol); err != nil {
			return err
		}
		t := cat.tables[[2]string{schema, table}]
		if t == nil {
			return nil
		}
		// A unique key and a foreign key may share a name (MySQL then
		// uses the one for the other): they are two constraints.
		if last == nil || len(t.keys) == 0 || t.keys[len(t.keys)-1] != last || last.name != name || (last.refTable != "") != (refTable != "") {
			last = &myKey{name: name, refSchema: refSchema, refTable: refTable}
			t.keys = append(t.keys, last)
		}
		last.cols = append(last.cols, col)
		if refTable != "" {
			last.refCols = append(last.refCols, refCol)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	step()
	var partitioned []string
	for _, t := range cat.order {
		if t.partitioned() && !containsString(partitioned, t.schema) {
			partitioned = append(partitioned, t.schema)
		}
	}
	if len(partitioned) > 0 {
		pin, pargs := placeholders(partitioned)
		err = myQuery(ctx, tx, o, "partitions", fmt.Sprintf(myQueryPartitions, pin), pargs, func(rows *sql.Rows) error {
			var schema, table, part, sub string
			if err := rows.Scan(&schema, &table, &part, &sub); err != nil {
				return err
			}
			if t := cat.tables[[2]string{schema, table}]; t != nil {
				if sub != "" {
					part += "." + sub
				}
				t.partitions = append(t.partitions, part)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	step()
	err = myQuery(ctx, tx, o, "views", withIn(myQueryViews), args, func(rows *sql.Rows) error {
		var schema, name, def string
		if err := rows.Scan(&schema, &name, &def); err != nil {
			return err
		}
		if t := cat.tables[[2]string{schema, name}]; t != nil {
			t.definition = def
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if others := cat.referencedSchemas(); len(others) > 0 {
		cat.outside = map[[2]string]*myTable{}
		oin, oargs := placeholders(others)
		err = myQuery(ctx, tx, o, "columns outside", fmt.Sprintf(myQueryOutsideColumns, oin), oargs, func(rows *sql.Rows) error {
			var schema, table, col string
			if err := rows.Scan(&schema, &table, &col); err != nil {
				return err
			}
			k := [2]string{schema, table}
			t := cat.outside[k]
			if t == nil {
				t = &myTable{schema: schema, name: table}
				cat.outside[k] = t
			}
			t.columns = append(t.columns, myColumn{name: col})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if !cat.mariadb && versionAtLeast(cat.version, 8, 0, 13) {
		cat.usage = map[[2]string][][2]string{}
		err = myQuery(ctx, tx, o, "view table usage", withIn(myQueryViewUsage), args, func(rows *sql.Rows) error {
			var vs, vn, ts, tn string
			if err := rows.Scan(&vs, &vn, &ts, &tn); err != nil {
				return err
			}
			k := [2]string{vs, vn}
			cat.usage[k] = append(cat.usage[k], [2]string{ts, tn})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	step()
	// Change counters: optional. A failure here (performance_schema off,
	// or not readable by the account) is not the crawl's failure.
	// Usage's row reads and writes come with them: on MariaDB this
	// summary takes seconds at 10,000 tables (BenchmarkUsageMySQL), too
	// much to read twice.
	io := map[[2]string][2]int64{}
	ioErr := myQuery(ctx, tx, o, "table I/O counters", withIn(myQueryIO), args, func(rows *sql.Rows) error {
		var schema, name string
		var c [3]int64
		var reads, writes int64
		if err := rows.Scan(&schema, &name, &c[0], &c[1], &c[2], &reads, &writes); err != nil {
			return err
		}
		if t := cat.tables[[2]string{schema, name}]; t != nil && !t.isView() {
			t.io = &c
		}
		io[[2]string{schema, name}] = [2]int64{reads, writes}
		return nil
	})
	if ioErr != nil {
		if _, ok := errors.AsType[*TimeoutError](ioErr); ok || ctx.Err() != nil {
			return nil, ioErr
		}
		for _, t := range cat.order {
			t.io = nil
		}
	}
	step()
	if !o.NoUsage {
		if err := cat.readUsage(ctx, tx, o, io, ioErr); err != nil {
			return nil, err
		}
	}
	cat.parseViews()
	return cat, nil
}

// myQuery runs one catalog query under QueryTimeout and scans its rows.
func myQuery(ctx context.Context, tx *sql.Tx, o *Options, name, q string, args []any, scan func(*sql.Rows) error) error {
	ctx, cancel := withTimeout(ctx, o.QueryTimeout, "the catalog query "+name)
	defer cancel()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return timedOut(ctx, fmt.Errorf("catalog query %s: %w", name, err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return timedOut(ctx, fmt.Errorf("catalog query %s: %w", name, err))
		}
	}
	if err := rows.Err(); err != nil {
		return timedOut(ctx, fmt.Errorf("catalog query %s: %w", name, err))
	}
	if err := rows.Close(); err != nil {
		return timedOut(ctx, fmt.Errorf("catalog query %s: %w", name, err))
	}
	return nil
}

func placeholders(values []string) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?,", len(values)), ","), args
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

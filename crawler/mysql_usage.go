package crawler

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"time"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/quarrydata/quarry"
)

// MySQL and MariaDB usage (see usage.go), from performance_schema: the
// table I/O summary counts row reads and row writes (a read is a row
// fetched, so a scan of a 1,000-row table is about a thousand), and the
// digest summary counts normalized statements per default database. The
// digests name no user (the server keeps none per digest), so MySQL usage
// has queries and calls but no users. Digest texts are parsed with the
// MySQL crawler's grammar (vitess's sqlparser, as crawler/viewsql).

const myQueryDigests = `
SELECT coalesce(SCHEMA_NAME, ''), DIGEST, DIGEST_TEXT, COUNT_STAR, SUM_TIMER_WAIT
FROM performance_schema.events_statements_summary_by_digest
WHERE DIGEST IS NOT NULL AND DIGEST_TEXT IS NOT NULL`

// myUsage is what a crawl read of the server's usage statistics, before
// it is split by database.
type myUsage struct {
	available bool
	reason    string
	io        map[[2]string][2]int64 // schema, table -> row reads, row writes
	digests   []myDigest
	took      time.Duration
	mu        sync.Mutex
	parser    *sqlparser.Parser
	parsed    map[string]parsedDigest // by text: a digest of several databases is parsed once
}

type parsedDigest struct {
	reads, writes []TableName
	err           error
}

// parse finds the tables of a digest's text, once per text.
func (u *myUsage) parse(text string) ([]TableName, []TableName, error) {
	u.mu.Lock()
	if p, ok := u.parsed[text]; ok {
		u.mu.Unlock()
		return p.reads, p.writes, p.err
	}
	if u.parser == nil {
		p, err := newDigestParser()
		if err != nil {
			u.mu.Unlock()
			return nil, nil, err
		}
		u.parser, u.parsed = p, map[string]parsedDigest{}
	}
	parser := u.parser
	u.mu.Unlock()
	r, w, err := mysqlStatementTables(parser, text) // a Parser parses concurrently
	u.mu.Lock()
	u.parsed[text] = parsedDigest{r, w, err}
	u.mu.Unlock()
	return r, w, err
}

type myDigest struct {
	schema, digest, text string
	calls                int64
	totalMs              float64
}

// readUsage reads the usage statistics in the catalog's transaction (a
// failed query does not end a MySQL transaction), with the table I/O
// summary the catalog read (io, or its error ioErr). performance_schema
// off or unreadable makes usage not available; only a timeout or a
// cancellation fails the crawl.
func (cat *myCatalog) readUsage(ctx context.Context, tx *sql.Tx, o *Options, io map[[2]string][2]int64, ioErr error) error {
	u := &myUsage{io: io}
	cat.use = u
	start := time.Now()
	defer func() { u.took = time.Since(start) }()
	var on sql.NullInt64
	err := myQuery(ctx, tx, o, "performance_schema", "SELECT @@performance_schema", nil, func(rows *sql.Rows) error {
		return rows.Scan(&on)
	})
	if err != nil && fatal(ctx, err) {
		return err
	}
	if err != nil || on.Int64 != 1 {
		u.reason = "performance_schema is off on the server (start it with performance_schema=ON): usage is not available"
		return nil
	}
	if ioErr != nil {
		u.reason = "performance_schema's table I/O summary could not be read: " + ioErr.Error()
		return nil
	}
	u.available = true
	err = myQuery(ctx, tx, o, "statement digests", myQueryDigests, nil, func(rows *sql.Rows) error {
		var d myDigest
		var ps uint64
		if err := rows.Scan(&d.schema, &d.digest, &d.text, &d.calls, &ps); err != nil {
			return err
		}
		if mysqlSystemSchema(d.schema) {
			return nil
		}
		d.text = strings.TrimSpace(d.text)
		d.totalMs = float64(ps) / 1e9 // picoseconds
		u.digests = append(u.digests, d)
		return nil
	})
	if err != nil {
		if fatal(ctx, err) {
			return err
		}
		u.digests = nil
		u.reason = "performance_schema's statement digests could not be read: " + err.Error() + ": queries are not available"
	}
	return nil
}

// attachUsage gives each database's snapshot its part of the usage read:
// its tables' counters and the statements that touch them.
func (cat *myCatalog) attachUsage(ns string, snaps []*snapshot) {
	u := cat.use
	if u == nil {
		return
	}
	for _, snap := range snaps {
		r := &usageRead{available: u.available, reason: u.reason, tables: map[string][2]int64{}, statements: map[string]*stmtRead{}}
		if snap == snaps[0] {
			r.took = u.took // read once for all the databases
		}
		snap.usage = r
		ids := snap.datasetIDs(ns)
		r.known = ids
		lower := map[string]string{} // for servers with case-insensitive names
		for name, id := range ids {
			lower[strings.ToLower(name)] = id
		}
		idOf := func(n TableName, schema string) string {
			if n.Schema != "" {
				schema = n.Schema
			}
			if schema != snap.database {
				return ""
			}
			if id := ids[schema+"."+n.Name]; id != "" {
				return id
			}
			return lower[strings.ToLower(schema+"."+n.Name)]
		}
		for k, c := range u.io {
			if id := idOf(TableName{k[0], k[1]}, ""); id != "" {
				r.tables[id] = c
			}
		}
		for _, d := range u.digests {
			r.statements[d.schema+"\x00"+d.digest] = &stmtRead{text: d.text, calls: d.calls, totalMs: d.totalMs,
				tables: func() (ids, wids []string) {
					reads, writes, err := u.parse(d.text)
					if err != nil {
						return nil, nil
					}
					for _, n := range reads {
						ids = appendID(ids, idOf(n, d.schema))
					}
					for _, n := range writes {
						wids = appendID(wids, idOf(n, d.schema))
					}
					return ids, wids
				}}
		}
	}
}

// MySQLStatementTables parses one MySQL or MariaDB statement (a digest's
// text: "?" for literals, "(...)" for lists) and returns the tables it
// reads and those it writes (INSERT, REPLACE, UPDATE and DELETE targets).
// Names of the statement's own CTEs are not tables.
func MySQLStatementTables(text string) (reads, writes []TableName, err error) {
	p, err := newDigestParser()
	if err != nil {
		return nil, nil, err
	}
	return mysqlStatementTables(p, text)
}

func newDigestParser() (*sqlparser.Parser, error) {
	return sqlparser.New(sqlparser.Options{MySQLServerVersion: "8.0.30"})
}

func mysqlStatementTables(p *sqlparser.Parser, text string) (reads, writes []TableName, err error) {
	// Only data statements: the grammar logs a warning for every DDL it
	// cannot read, and DDL reads and writes no rows.
	verb, _, _ := strings.Cut(strings.TrimLeft(text, "( "), " ")
	switch strings.ToUpper(verb) {
	case "SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE", "WITH", "TABLE":
	default:
		return nil, nil, nil
	}
	stmt, err := parseDigest(p, digestSQL(text))
	if err != nil {
		return nil, nil, err
	}
	ctes := map[string]bool{}
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if c, ok := n.(*sqlparser.CommonTableExpr); ok {
			ctes[c.ID.String()] = true
		}
		return true, nil
	}, stmt)
	seenR, seenW := map[TableName]bool{}, map[TableName]bool{}
	name := func(t sqlparser.TableName) (TableName, bool) {
		n := TableName{Schema: t.Qualifier.String(), Name: t.Name.String()}
		return n, n.Name != "" && !(n.Schema == "" && ctes[n.Name])
	}
	write := func(t sqlparser.TableName) {
		if n, ok := name(t); ok && !seenW[n] {
			seenW[n] = true
			writes = append(writes, n)
		}
	}
	targets := func(exprs sqlparser.TableExprs) {
		for _, te := range exprs {
			_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
				if t, ok := n.(sqlparser.TableName); ok {
					write(t)
				}
				if _, ok := n.(*sqlparser.Subquery); ok {
					return false, nil
				}
				return true, nil
			}, te)
		}
	}
	switch s := stmt.(type) {
	case *sqlparser.Insert:
		if t, err := s.Table.TableName(); err == nil {
			write(t)
		}
	case *sqlparser.Update:
		targets(s.TableExprs[:1])
	case *sqlparser.Delete:
		if len(s.Targets) > 0 {
			for _, t := range s.Targets {
				write(t)
			}
		} else {
			targets(s.TableExprs)
		}
	}
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if a, ok := n.(*sqlparser.AliasedTableExpr); ok {
			if t, ok := a.Expr.(sqlparser.TableName); ok {
				if n, ok := name(t); ok && !seenW[n] && !seenR[n] {
					seenR[n] = true
					reads = append(reads, n)
				}
			}
		}
		return true, nil
	}, stmt)
	return reads, writes, nil
}

// parseDigest runs the grammar, which panics on some malformed input
// (see viewsql's parse).
func parseDigest(p *sqlparser.Parser, text string) (stmt sqlparser.Statement, err error) {
	defer func() {
		if v := recover(); v != nil {
			stmt, err = nil, quarry.Errorf(quarry.EINVALID, "statement does not parse (the grammar failed: %v)", v)
		}
	}()
	return p.Parse(text)
}

// digestSQL makes a digest's text SQL again: the server writes "..." for
// the rest of a list ("( ? , ... )", "(...)", "VALUES (...) , (...)").
func digestSQL(text string) string {
	text = strings.ReplaceAll(text, ", ...", "")
	return strings.ReplaceAll(text, "...", "?")
}

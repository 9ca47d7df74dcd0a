package crawler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL usage (see usage.go). Reads are scans (sequential and
// index), writes rows inserted, updated and deleted, from the catalog's
// read of pg_stat_user_tables. Statements are parsed with pg_query_go,
// PostgreSQL's own parser (libpg_query, through cgo): a normalized
// statement ($1 for literals) parses as the server parsed it, every
// dialect feature included. It costs a C compiler at build time (about a
// minute cold, cached after) and nothing at run time but the parse; the
// pure-Go grammars (cockroachdb's, a fork of it) lag PostgreSQL's syntax
// and are larger to link.

const pgQueryStatementsSchema = `
SELECT n.nspname, current_setting('server_version_num')::int
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'`

// pgQueryStatements reads this database's statements of roles other than
// the crawler's. %s: the extension's schema; %s: the time column (renamed
// in 13); %s: the top-level filter (14+).
const pgQueryStatements = `
SELECT coalesce(s.queryid, 0)::text, r.rolname, s.query, s.calls, s.%s
FROM %s.pg_stat_statements s
JOIN pg_roles r ON r.oid = s.userid
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND r.rolname <> current_user %s`

// readPgUsage reads a database's usage statistics into snap. What the
// server does not keep, or the role may not read, makes usage not
// available with a reason; only a timeout or a cancellation fails the
// crawl.
func readPgUsage(ctx context.Context, conn *pgx.Conn, cat *pgCatalog, snap *snapshot, ns string, o *Options) error {
	u := &usageRead{tables: map[string][2]int64{}, statements: map[string]*stmtRead{}}
	snap.usage = u
	start := time.Now()
	defer func() { u.took = time.Since(start) }()
	ids := snap.datasetIDs(ns)
	u.known = ids
	idOf := func(r *pgRelation) string {
		if r == nil {
			return ""
		}
		r = cat.root(r) // a partition's use is its table's
		return ids[snap.database+"."+r.schema+"."+r.name]
	}
	// The table counters come with the catalog (queryStats), in its
	// snapshot. A partitioned table's own are the sums snapshot made of its
	// partitions': the leaves are counted instead, into their root.
	for _, r := range cat.relations {
		if r.stats == nil || r.kind == "p" {
			continue
		}
		if r.stats.scans == 0 && r.stats.ins+r.stats.upd+r.stats.del == 0 {
			continue // no baseline entry is the same as zeros, and smaller
		}
		if id := idOf(r); id != "" {
			c := u.tables[id]
			u.tables[id] = [2]int64{c[0] + r.stats.scans, c[1] + r.stats.ins + r.stats.upd + r.stats.del}
		}
	}
	u.available = true

	var schema string
	var version int
	err := pgUsageQuery(ctx, conn, o, "pg_stat_statements", pgQueryStatementsSchema, func(rows pgx.Rows) error {
		return rows.Scan(&schema, &version)
	})
	if err != nil && fatal(ctx, err) {
		return err
	}
	if schema == "" {
		u.reason = fmt.Sprintf("pg_stat_statements is not installed in database %s (shared_preload_libraries = 'pg_stat_statements', then CREATE EXTENSION pg_stat_statements): users and queries are not available", snap.database)
		return nil
	}
	timeCol, top := "total_exec_time", "AND s.toplevel"
	if version < 130000 {
		timeCol = "total_time"
	}
	if version < 140000 {
		top = ""
	}
	byName := cat.relationsByName()
	hidden := 0
	q := fmt.Sprintf(pgQueryStatements, timeCol, pgx.Identifier{schema}.Sanitize(), top)
	err = pgUsageQuery(ctx, conn, o, "pg_stat_statements", q, func(rows pgx.Rows) error {
		var queryID, user, text string
		var calls int64
		var ms float64
		if err := rows.Scan(&queryID, &user, &text, &calls, &ms); err != nil {
			return err
		}
		if text == "<insufficient privilege>" {
			hidden++
			return nil
		}
		u.statements[user+"\x00"+queryID] = &stmtRead{user: user, text: text, calls: calls, totalMs: ms,
			tables: func() (ids, wids []string) {
				reads, writes, err := PostgresStatementTables(text)
				if err != nil {
					return nil, nil // what the parser cannot read touches nothing we know
				}
				for _, n := range reads {
					ids = appendID(ids, idOf(byName.resolve(n, user)))
				}
				for _, n := range writes {
					wids = appendID(wids, idOf(byName.resolve(n, user)))
				}
				return ids, wids
			}}
		return nil
	})
	if err != nil {
		if fatal(ctx, err) {
			return err
		}
		u.reason = "pg_stat_statements could not be read: " + pgMessage(err) + ": users and queries are not available"
		u.statements = map[string]*stmtRead{}
		return nil
	}
	if hidden > 0 {
		u.reason = fmt.Sprintf("the crawler's role may not read %d statements of other roles (grant it pg_read_all_stats): their users and queries are left out", hidden)
	}
	return nil
}

func appendID(ids []string, id string) []string {
	if id == "" {
		return ids
	}
	for _, have := range ids {
		if have == id {
			return ids
		}
	}
	return append(ids, id)
}

// fatal reports whether a usage query's error ends the crawl: the
// crawl's time ran out or it was cancelled. Anything else only makes
// usage unavailable.
func fatal(ctx context.Context, err error) bool {
	_, timeout := errors.AsType[*TimeoutError](err)
	return timeout || ctx.Err() != nil
}

func pgMessage(err error) string {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Message
	}
	return err.Error()
}

// pgUsageQuery runs one usage query under QueryTimeout, outside the
// catalog's transaction (an error there would end it), in the session's
// read-only mode.
func pgUsageQuery(ctx context.Context, conn *pgx.Conn, o *Options, name, sql string, scan func(pgx.Rows) error) error {
	ctx, cancel := withTimeout(ctx, o.QueryTimeout, "the usage query "+name)
	defer cancel()
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return timedOut(ctx, fmt.Errorf("usage query %s: %w", name, err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return timedOut(ctx, fmt.Errorf("usage query %s: %w", name, err))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return timedOut(ctx, fmt.Errorf("usage query %s: %w", name, err))
	}
	return nil
}

// TableName is a relation a statement names: Schema is "" when the
// statement left it to the search path (PostgreSQL) or the session's
// database (MySQL).
type TableName struct{ Schema, Name string }

// pgNames finds relations by name for statements' unqualified names.
type pgNames map[string][]*pgRelation

func (cat *pgCatalog) relationsByName() pgNames {
	m := pgNames{}
	for _, r := range cat.relations {
		m[r.name] = append(m[r.name], r)
	}
	return m
}

// resolve finds the relation a statement's name means: a qualified name
// exactly; an unqualified one as the default search path would ("$user",
// then public), else the one relation of that name.
func (m pgNames) resolve(n TableName, user string) *pgRelation {
	cands := m[n.Name]
	if n.Schema != "" {
		for _, r := range cands {
			if r.schema == n.Schema {
				return r
			}
		}
		return nil
	}
	for _, schema := range []string{user, "public"} {
		for _, r := range cands {
			if r.schema == schema {
				return r
			}
		}
	}
	var only *pgRelation
	for _, r := range cands {
		if pgSystemSchema(r.schema) {
			continue
		}
		if only != nil {
			return nil // ambiguous: never guess
		}
		only = r
	}
	if only != nil && strings.HasPrefix(only.schema, "pg_") {
		return nil
	}
	return only
}

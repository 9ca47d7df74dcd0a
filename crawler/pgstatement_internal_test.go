package crawler

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// TestPostgresStatementTablesAgreesWithMapWalk: the one-pass reader of
// the parse tree finds what the walk over the tree decoded into Go maps
// found, which it replaced for speed, on statements of every shape the
// rules name (and names that need JSON escapes).
func TestPostgresStatementTablesAgreesWithMapWalk(t *testing.T) {
	stmts := []string{
		"SELECT * FROM film f JOIN public.actor a ON true WHERE $1 = 1",
		"WITH x AS (SELECT * FROM film) SELECT * FROM x JOIN s.x ON true",
		"WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT n FROM r, t WHERE false) SELECT * FROM r",
		"INSERT INTO rental (a) SELECT a FROM inventory",
		"INSERT INTO rental (a) SELECT a FROM rental",
		"INSERT INTO s.t (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET x = (SELECT max(x) FROM u)",
		"UPDATE film SET title = $1 FROM language l WHERE l.id = film.language_id",
		"UPDATE film SET title = $1 FROM film f2 WHERE f2.id = film.id RETURNING *",
		"DELETE FROM payment WHERE customer_id IN (SELECT id FROM customer)",
		"DELETE FROM payment USING customer c WHERE c.id = payment.customer_id",
		"MERGE INTO tgt t USING src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v)",
		"COPY film FROM STDIN",
		"COPY film TO STDOUT",
		"COPY (SELECT * FROM film JOIN actor USING (id)) TO STDOUT",
		"CREATE TABLE t (x int)",
		"CREATE TABLE t AS SELECT * FROM film",
		"ALTER TABLE film ADD COLUMN y int",
		"CREATE INDEX ON film (title)",
		"TRUNCATE film, actor",
		"LOCK TABLE film",
		"SELECT 1",
		"SELECT * FROM \"We\"\"ird\".\"tab\\le\" JOIN \"ünï\" ON true",
		"SELECT * FROM a; INSERT INTO b SELECT * FROM c; DELETE FROM d",
		"SELECT (SELECT count(*) FROM x.y) FROM z WHERE EXISTS (SELECT 1 FROM w WHERE w.a = z.a)",
		"WITH up AS (UPDATE film SET x = 1 RETURNING *) INSERT INTO log SELECT * FROM up",
		"SELECT * FROM generate_series(1, 3) g, LATERAL (SELECT * FROM film WHERE id = g) f",
		"EXPLAIN SELECT * FROM film",
		"CREATE VIEW v AS SELECT * FROM film",
		"REFRESH MATERIALIZED VIEW mv",
		"VACUUM film",
	}
	for i := range 300 {
		stmts = append(stmts, fmt.Sprintf("SELECT a.name, b.status FROM s%02d.t%05d a JOIN t%05d b ON b.id = a.ref_id WHERE a.id = $1", i%7, i, i*7))
	}
	for _, sql := range stmts {
		r, w, err := PostgresStatementTables(sql)
		mr, mw, merr := mapWalkStatementTables(sql)
		if (err != nil) != (merr != nil) || !sameNames(r, mr) || !sameNames(w, mw) {
			t.Errorf("%q: reads %v writes %v (%v); the map walk found %v, %v (%v)", sql, r, w, err, mr, mw, merr)
		}
	}
}

func sameNames(a, b []TableName) bool {
	key := func(n TableName) string { return n.Schema + "." + n.Name }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, n := range a {
		ka[i] = key(n)
	}
	for i, n := range b {
		kb[i] = key(n)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// mapWalkStatementTables is the walk PostgresStatementTables replaced: it parses one PostgreSQL statement (normalized or
// not; several separated by ";" too) and returns the relations it reads
// and those it writes (INSERT, UPDATE, DELETE, MERGE, COPY FROM targets;
// a target that is also read, as by UPDATE ... FROM itself, is both).
// Names of the statement's own CTEs are not relations.
func mapWalkStatementTables(sql string) (reads, writes []TableName, err error) {
	js, err := pg_query.ParseToJSON(sql)
	if err != nil {
		return nil, nil, err
	}
	var tree any
	if err := json.Unmarshal([]byte(js), &tree); err != nil {
		return nil, nil, err
	}
	ctes := map[string]bool{}
	collectCTEs(tree, ctes)
	seenR, seenW := map[TableName]bool{}, map[TableName]bool{}
	add := func(m map[string]any, write bool) {
		n := TableName{Schema: str(m["schemaname"]), Name: str(m["relname"])}
		if n.Name == "" || n.Schema == "" && ctes[n.Name] {
			return
		}
		if write && !seenW[n] {
			seenW[n] = true
			writes = append(writes, n)
		} else if !write && !seenR[n] {
			seenR[n] = true
			reads = append(reads, n)
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				m, _ := e.(map[string]any)
				switch {
				case k == "RangeVar" && m != nil:
					add(m, false)
					continue
				case (k == "InsertStmt" || k == "UpdateStmt" || k == "DeleteStmt" || k == "MergeStmt") && m != nil:
					if rel, ok := m["relation"].(map[string]any); ok {
						add(rel, true)
					}
				case k == "CopyStmt" && m != nil:
					if rel, ok := m["relation"].(map[string]any); ok {
						add(rel, m["is_from"] == true)
					}
				case k == "relation":
					continue // a DML target, counted above; in DDL, not a read
				}
				walk(e)
			}
		}
	}
	walk(tree)
	return reads, writes, nil
}

func collectCTEs(v any, into map[string]bool) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			collectCTEs(e, into)
		}
	case map[string]any:
		if c, ok := v["CommonTableExpr"].(map[string]any); ok {
			into[str(c["ctename"])] = true
		}
		for _, e := range v {
			collectCTEs(e, into)
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

package crawler

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// The tables a PostgreSQL statement names, from libpg_query's parse tree
// as JSON. The C parse takes a few microseconds; decoding its JSON into
// Go maps (encoding/json into any) took eight times that, and was most of
// a crawl's usage when thousands of new statements ran. So the tree is
// read in one pass over the JSON text, keeping only what the walk needs:
// relation names (RangeVar, DML targets), COPY's direction and CTE names.
// The rules are those of the map walk it replaces (its copy in
// pgstatement_internal_test.go checks that both agree):
//
//   - a RangeVar is a read, and nothing under it is walked;
//   - an INSERT, UPDATE, DELETE or MERGE writes its "relation"; COPY writes
//     it when it copies FROM, else reads it;
//   - any other "relation" member is not walked (in DDL it is no read);
//   - a name without schema that is a CTE of the statement is no relation.

// PostgresStatementTables parses one PostgreSQL statement (normalized or
// not; several separated by ";" too) and returns the relations it reads
// and those it writes (INSERT, UPDATE, DELETE, MERGE, COPY FROM targets;
// a target that is also read, as by UPDATE ... FROM itself, is both).
// Names of the statement's own CTEs are not relations.
func PostgresStatementTables(sql string) (reads, writes []TableName, err error) {
	js, err := pg_query.ParseToJSON(sql)
	if err != nil {
		return nil, nil, err
	}
	t := pgTreeReader{s: js}
	t.skipSpace()
	if _, err := t.value("", true); err != nil {
		return nil, nil, fmt.Errorf("pg_query parse tree: %w", err)
	}
	for _, c := range t.found {
		if c.n.Name == "" || c.n.Schema == "" && t.isCTE(c.n.Name) {
			continue
		}
		if c.write {
			writes = appendName(writes, c.n)
		} else {
			reads = appendName(reads, c.n)
		}
	}
	return reads, writes, nil
}

// appendName adds n unless the list has it: statements name few tables,
// so a scan is cheaper than a set.
func appendName(ns []TableName, n TableName) []TableName {
	for _, have := range ns {
		if have == n {
			return ns
		}
	}
	return append(ns, n)
}

// pgTreeReader reads libpg_query's JSON parse tree at s[i:].
type pgTreeReader struct {
	s     string
	i     int
	found []pgFoundName
	ctes  []string
}

type pgFoundName struct {
	n     TableName
	write bool
}

func (t *pgTreeReader) isCTE(name string) bool {
	for _, c := range t.ctes {
		if c == name {
			return true
		}
	}
	return false
}

// pgObject is what the walk keeps of one JSON object: its name members,
// COPY's direction and its "relation" member's names.
type pgObject struct {
	schema, name, cte string
	isFrom            bool
	relation          *TableName
}

var errPgTree = errors.New("malformed JSON")

func (t *pgTreeReader) skipSpace() {
	for t.i < len(t.s) {
		switch t.s[t.i] {
		case ' ', '\t', '\n', '\r':
			t.i++
		default:
			return
		}
	}
}

// value reads the value at t.i, the member key of its object ("" in an
// array or at the top). walk: whether the relations under it count (not
// under a RangeVar or a "relation" member). An object's fields come back
// in obj.
func (t *pgTreeReader) value(key string, walk bool) (obj *pgObject, err error) {
	if t.i >= len(t.s) {
		return nil, errPgTree
	}
	switch c := t.s[t.i]; {
	case c == '{':
		return t.object(key, walk)
	case c == '[':
		t.i++
		t.skipSpace()
		if t.i < len(t.s) && t.s[t.i] == ']' {
			t.i++
			return nil, nil
		}
		for {
			t.skipSpace()
			if _, err := t.value("", walk); err != nil {
				return nil, err
			}
			t.skipSpace()
			if t.i >= len(t.s) {
				return nil, errPgTree
			}
			if t.s[t.i] == ']' {
				t.i++
				return nil, nil
			}
			if t.s[t.i] != ',' {
				return nil, errPgTree
			}
			t.i++
		}
	case c == '"':
		_, err := t.str()
		return nil, err
	default: // a number, true, false or null
		for t.i < len(t.s) {
			switch t.s[t.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return nil, nil
			}
			t.i++
		}
		return nil, nil
	}
}

// object reads the object at t.i, the value of member key.
func (t *pgTreeReader) object(key string, walk bool) (*pgObject, error) {
	o := &pgObject{}
	t.i++ // {
	t.skipSpace()
	if t.i < len(t.s) && t.s[t.i] == '}' {
		t.i++
		return o, nil
	}
	for {
		t.skipSpace()
		if t.i >= len(t.s) || t.s[t.i] != '"' {
			return nil, errPgTree
		}
		k, err := t.str()
		if err != nil {
			return nil, err
		}
		t.skipSpace()
		if t.i >= len(t.s) || t.s[t.i] != ':' {
			return nil, errPgTree
		}
		t.i++
		t.skipSpace()
		if t.i >= len(t.s) {
			return nil, errPgTree
		}
		switch c := t.s[t.i]; {
		case c == '"' && (k == "schemaname" || k == "relname" || k == "ctename"):
			v, err := t.str()
			if err != nil {
				return nil, err
			}
			switch k {
			case "schemaname":
				o.schema = v
			case "relname":
				o.name = v
			default:
				o.cte = v
			}
		case k == "is_from" && strings.HasPrefix(t.s[t.i:], "true"):
			o.isFrom = true
			t.i += len("true")
		default:
			// Under a RangeVar or a "relation" member, nothing is walked
			// (CTE names are still collected: they hide names anywhere).
			childWalk := walk && k != "RangeVar" && k != "relation"
			child, err := t.value(k, childWalk)
			if err != nil {
				return nil, err
			}
			if child != nil {
				t.member(o, k, child, walk)
			}
		}
		t.skipSpace()
		if t.i >= len(t.s) {
			return nil, errPgTree
		}
		if t.s[t.i] == '}' {
			t.i++
			break
		}
		if t.s[t.i] != ',' {
			return nil, errPgTree
		}
		t.i++
	}
	return o, nil
}

// member takes what an object member k, itself an object, means to the
// object o holding it and to the statement.
func (t *pgTreeReader) member(o *pgObject, k string, child *pgObject, walk bool) {
	switch k {
	case "relation":
		o.relation = &TableName{Schema: child.schema, Name: child.name}
	case "CommonTableExpr":
		t.ctes = append(t.ctes, child.cte)
	}
	if !walk {
		return
	}
	switch k {
	case "RangeVar":
		t.found = append(t.found, pgFoundName{n: TableName{Schema: child.schema, Name: child.name}})
	case "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt":
		if child.relation != nil {
			t.found = append(t.found, pgFoundName{n: *child.relation, write: true})
		}
	case "CopyStmt":
		if child.relation != nil {
			t.found = append(t.found, pgFoundName{n: *child.relation, write: child.isFrom})
		}
	}
}

// str reads the JSON string at t.i; a string with escapes is decoded by
// encoding/json (names rarely have any).
func (t *pgTreeReader) str() (string, error) {
	start := t.i
	t.i++ // "
	escaped := false
	for t.i < len(t.s) {
		switch t.s[t.i] {
		case '\\':
			escaped = true
			t.i += 2
			continue
		case '"':
			t.i++
			if !escaped {
				return t.s[start+1 : t.i-1], nil
			}
			var v string
			if err := json.Unmarshal([]byte(t.s[start:t.i]), &v); err != nil {
				return "", err
			}
			return v, nil
		}
		t.i++
	}
	return "", errPgTree
}

// Package viewsql derives the lineage of a MySQL or MariaDB view from its
// SQL: the relations it reads, and for each of its columns the columns whose
// values it carries, plus the columns that join, filter, group or sort it.
//
// Neither server records column lineage (MySQL 8.0.13+ has
// VIEW_TABLE_USAGE, which names tables only; MariaDB has nothing), so the
// definition is parsed with vitess's MySQL grammar (vitess.io/vitess's
// sqlparser: pure Go, maintained, and the smaller of the two maintained MySQL
// grammars once linked) and resolved against a Catalog of column names.
//
// Lineage is one hop, as for PostgreSQL views: a view that reads another
// view names that view's columns, not the columns behind it. Derived tables,
// CTEs (recursive ones too), UNION, INTERSECT and EXCEPT branches and
// subqueries are resolved through down to the relations they read.
//
// The package owns no I/O: it neither connects to a server nor reads
// files. Parse never panics: a panic in the grammar or in the resolver is
// recovered and returned as an error, so one odd view cannot end a crawl.
// Parse only reads its Catalog, so several goroutines may call it at once
// with one Catalog that is safe to read concurrently.
//
// Limits, each an error (the caller keeps table edges): what vitess's
// grammar lacks, such as VALUES table constructors and MariaDB's
// GROUP_CONCAT used as a window function (INTERSECT and EXCEPT it lacks
// too, but they are rewritten to UNION first: see setops.go); relations
// the Catalog does not hold, such as information_schema tables; an unknown
// or ambiguous column. Unquoted aliases that are keywords to vitess but
// not to MySQL (AS now) fail in hand-written CREATE VIEW statements; the
// servers' printed forms quote every name.
package viewsql

import (
	"errors"
	"fmt"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/quarrydata/quarry"
)

// Catalog gives the columns of the tables and views a definition may name,
// in order.
type Catalog interface {
	Columns(schema, table string) ([]string, bool)
}

// Speller is what a Catalog may also implement when the server's table
// names are case-insensitive (lower_case_table_names 1 or 2): given a name
// Columns did not know in the case written, it returns the catalog's
// spelling of it. Without it, names must match the catalog's case exactly,
// which is what the server prints in VIEW_DEFINITION.
type Speller interface {
	Spell(schema, table string) (Relation, bool)
}

// Relation is a table or view, spelled as the Catalog spells it.
type Relation struct{ Schema, Name string }

// Transformation values, as the OpenLineage columnLineage facet spells
// type/subtype and as the PostgreSQL view lineage stores them.
const (
	DirectIdentity       = "DIRECT/IDENTITY"       // the view column is this column, unchanged
	DirectTransformation = "DIRECT/TRANSFORMATION" // computed from it (function, operator, CAST, CASE branch...)
	DirectAggregation    = "DIRECT/AGGREGATION"    // computed from it by an aggregate (SUM, GROUP_CONCAT...)
	IndirectJoin         = "INDIRECT/JOIN"         // it is in a join condition (ON, USING, NATURAL)
	IndirectFilter       = "INDIRECT/FILTER"       // WHERE, HAVING, or any column of a subquery used there
	IndirectGroupBy      = "INDIRECT/GROUP_BY"     // GROUP BY
	IndirectSort         = "INDIRECT/SORT"         // ORDER BY
	IndirectWindow       = "INDIRECT/WINDOW"       // a window's PARTITION BY or ORDER BY, for the one view column it computes
	IndirectConditional  = "INDIRECT/CONDITIONAL"  // a CASE or IF condition, for the one view column it decides
)

// ColumnSource is one column of a relation the view reads, and how.
type ColumnSource struct {
	Relation
	Column         string // spelled as the Catalog spells it
	Transformation string // one of the constants above
}

// Lineage is what Parse derives from one view definition.
type Lineage struct {
	// Tables holds every base relation or view the definition reads,
	// deduplicated, in the order the resolver meets them: a CTE's relations
	// when it is first referenced, each FROM clause left to right before
	// the select list, WHERE, GROUP BY, HAVING and ORDER BY of that query.
	Tables []Relation
	// Columns maps a view output column to the columns its values come
	// from: DIRECT/IDENTITY, DIRECT/TRANSFORMATION or DIRECT/AGGREGATION
	// (the strongest along any path: a column both passed through and
	// aggregated is AGGREGATION), and also INDIRECT/CONDITIONAL and
	// INDIRECT/WINDOW for columns that decide this one column's value
	// without being part of it (a CASE WHEN condition, the first argument
	// of IF, a window's PARTITION BY / ORDER BY): OpenLineage records those
	// per field. A column that reads nothing (a constant) has no entry.
	Columns map[string][]ColumnSource
	// Indirect holds the columns that filter, join, group or sort the whole
	// view (INDIRECT/FILTER, JOIN, GROUP_BY, SORT), including those of
	// derived tables, CTEs and subqueries; every column of a subquery used
	// as a condition (WHERE x IN (SELECT ...), EXISTS) counts as FILTER.
	// A column may be here and in Columns.
	Indirect []ColumnSource
	// Output lists the view's columns in order, named as Columns' keys:
	// the CREATE VIEW column list, or each select item's alias, or its
	// column name, or (for an unaliased expression) vitess's print of it,
	// which need not match the server's name: match by position then.
	Output []string
}

// serverVersion decides which /*!NNNNN ... */ version comments are read as
// SQL: all that a MySQL 8.4 server would.
const serverVersion = "8.4.0"

// maxDepth bounds the resolver's recursion (nested subqueries and
// expressions), and maxSteps the work of one Parse (recursive CTEs nested
// in recursive CTEs resolve their branches several times), both far above
// what any real view needs.
const (
	maxDepth = 2000
	maxSteps = 1_000_000
)

// errPanic marks an error made from a panic recovered while resolving: a
// bug here, never a property of the definition.
var errPanic = errors.New("viewsql: internal error")

// Parse reads one view definition — information_schema.VIEWS.VIEW_DEFINITION
// as MySQL 8 or MariaDB 10.x print it (fully qualified, backquoted: select
// `sakila`.`film`.`film_id` AS `FID`,...), or a CREATE VIEW statement as
// written in a .sql file — in defaultSchema, and derives its lineage.
//
// A definition that does not parse, names a relation the Catalog does not
// know, or names a column that is unknown or ambiguous in its scope returns
// an EINVALID *quarry.Error and no lineage: an edge the resolver cannot
// place for certain is never guessed, so the caller falls back to table
// edges. Relations the Catalog cannot know (information_schema, mysql, a
// table function other than JSON_TABLE) are errors too.
func Parse(defaultSchema, definition string, cat Catalog) (l *Lineage, err error) {
	defer func() {
		if p := recover(); p != nil {
			l, err = nil, fmt.Errorf("%w: panic while parsing a view definition: %v", errPanic, p)
		}
	}()
	if cat == nil {
		return nil, quarry.Errorf(quarry.EINVALID, "view definition: no catalog to resolve names against")
	}
	p, err := sqlparser.New(sqlparser.Options{MySQLServerVersion: serverVersion})
	if err != nil {
		return nil, fmt.Errorf("viewsql: %w", err)
	}
	stmt, err := parse(p, rewriteSetOps(definition))
	if err != nil {
		return nil, err
	}
	var (
		sel   sqlparser.TableStatement
		names sqlparser.Columns
	)
	switch st := stmt.(type) {
	case *sqlparser.CreateView:
		sel, names = st.Select, st.Columns
		if q := st.ViewName.Qualifier.String(); q != "" && defaultSchema == "" {
			defaultSchema = q
		}
	case sqlparser.TableStatement:
		sel = st
	default:
		return nil, quarry.Errorf(quarry.EINVALID, "view definition is a %T, not a SELECT or CREATE VIEW", stmt)
	}
	if sel == nil {
		return nil, quarry.Errorf(quarry.EINVALID, "view definition has no SELECT")
	}
	r := newResolver(defaultSchema, cat)
	d, err := r.query(sel, nil)
	if err != nil {
		return nil, err
	}
	if len(names) > 0 {
		if d, err = d.renamed(names, "the view's column list"); err != nil {
			return nil, err
		}
	}
	return r.lineage(d), nil
}

// parse runs the grammar. vitess's parser panics on some malformed input
// (found by FuzzParse: "set````"); that is the definition not parsing, not
// a bug of this package.
func parse(p *sqlparser.Parser, sql string) (stmt sqlparser.Statement, err error) {
	defer func() {
		if v := recover(); v != nil {
			stmt, err = nil, quarry.Errorf(quarry.EINVALID, "view definition does not parse (the grammar failed: %v)", v)
		}
	}()
	stmt, err = p.Parse(sql)
	if err != nil {
		return nil, quarry.Errorf(quarry.EINVALID, "view definition does not parse: %v", err)
	}
	return stmt, nil
}

// invalid is the error for a definition the resolver cannot place.
func invalid(format string, args ...any) error {
	return quarry.Errorf(quarry.EINVALID, "view definition: "+format, args...)
}

package viewsql_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/quarrydata/quarry/crawler/viewsql"
)

// fixture returns the path of a file under /work/shared/fixtures, reached
// as ../shared from the repository root.
func fixture(tb testing.TB, rel string) string {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	p := filepath.Join(root, "..", "shared", "fixtures", rel)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("fixture %s: %v (the fixtures live in ../shared/fixtures beside the repository)", rel, err)
	}
	return p
}

// catalog is a Catalog read from CREATE TABLE and CREATE VIEW statements.
type catalog map[viewsql.Relation][]string

func (c catalog) Columns(schema, table string) ([]string, bool) {
	cols, ok := c[viewsql.Relation{Schema: schema, Name: table}]
	return cols, ok
}

// script is a .sql fixture split into statements and parsed with the same
// grammar as the package uses.
type script struct {
	tables catalog
	views  map[string]string // view name -> its CREATE VIEW statement
	order  []string          // view names in file order
}

// loadScript reads the CREATE TABLE and CREATE VIEW statements of a .sql
// file into schema. NVARCHAR, which MySQL takes as a synonym of VARCHAR
// and vitess does not know, is read as VARCHAR.
func loadScript(tb testing.TB, path, schema string) *script {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := sqlparser.New(sqlparser.Options{MySQLServerVersion: "8.4.0"})
	if err != nil {
		tb.Fatal(err)
	}
	pieces, err := p.SplitStatementToPieces(strings.ReplaceAll(string(b), "NVARCHAR", "VARCHAR"))
	if err != nil {
		tb.Fatal(err)
	}
	s := &script{tables: catalog{}, views: map[string]string{}}
	for _, piece := range pieces {
		switch fields := strings.Fields(strings.ToUpper(sqlparser.StripLeadingComments(piece))); {
		case len(fields) >= 2 && fields[0] == "CREATE" && fields[1] == "TABLE":
			stmt, err := p.Parse(piece)
			if err != nil {
				tb.Fatalf("%s: %v", piece, err)
			}
			ct, ok := stmt.(*sqlparser.CreateTable)
			if !ok || !ct.IsFullyParsed() || ct.TableSpec == nil {
				tb.Fatalf("not fully parsed: %s", piece)
			}
			var cols []string
			for _, c := range ct.TableSpec.Columns {
				cols = append(cols, c.Name.String())
			}
			s.tables[viewsql.Relation{Schema: schema, Name: ct.Table.Name.String()}] = cols
		case len(fields) >= 1 && fields[0] == "CREATE" && slices.Contains(fields, "VIEW"):
			stmt, err := p.Parse(piece)
			if err != nil {
				tb.Fatalf("%s: %v", piece, err)
			}
			name := stmt.(*sqlparser.CreateView).ViewName.Name.String()
			s.views[name] = piece
			s.order = append(s.order, name)
		}
	}
	return s
}

// sakila is Sakila's schema: its 16 tables (and, once parsed, its views'
// columns, so that views over views resolve).
func sakila(tb testing.TB) *script {
	tb.Helper()
	s := loadScript(tb, fixture(tb, "mysql/sakila/sakila-schema.sql"), "sakila")
	if len(s.tables) != 16 || len(s.views) != 7 {
		tb.Fatalf("sakila-schema.sql: %d tables and %d views, want 16 and 7", len(s.tables), len(s.views))
	}
	for _, name := range s.order {
		l, err := viewsql.Parse("sakila", s.views[name], s.tables)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		s.tables[viewsql.Relation{Schema: "sakila", Name: name}] = l.Output
	}
	return s
}

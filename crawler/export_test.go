package crawler

import (
	"errors"
	"fmt"
	"strings"
)

// CatalogQueries are the catalog queries a crawl runs (without view
// definitions), for the benchmark that times them alone.
var CatalogQueries = []string{queryRelations, queryColumns, queryConstraints, queryPartitions, queryStats, queryViewDeps, queryViewRules}

// IsolatedConfig is how a registered source's DSN becomes a connection
// config, for the test that compares it with pgx's own reading.
var IsolatedConfig = isolatedConfig

// MySQLCatalogQueries are the MySQL crawl's catalog queries for the
// databases of placeholders "?,?" (%s), for the benchmark that times them
// alone.
var MySQLCatalogQueries = []string{myQueryTables, myQueryColumns, myQueryKeys, myQueryViews, myQueryIO}

// RejectViewDefinitions makes o's MySQL crawl treat the view definitions
// that contain marker as unparseable, as if the parser could not read them.
func RejectViewDefinitions(o *Options, marker string) {
	o.parseView = func(schema, def string, cat viewCatalog) (*viewLineage, error) {
		if strings.Contains(def, marker) {
			return nil, errors.New("rejected")
		}
		return parseViewDefinition(schema, def, cat)
	}
}

// ParseMySQLViews prepares the view definitions defs (of views in schema)
// and a catalog of the columns of tables, and returns a function that
// parses them all as a crawl does and says how many parsed: for the
// benchmark that times view parsing.
func ParseMySQLViews(schema string, defs []string, columns map[[2]string][]string) func() int {
	cat := &myCatalog{tables: map[[2]string]*myTable{}, parse: parseViewDefinition}
	for k, cols := range columns {
		t := &myTable{schema: k[0], name: k[1], typ: "BASE TABLE"}
		for _, c := range cols {
			t.columns = append(t.columns, myColumn{name: c})
		}
		cat.tables[k] = t
		cat.order = append(cat.order, t)
	}
	for i, def := range defs {
		t := &myTable{schema: schema, name: fmt.Sprintf("view_%d", i), typ: "VIEW", definition: def}
		cat.tables[t.key()] = t
		cat.order = append(cat.order, t)
	}
	return func() int {
		cat.unparsed = 0
		cat.parseViews()
		return len(defs) - cat.unparsed
	}
}

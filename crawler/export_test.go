package crawler

import (
	"errors"
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

package crawler

// CatalogQueries are the catalog queries a crawl runs (without view
// definitions), for the benchmark that times them alone.
var CatalogQueries = []string{queryRelations, queryColumns, queryConstraints, queryPartitions, queryStats, queryViewDeps, queryViewRules}

// IsolatedConfig is how a registered source's DSN becomes a connection
// config, for the test that compares it with pgx's own reading.
var IsolatedConfig = isolatedConfig

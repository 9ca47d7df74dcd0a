package crawler

// CatalogQueries are the catalog queries a crawl runs (without view
// definitions), for the benchmark that times them alone.
var CatalogQueries = []string{queryRelations, queryColumns, queryConstraints, queryPartitions, queryStats, queryViewDeps, queryViewRules}

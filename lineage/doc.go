// Package lineage maps OpenLineage events and reported runs to the catalog's
// lineage, and traverses the lineage graph.
//
// ParseEvent and ParseBatch turn OpenLineage JSON (spec 2-0-2) into
// quarry.LineageEvent values; they validate and map, and store nothing.
// Namespaces and names stay as the producer sent them: the store normalizes
// them when it applies an event. Ingest and IngestBatch parse and hand the
// events to an Acceptor (the store's lineage log): the one way an
// OpenLineage event enters the catalog, for the HTTP endpoints and the demo
// alike. Graph holds the lineage in memory, built from the store and
// following its changelog, and traverses it.
//
// The package knows nothing of HTTP or of bbolt.
package lineage

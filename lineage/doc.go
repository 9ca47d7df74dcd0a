// Package lineage maps OpenLineage events and reported runs to the catalog's
// lineage, and traverses the lineage graph.
//
// ParseEvent and ParseBatch turn OpenLineage JSON (spec 2-0-2) into
// quarry.LineageEvent values; they validate and map, and store nothing.
// Namespaces and names stay as the producer sent them: the store normalizes
// them when it applies an event.
//
// The package knows nothing of HTTP or of bbolt.
package lineage

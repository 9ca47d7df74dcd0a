// Package dbt imports a dbt project's artifacts into the catalog:
// manifest.json (schema v5 to v12) and, when given, catalog.json (v1),
// run_results.json (v4 to v6) and sources.json (v1 to v3).
//
// Reading: each file is decoded as a stream, one node at a time, so a large
// manifest is never held twice (its bytes and its nodes); only the fields
// the mapping uses are kept. A file's metadata.dbt_schema_version decides
// whether it is read at all: an unsupported version, a file of another kind
// (a catalog given as the manifest) or a truncated file is an EINVALID error
// naming the file and the field.
//
// Mapping (map.go): models, seeds, snapshots and sources are datasets named
// database.schema.alias in the given namespace, as the crawler and dbt-ol
// name them; ephemeral models are not datasets, lineage passes through them;
// exposures are datasets of the kinds DASHBOARD, APPLICATION and ML_MODEL;
// each model and snapshot has one job named as dbt-ol names it; tests are
// checks on their dataset or column, run_results their results; a source's
// freshness block its freshness policy; sources.json's max_loaded_at a data
// change. What cannot be mapped (a result for a test the manifest does not
// have) is a warning, never an error.
//
// Writing is the store's (Store.ImportDBT), in one transaction. This
// package knows nothing of HTTP or of the command line.
package dbt

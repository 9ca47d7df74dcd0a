// Package search keeps a bleve index of the catalog and answers searches
// and autocompletion over it.
//
// The index is derived state: it applies the store's changelog in order and
// keeps the sequence of the last record it applied inside itself, in the
// same batch as the documents, so that it never claims a change it does
// not hold. On open it catches up; an index that is missing, unreadable or
// built with another mapping version is rebuilt by replaying the changelog
// from its start (the changelog names every dataset ever written). It is
// never the source of truth: deleting it loses nothing. A damaged index is
// noticed and rebuilt (heal.go); on a full disk the follower stops, the
// index serves what it had written, and it catches up once there is space
// (disk.go).
//
// Ranking (highest first; boosts in query.go):
//
//  1. The query is a dataset's qualified name, or a dot-separated tail of
//     it ("sales.customer", "film"): exact name matches come first. Words
//     typed apart match a name written joined or with underscores ("sales
//     territory" is salesterritory, "order items" is order_items).
//  2. Every query word is in the dataset's name (split at punctuation and
//     camelCase; plurals folded).
//  3. Every word is in its qualified name (database and schema included).
//  4. The query is a column's name, or every word is in a column name.
//  5. Tags, then descriptions of the dataset and its columns (every word).
//  6. Words of 4+ letters also match name words one edit away (two for 8+):
//     typos rank below exact words. Words of 5+ letters also match inside
//     longer name words (payhistory in employeepayhistory). The last word
//     also matches as a prefix, for search as you type.
//
// Filters (namespace, database, schema, kind, tags, owners, freshness,
// health) narrow a search and never rank it: a hit scores as it does
// unfiltered. Removed datasets are left out unless asked for. Jobs are documents of
// their own (name, namespace, description, SQL), searched apart with
// SearchJobs by the same rules (their SQL weighs less than their name and
// description); dataset searches never return them. Query text is never
// parsed as a query language: "+", ":", "*", quotes and parentheses are
// text.
//
// The package must not be the source of truth, and knows nothing of
// GraphQL.
package search

// Package quarry holds Quarry's domain: datasets, columns, jobs, runs,
// lineage edges, checks, freshness policies and sources, their identities
// and validation, and the one error type whose codes every entry point maps
// to a client-visible answer.
//
// It imports no other package of this module. Adapters live in subpackages
// named for what they adapt: store (bbolt), graph (GraphQL), server (HTTP),
// and so on; they know the domain, not each other.
package quarry

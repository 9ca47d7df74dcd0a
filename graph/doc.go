// Package graph is Quarry's GraphQL API: the schema (*.graphqls), gqlgen's
// generated executor, the resolvers, the limits on what one operation may
// cost, and the one error presenter that turns errors into what clients see
// (a *quarry.Error's message and extensions.code; anything else logged and
// shown as "internal error"), and the one table of the role each field
// needs (Roles, access.go), checked before any resolver runs against the
// principal the HTTP edge put in the request's context.
//
// NewHandler returns the GraphQL endpoint; the HTTP edge (package server)
// mounts it at /graphql, bounds its request bodies and serves everything
// else. Resolvers translate between GraphQL and the domain: the logic lives
// in the packages they call. This package does no HTTP routing and knows no
// endpoint but its own.
package graph

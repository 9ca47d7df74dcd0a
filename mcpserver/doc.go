// Package mcpserver is Quarry's Model Context Protocol server: the tools,
// resources and prompts through which an AI assistant asks the catalog
// what an analyst asks the web UI (which table holds this, can I trust it
// today, what breaks if I change it), and the stdio bridge that lets a
// client which launches a command reach a server over HTTP.
//
// It owns the MCP vocabulary only: each tool reads its arguments, calls the
// services the GraphQL resolvers call (the store, the search index, the
// lineage graph) and shapes a compact, typed answer. It holds no catalog
// logic of its own (freshness, health and upstream problems are the domain's
// and lineage's) and no HTTP routing: server/ mounts Handler at /mcp behind
// the same authentication as /graphql, and the principal that puts in the
// request's context decides which tools a caller sees and may call.
//
// Answers are bounded the way the GraphQL API bounds its lists: every list
// has a default page and a maximum (limits.go), and long texts are cut, so
// that no answer floods a model's context.
package mcpserver

package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSlice marshals a list's elements in order, on the calling
// goroutine. gqlgen's generated code calls graphql.MarshalSliceConcurrently,
// which starts a goroutine for each element of every list of objects (gqlgen
// issues #3202, #4321); Quarry's resolvers read local memory and the bbolt
// file, so those goroutines buy nothing and cost a search's 20 hits and
// 100-odd facet buckets that many goroutine starts and stack growths.
// gqlgen v0.17.95 has no option for it: graph/internal/gen (`make
// generate`) rewrites the calls to this function, which keeps the
// contract: each element gets its own field context with its index, and a
// panic is recorded as the element's error and nulls the list.
//
// The same goes for an object's fields: gqlgen resolves each field that has
// a resolver (a dataset's freshness, health, source, ...) in a goroutine of
// its own, all but one per object, whose stack then grows through gqlgen's
// call chain: for the UI's search page of 20 hits, about 60 goroutines
// and 5% of the page's work. graph/internal/gen sets gqlgen's
// DisableConcurrency on every object but Query (gqlgen sets it on
// Mutation), so those fields resolve in place as plain fields do; each
// still recovers its own panic.
func marshalSlice(ctx context.Context, length int, _ int64, omitPanicHandler bool, marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		fc := &graphql.FieldContext{Index: &i}
		childCtx := graphql.WithFieldContext(ctx, fc)
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		failed := false
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					failed = true
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
		if failed {
			return nil
		}
	}
	return ret
}

package search

import (
	"context"
	"sync/atomic"
)

// WithTierMinForTest makes the searches of ctx tiered (tier.go) when at
// least n documents have their word; n < 0: never.
func WithTierMinForTest(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, tierMinCtxKey{}, n)
}

// WithBlocksSkippedForTest counts the blocks the searches of ctx skip
// (blockmax.go).
func WithBlocksSkippedForTest(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, blocksSkippedCtxKey{}, n), n
}

// TierMissesForTest is how many queries the index remembers its tier
// could not tell.
func (x *Index) TierMissesForTest() int {
	x.facets.misses.mu.Lock()
	defer x.facets.misses.mu.Unlock()
	return len(x.facets.misses.at)
}

package search

import "context"

// WithTierMinForTest makes the searches of ctx tiered (tier.go) when at
// least n documents have their word; n < 0: never.
func WithTierMinForTest(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, tierMinCtxKey{}, n)
}

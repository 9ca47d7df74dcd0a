package quarry

import "context"

type actorKey struct{}

// WithActor returns a context that names who is making a change ("alice",
// "crawler:warehouse", "api"). Stores record it in metadata history.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor in ctx, or "unknown".
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "unknown"
}

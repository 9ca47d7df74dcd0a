package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/quarrydata/quarry"
)

// TestErrorPresenterCodes covers every code, including those no resolver
// produces yet, and checks that only *quarry.Error messages reach clients.
func TestErrorPresenterCodes(t *testing.T) {
	present := errorPresenter(slog.New(slog.DiscardHandler))
	for _, tc := range []struct {
		err           error
		code, message string
	}{
		{quarry.Invalid("input[0].name", "must not be empty"), "invalid", "input[0].name: must not be empty"},
		{quarry.Errorf(quarry.ENOTFOUND, "dataset x not found"), "not_found", "dataset x not found"},
		{fmt.Errorf("update: %w", quarry.Errorf(quarry.ECONFLICT, "run r1 already ended")), "conflict", "run r1 already ended"},
		{quarry.Errorf(quarry.EUNAUTHORIZED, "a token is required"), "unauthorized", "a token is required"},
		{quarry.Errorf(quarry.ETOOLARGE, "too many"), "too_large", "too many"},
		{errors.New("open /var/lib/quarry/quarry.db: permission denied"), "invalid", "open /var/lib/quarry/quarry.db: permission denied"},
	} {
		// Outside an operation (the last case) errors are about the request.
		got := present(context.Background(), tc.err)
		if got.Extensions["code"] != tc.code || got.Message != tc.message {
			t.Errorf("%v: presented as %q %q, want %q %q", tc.err, got.Extensions["code"], got.Message, tc.code, tc.message)
		}
	}
	// Within an operation, a request that ended early is cancelled, and
	// anything else unexpected is internal.
	op := graphql.WithOperationContext(context.Background(), &graphql.OperationContext{})
	for _, tc := range []struct {
		err           error
		code, message string
	}{
		{fmt.Errorf("search: %w", context.Canceled), quarry.ECANCELLED, "request cancelled or timed out"},
		{fmt.Errorf("traverse: %w", context.DeadlineExceeded), quarry.ECANCELLED, "request cancelled or timed out"},
		{errors.New("open /var/lib/quarry/quarry.db: permission denied"), quarry.EINTERNAL, "internal error"},
	} {
		got := present(op, tc.err)
		if got.Extensions["code"] != tc.code || got.Message != tc.message {
			t.Errorf("%v: presented as %q %q, want %q %q", tc.err, got.Extensions["code"], got.Message, tc.code, tc.message)
		}
	}
}

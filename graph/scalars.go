package graph

import (
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/quarrydata/quarry"
)

// The scalars wrap gqlgen's so that a malformed value is invalid input
// (extensions.code "invalid", with the field path), not an internal error.

// MarshalInt64 writes a 64-bit integer.
func MarshalInt64(v int64) graphql.Marshaler { return graphql.MarshalInt64(v) }

// UnmarshalInt64 reads a 64-bit integer from a number or a numeric string.
func UnmarshalInt64(v any) (int64, error) {
	n, err := graphql.UnmarshalInt64(v)
	if err != nil {
		return 0, quarry.Invalid("", "%v is not a 64-bit integer", v)
	}
	return n, nil
}

// MarshalTime writes an RFC 3339 timestamp in UTC.
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t.UTC()) }

// UnmarshalTime reads an RFC 3339 timestamp.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, quarry.Invalid("", "%v is not an RFC 3339 timestamp", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, quarry.Invalid("", "%q is not an RFC 3339 timestamp like 2026-11-22T03:00:00Z", s)
	}
	return t, nil
}

package graph

import (
	"os"
	"strings"
	"testing"
)

// generated.go comes from `make generate`, which marshals lists with
// marshalSlice and resolves fields in place; `go tool gqlgen generate` alone
// brings back a goroutine per list element and per resolved field.
func TestGeneratedMarshalsListsInOrder(t *testing.T) {
	src, err := os.ReadFile("generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), "graphql.MarshalSliceConcurrently("); n > 0 {
		t.Fatalf("generated.go marshals %d list types concurrently: regenerate with make generate", n)
	}
	if !strings.Contains(string(src), "marshalSlice(") {
		t.Fatal("generated.go does not call marshalSlice")
	}
	if n := strings.Count(string(src), "out.Concurrently(i, func(ctx context.Context) graphql.Marshaler { return innerFunc(ctx, out) })"); n > 0 {
		t.Fatalf("generated.go resolves %d fields in goroutines of their own: regenerate with make generate", n)
	}
	if !strings.Contains(string(src), "out.Values[i] = innerFunc(ctx, out)") {
		t.Fatal("generated.go resolves no field in place")
	}
}

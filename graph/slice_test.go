package graph

import (
	"os"
	"strings"
	"testing"
)

// generated.go comes from `make generate`, which marshals lists with
// marshalSlice; `go tool gqlgen generate` alone brings back a goroutine per
// list element.
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
}

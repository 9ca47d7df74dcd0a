package graph_test

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/graph"
)

// The request limits of issue 15's defect 1, each at its edge: what is
// just inside passes, what is just past gets a clear error and 4xx.
func TestRequestLimits(t *testing.T) {
	s := newServer(t, graph.Limits{Nesting: 8, QueryBytes: 4096, Tokens: 500, Errors: 3})
	nested := func(n int) string { return strings.Repeat("[", n) + `"x"` + strings.Repeat("]", n) }
	t.Run("NestingOK", func(t *testing.T) {
		// Seven list levels in the argument, inside the selection's braces
		// and the arguments' parentheses: eight deep in all, nothing
		// counted in strings, block strings or comments.
		q := "{ search(query: " + nested(6) + ") { total } }"
		q = "# [[[[[[[[[[ {{{{{{{{{\n" + `query Q { a: __typename b: __type(name: "[[[[[[[[[[[[") { name } c: __type(name: """ \""" [[[[[[[[[[[[ """) { name } }` + "\n" + q
		r := s.do(t, q, nil)
		for _, e := range r.Errors {
			if strings.Contains(e.Message, "nest") {
				t.Fatalf("refused: %v", r.Errors)
			}
		}
	})
	t.Run("ErrNesting", func(t *testing.T) {
		r := s.do(t, "{ search(query: "+nested(7)+") { total } }", nil)
		e := r.oneError(t, "invalid", "query")
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(e.Message, "nest more than 8 deep") {
			t.Fatalf("status %d, %v", r.Status, e)
		}
	})
	t.Run("ErrNestingGET", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape("{ search(query: "+nested(20)+") { total } }"), nil)
		r := s.send(t, req)
		r.oneError(t, "invalid", "query")
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", r.Status)
		}
	})
	t.Run("ErrVariables", func(t *testing.T) {
		deep := any("x")
		for range 9 {
			deep = []any{deep}
		}
		r := s.do(t, "query($q: String!) { search(query: $q) { total } }", map[string]any{"q": deep})
		e := r.oneError(t, "invalid", "variables")
		if r.Status != http.StatusBadRequest || !strings.Contains(e.Message, "nest more than 8 deep") {
			t.Fatalf("status %d, %v", r.Status, e)
		}
	})
	t.Run("ErrVariablesGET", func(t *testing.T) {
		vars := `{"q":` + strings.Repeat("[", 9) + strings.Repeat("]", 9) + "}"
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape("query($q: String!) { search(query: $q) { total } }")+"&variables="+url.QueryEscape(vars), nil)
		r := s.send(t, req)
		r.oneError(t, "invalid", "variables.q")
	})
	t.Run("ErrQueryBytes", func(t *testing.T) {
		r := s.do(t, "{ __typename }"+strings.Repeat(" ", 4096), nil)
		e := r.oneError(t, "too_large", "query")
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(e.Message, "limit is 4096") {
			t.Fatalf("status %d, %v", r.Status, e)
		}
	})
	t.Run("ErrTokens", func(t *testing.T) {
		r := s.do(t, "{"+strings.Repeat(" a", 600)+" }", nil)
		if r.Status != http.StatusUnprocessableEntity || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "token limit") {
			t.Fatalf("status %d, %v", r.Status, r.Errors)
		}
	})
	t.Run("ErrorsCapped", func(t *testing.T) {
		var defs strings.Builder
		for i := range 10 {
			fmt.Fprintf(&defs, "$v%d: Int ", i)
		}
		r := s.do(t, "query("+defs.String()+") { __typename }", nil)
		if len(r.Errors) != 4 || r.Errors[3].Message != "7 more errors not shown" || r.Errors[3].Code() != "too_large" {
			t.Fatalf("status %d, %v", r.Status, r.Errors)
		}
	})
}

// The parsed-query cache keeps small queries only: 1000 documents parsed
// from large ones would hold gigabytes that no request frees.
func TestLargeQueriesNotCached(t *testing.T) {
	s := newServer(t, graph.Limits{})
	var aliases strings.Builder
	for i := range 12_000 {
		fmt.Fprintf(&aliases, "a%d: __typename ", i)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	s.do(t, "{ warm: __typename }", nil)
	before := heap()
	for i := range 20 {
		// Each is distinct, valid, and refused only after parsing (by the
		// cost limit), when gqlgen has cached it.
		r := s.do(t, fmt.Sprintf("query Q%d { %s}", i, aliases.String()), nil)
		if len(r.Errors) != 1 || r.Errors[0].Code() != "too_large" {
			t.Fatalf("status %d, %v", r.Status, r.Errors)
		}
	}
	if grew := int64(heap()) - int64(before); grew > 20<<20 {
		t.Fatalf("20 large queries left %d MB on the heap", grew>>20)
	}
}

package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	quarryserver "github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

// FuzzGraphQL posts fuzzed operations and variables to the real /graphql
// handler (the server's, with its body limit, on a real store and index,
// through httptest without a network): it never panics, the answer is
// JSON, and it is never a 5xx nor carries an internal error unless that
// error was logged. `make fuzz` runs it for a while; `go test` runs the
// seeds and testdata/fuzz.
func FuzzGraphQL(f *testing.F) {
	logged := &errorCounter{}
	s := servertest.New(f, &quarryserver.Options{
		Logger: slog.New(logged),
		Getenv: func(string) string { return "" }, // a fuzzed source reaches no database
	})
	h := s.Config.Handler
	ds, _ := json.Marshal(map[string]any{"in": []any{orders(1), users()}})
	for _, seed := range []struct{ query, vars string }{
		{`{ __typename }`, ``},
		{`query { __schema { queryType { name } types { name kind fields { name args { name type { name kind ofType { name } } } } } } }`, ``},
		{`mutation($in: [DatasetInput!]!) { upsertDatasets(input: $in) { count ids changed } }`, string(ds)},
		{`query($q: String!) { search(query: $q, first: 5) { total hits { dataset { id name columns { name type } } } } }`, `{"q":"orders"}`},
		{`{ datasets(first: 3) { edges { node { id namespace name owners tags } } pageInfo { hasNextPage endCursor } } }`, ``},
		{`query($ns: String, $n: String) { dataset(namespace: $ns, name: $n) { id name freshness { status } } }`, `{"ns":"postgres://shop-db.internal:5432","n":"shop.public.users"}`},
		{`query($id: ID!) { lineage(nodeId: $id, depth: 3) { nodes { id kind name } edges { from to } truncated } }`, `{"id":"00000000-0000-0000-0000-000000000000"}`},
		{`mutation { reportRun(input: {job: {namespace: "cron", name: "nightly"}, state: COMPLETE, inputs: [{namespace: "postgres://a:5432", name: "d.s.t"}]}) { id state } }`, ``},
		{`fragment F on Query { __typename } query Q { ...F a: __typename }`, ``},
		{`{ search(query: [[[["x"]]]]) { total } }`, ``},
		{`query($v: [[Int]]) { __typename }`, `{"v":[[1,[2]]]}`},
		{"{ a: __type(name: \"\"\"\\\"\"\" [ \"\"\") { name } # {{{\n}", ``},
	} {
		f.Add(seed.query, seed.vars)
	}
	f.Fuzz(func(t *testing.T, query, vars string) {
		q, _ := json.Marshal(query)
		body := `{"query":` + string(q)
		if vars != "" {
			body += `,"variables":` + vars
		}
		body += "}"
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		before := logged.n.Load()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var answer struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("status %d, the answer is not JSON (%v): %.500s", rec.Code, err, rec.Body.Bytes())
		}
		internal := rec.Code >= 500
		for _, e := range answer.Errors {
			internal = internal || e.Extensions["code"] == "internal"
		}
		if internal && logged.n.Load() == before {
			t.Fatalf("status %d, an internal error nobody logged: %.500s", rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
		}
	})
}

// errorCounter is a slog.Handler that counts the records at error level.
type errorCounter struct{ n atomic.Int64 }

func (c *errorCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (c *errorCounter) Handle(context.Context, slog.Record) error {
	c.n.Add(1)
	return nil
}
func (c *errorCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *errorCounter) WithGroup(string) slog.Handler      { return c }

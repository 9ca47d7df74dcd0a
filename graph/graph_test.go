package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/introspection"

	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/graph/graphtest"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/search"
	quarryserver "github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
	"github.com/quarrydata/quarry/store"
)

// testEnv is the environment the crawl service reads dsnEnv variables from.
var testEnv = map[string]string{}

// server is Quarry's real server (package server's, as quarry serve runs
// it) on a real store in a temp dir.
type server struct {
	*servertest.Server
	store   *store.Store
	index   *search.Index
	lineage *lineage.Graph
}

// handlerConfig is what a test may change of the server's handler.
type handlerConfig = quarryserver.Config

func newServer(t testing.TB, limits graph.Limits, opts ...func(*handlerConfig)) *server {
	t.Helper()
	return newServerAt(t, nil, limits, opts...)
}

// newServerAt is newServer with a clock (nil: time.Now) for the store and
// the resolvers alike.
func newServerAt(t testing.TB, now func() time.Time, limits graph.Limits, opts ...func(*handlerConfig)) *server {
	t.Helper()
	s := servertest.New(t, &quarryserver.Options{Now: now, QueryLimits: limits, Getenv: func(k string) string { return testEnv[k] }}, opts...)
	return &server{Server: s, store: s.Store, index: s.Index, lineage: s.Lineage}
}

type gqlError = graphtest.Error

// response is an answer, with the assertions the tests use.
type response struct{ graphtest.Response }

func (r response) ok(t testing.TB) map[string]any {
	t.Helper()
	return r.OK(t)
}

// oneError asserts the response failed with exactly one error of the code
// (and field, when given).
func (r response) oneError(t testing.TB, code, field string) gqlError {
	t.Helper()
	return r.OneError(t, code, field)
}

// do posts a GraphQL request as a client would.
func (s *server) do(t testing.TB, query string, vars map[string]any, header ...string) response {
	t.Helper()
	return response{s.GraphQL.Do(t, query, vars, header...)}
}

func (s *server) send(t testing.TB, req *http.Request) response {
	t.Helper()
	return response{s.GraphQL.Send(t, req)}
}

const upsert = `mutation Upsert($input: [DatasetInput!]!) { upsertDatasets(input: $input) { count ids changed } }`

func orders(i int) map[string]any {
	return map[string]any{
		"namespace":   "postgresql://Shop-DB.internal/",
		"name":        fmt.Sprintf("shop.public.orders_%02d", i),
		"description": "One row per order.",
		"owners":      []string{"team:checkout"},
		"tags":        []string{"tier1"},
		"rowCount":    int64(5_000_000_000),
		"columns": []map[string]any{
			{"name": "id", "type": "bigint", "nullable": false, "primaryKey": true},
			{"name": "user_id", "type": "bigint", "foreignKey": map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.users", "column": "id"}},
			{"name": "total", "type": "numeric(12,2)", "description": "Total in USD."},
		},
	}
}

func users() map[string]any {
	return map[string]any{
		"namespace": "postgres://shop-db.internal:5432", "name": "shop.public.users", "kind": "TABLE",
		"columns": []map[string]any{{"name": "id", "type": "bigint"}},
	}
}

func TestUpsertAndRead(t *testing.T) {
	s := newServer(t, graph.Limits{})
	data := s.do(t, upsert, map[string]any{"input": []any{orders(1), users()}}).ok(t)
	p := data["upsertDatasets"].(map[string]any)
	if p["count"].(float64) != 2 || p["changed"].(float64) != 2 {
		t.Fatalf("payload = %v", p)
	}
	id := p["ids"].([]any)[0].(string)

	const byName = `query($ns: String, $name: String) { dataset(namespace: $ns, name: $name) {
		id namespace name kind description owners tags rowCount createdAt removedAt
		columns { name type nullable ordinal description primaryKey foreignKey { namespace name column dataset { name } } } } }`
	d := s.do(t, byName, map[string]any{"ns": "postgres://shop-db.internal", "name": "shop.public.orders_01"}).ok(t)["dataset"].(map[string]any)
	if d["id"] != id || d["namespace"] != "postgres://shop-db.internal:5432" || d["kind"] != "TABLE" {
		t.Fatalf("dataset = %v", d)
	}
	if d["rowCount"].(float64) != 5e9 || d["removedAt"] != nil || d["description"] != "One row per order." {
		t.Fatalf("dataset = %v", d)
	}
	cols := d["columns"].([]any)
	fk := cols[1].(map[string]any)["foreignKey"].(map[string]any)
	if len(cols) != 3 || fk["namespace"] != "postgres://shop-db.internal:5432" || fk["dataset"].(map[string]any)["name"] != "shop.public.users" {
		t.Fatalf("columns = %v", cols)
	}
	if c := cols[0].(map[string]any); c["nullable"] != false || c["primaryKey"] != true || c["ordinal"].(float64) != 1 {
		t.Fatalf("column id = %v", c)
	}
	if c := cols[2].(map[string]any); c["nullable"] != true || c["ordinal"].(float64) != 3 {
		t.Fatalf("column total = %v", c)
	}

	byID := s.do(t, `query($id: ID) { dataset(id: $id) { name } }`, map[string]any{"id": id}).ok(t)
	if byID["dataset"].(map[string]any)["name"] != "shop.public.orders_01" {
		t.Fatalf("by id = %v", byID)
	}

	t.Run("UnknownIsNull", func(t *testing.T) {
		r := s.do(t, `{ a: dataset(id: "6f1c7d3e-0000-5000-8000-000000000000") { id } b: dataset(namespace: "postgres://x", name: "y") { id } }`, nil).ok(t)
		if r["a"] != nil || r["b"] != nil {
			t.Fatalf("unknown datasets = %v", r)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		p := s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)["upsertDatasets"].(map[string]any)
		if p["changed"].(float64) != 0 {
			t.Fatalf("re-upserting the same dataset changed it: %v", p)
		}
	})
}

func TestPaging(t *testing.T) {
	s := newServer(t, graph.Limits{})
	var in []any
	for i := range 23 {
		in = append(in, orders(i))
	}
	s.do(t, upsert, map[string]any{"input": in}).ok(t)
	const q = `query($after: String) { datasets(first: 10, after: $after) {
		totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name } } nodes { name } } }`
	var names []string
	var after any
	for range 5 {
		c := s.do(t, q, map[string]any{"after": after}).ok(t)["datasets"].(map[string]any)
		if c["totalCount"].(float64) != 23 {
			t.Fatalf("totalCount = %v", c["totalCount"])
		}
		edges := c["edges"].([]any)
		for i, n := range c["nodes"].([]any) {
			name := n.(map[string]any)["name"].(string)
			if edges[i].(map[string]any)["node"].(map[string]any)["name"] != name {
				t.Fatal("edges and nodes disagree")
			}
			names = append(names, name)
		}
		pi := c["pageInfo"].(map[string]any)
		if pi["hasNextPage"] != true {
			break
		}
		after = pi["endCursor"]
	}
	if len(names) != 23 || names[0] != "shop.public.orders_00" || names[22] != "shop.public.orders_22" {
		t.Fatalf("paged through %d names: %v", len(names), names)
	}
	s.do(t, `{ datasets(first: 0) { totalCount } }`, nil).oneError(t, "invalid", "first")
	s.do(t, `{ datasets(after: "garbage!") { totalCount } }`, nil).oneError(t, "invalid", "after")
}

func TestUpdateDataset(t *testing.T) {
	s := newServer(t, graph.Limits{})
	id := s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)["upsertDatasets"].(map[string]any)["ids"].([]any)[0]
	const update = `mutation($id: ID!, $input: DatasetUpdateInput!) { updateDataset(id: $id, input: $input) {
		description providedDescription owners tags columns { name description } } }`
	d := s.do(t, update, map[string]any{"id": id, "input": map[string]any{
		"description": "Orders, one row each. **Use this one.**",
		"tags":        []string{},
		"columns":     []any{map[string]any{"name": "total", "description": "Gross, tax included."}},
	}}, quarryserver.ActorHeader, "alice@acme.example").ok(t)["updateDataset"].(map[string]any)
	if d["description"] != "Orders, one row each. **Use this one.**" || len(d["tags"].([]any)) != 0 || d["owners"].([]any)[0] != "team:checkout" {
		t.Fatalf("after update: %v", d)
	}

	// A later crawl or push replaces provided metadata, never the edits.
	o := orders(1)
	o["description"] = "orders"
	o["tags"] = []string{"tier2"}
	s.do(t, upsert, map[string]any{"input": []any{o}}).ok(t)
	const get = `query($id: ID) { dataset(id: $id) { description providedDescription tags
		columns { name description } metadataHistory { actor field oldValue newValue at } } }`
	d = s.do(t, get, map[string]any{"id": id}).ok(t)["dataset"].(map[string]any)
	if d["description"] != "Orders, one row each. **Use this one.**" || d["providedDescription"] != "orders" || len(d["tags"].([]any)) != 0 {
		t.Fatalf("after re-crawl: %v", d)
	}
	if c := d["columns"].([]any)[2].(map[string]any); c["description"] != "Gross, tax included." {
		t.Fatalf("column after re-crawl: %v", c)
	}
	hist := d["metadataHistory"].([]any)
	if len(hist) != 3 {
		t.Fatalf("history = %v", hist)
	}
	for _, h := range hist {
		if h.(map[string]any)["actor"] != "alice@acme.example" {
			t.Fatalf("history entry without the actor: %v", h)
		}
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		s.do(t, update, map[string]any{"id": "6f1c7d3e-0000-5000-8000-000000000000", "input": map[string]any{"description": "x"}}).oneError(t, "not_found", "")
	})
	t.Run("ErrMalformedID", func(t *testing.T) {
		s.do(t, update, map[string]any{"id": "orders", "input": map[string]any{"description": "x"}}).oneError(t, "invalid", "id")
	})
	t.Run("ErrUnknownColumn", func(t *testing.T) {
		s.do(t, update, map[string]any{"id": id, "input": map[string]any{"columns": []any{map[string]any{"name": "nope", "description": "x"}}}}).oneError(t, "invalid", "input.columns[0].name")
	})
	t.Run("RemoveRestore", func(t *testing.T) {
		r := s.do(t, `mutation($id: ID!) { markDatasetRemoved(id: $id) { removedAt } }`, map[string]any{"id": id}).ok(t)
		if r["markDatasetRemoved"].(map[string]any)["removedAt"] == nil {
			t.Fatal("removedAt not set")
		}
		c := s.do(t, `{ datasets { totalCount } all: datasets(includeRemoved: true) { totalCount } }`, nil).ok(t)
		if c["datasets"].(map[string]any)["totalCount"].(float64) != 0 || c["all"].(map[string]any)["totalCount"].(float64) != 1 {
			t.Fatalf("counts = %v", c)
		}
		r = s.do(t, `mutation($id: ID!) { restoreDataset(id: $id) { removedAt } }`, map[string]any{"id": id}).ok(t)
		if r["restoreDataset"].(map[string]any)["removedAt"] != nil {
			t.Fatal("removedAt still set")
		}
	})
}

// TestBadInput checks that each kind of bad input gets its code and field
// path, and that nothing of a failed call is stored.
func TestBadInput(t *testing.T) {
	s := newServer(t, graph.Limits{Depth: 6}, func(c *handlerConfig) { c.Limits.BodyBytes = 64 << 10 })
	bad := func(mut func(map[string]any)) []any {
		o := orders(2)
		mut(o)
		return []any{orders(1), o}
	}
	for _, tc := range []struct {
		name, code, field string
		input             []any
	}{
		{"ErrNamespace", "invalid", "input[1].namespace", bad(func(o map[string]any) { o["namespace"] = "postgres://db:port" })},
		{"ErrEmptyName", "invalid", "input[1].name", bad(func(o map[string]any) { o["name"] = "  " })},
		{"ErrKind", "invalid", "input[1].kind", bad(func(o map[string]any) { o["kind"] = "SPREADSHEET" })},
		{"ErrColumnName", "invalid", "input[1].columns[2].name", bad(func(o map[string]any) { o["columns"].([]map[string]any)[2]["name"] = "id" })},
		{"ErrColumnMissingName", "invalid", "input[1].columns[0].name", bad(func(o map[string]any) { delete(o["columns"].([]map[string]any)[0], "name") })},
		{"ErrRowCount", "invalid", "input[1].rowCount", bad(func(o map[string]any) { o["rowCount"] = "many" })},
		{"ErrNegativeSize", "invalid", "input[1].sizeBytes", bad(func(o map[string]any) { o["sizeBytes"] = -5 })},
		{"ErrDuplicate", "invalid", "input[1]", bad(func(o map[string]any) { o["name"] = "shop.public.orders_01" })},
		{"ErrUnknownField", "invalid", "input[1].colour", bad(func(o map[string]any) { o["colour"] = "red" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := s.do(t, upsert, map[string]any{"input": tc.input}).oneError(t, tc.code, tc.field)
			if !strings.Contains(e.Message, strings.TrimPrefix(tc.field, "input")) {
				t.Errorf("message %q does not name the field", e.Message)
			}
			c := s.do(t, `{ datasets(includeRemoved: true) { totalCount } }`, nil).ok(t)
			if n := c["datasets"].(map[string]any)["totalCount"].(float64); n != 0 {
				t.Fatalf("a failed upsert stored %v datasets", n)
			}
		})
	}
	t.Run("ErrKindLiteral", func(t *testing.T) {
		r := s.do(t, `mutation { upsertDatasets(input: [{namespace: "postgres://db", name: "t", kind: SPREADSHEET}]) { count } }`, nil)
		r.oneError(t, "GRAPHQL_VALIDATION_FAILED", "")
	})
	t.Run("ErrDatasetArgs", func(t *testing.T) {
		s.do(t, `{ dataset { id } }`, nil).oneError(t, "invalid", "namespace")
		s.do(t, `{ dataset(namespace: "postgres://db") { id } }`, nil).oneError(t, "invalid", "name")
		s.do(t, `{ dataset(id: "x", name: "y") { id } }`, nil).oneError(t, "invalid", "id")
		s.do(t, `{ dataset(id: "not-a-uuid") { id } }`, nil).oneError(t, "invalid", "id")
	})
	t.Run("ErrParse", func(t *testing.T) {
		s.do(t, `{ datasets {`, nil).oneError(t, "GRAPHQL_PARSE_FAILED", "")
	})
	t.Run("ErrUnparseableJSON", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(`{"query": "{ datasets { totalCount } }"`))
		req.Header.Set("Content-Type", "application/json")
		r := s.send(t, req)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", r.Status)
		}
		if e := r.oneError(t, "invalid", ""); !strings.Contains(e.Message, "not valid JSON") {
			t.Fatalf("message %q", e.Message)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		big := strings.Repeat("x", 70<<10)
		r := s.do(t, upsert, map[string]any{"input": []any{map[string]any{"namespace": "postgres://db", "name": "t", "description": big}}})
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", r.Status)
		}
		r.oneError(t, "too_large", "")
		// Without a declared length (chunked), the limit holds too.
		pr, pw := io.Pipe()
		go func() {
			fmt.Fprintf(pw, `{"query": "{ datasets { totalCount } }", "x": "%s"}`, big)
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", pr)
		req.Header.Set("Content-Type", "application/json")
		if r := s.send(t, req); r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked: status %d, want 413", r.Status)
		}
	})
	t.Run("ErrFragmentBomb", func(t *testing.T) {
		// Each fragment spreads the next twice: 2^30 fields once expanded,
		// in well under 2 KB. It must be refused at once.
		var b strings.Builder
		b.WriteString("query { datasets { nodes { ...F0 } } }\n")
		for i := range 30 {
			fmt.Fprintf(&b, "fragment F%d on Dataset { id ...F%d ...F%d }\n", i, i+1, i+1)
		}
		b.WriteString("fragment F30 on Dataset { name }\n")
		start := time.Now()
		s.do(t, b.String(), nil).oneError(t, "too_large", "")
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("refusing the fragment bomb took %v", d)
		}
	})
	t.Run("ErrTooDeep", func(t *testing.T) {
		q := `{ datasets { nodes { columns { foreignKey { dataset { columns { foreignKey { dataset { name } } } } } } } } }`
		s.do(t, q, nil).oneError(t, "too_large", "")
	})
	t.Run("ErrInternalIsMasked", func(t *testing.T) {
		s := newServer(t, graph.Limits{})
		s.store.Close()
		e := s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).oneError(t, "internal", "")
		if e.Message != "internal error" {
			t.Fatalf("internal error shown as %q", e.Message)
		}
	})
}

func TestComplexityLimit(t *testing.T) {
	s := newServer(t, graph.Limits{Complexity: 20})
	var b strings.Builder
	b.WriteString("{")
	for i := range 25 {
		fmt.Fprintf(&b, " a%d: datasets { totalCount }", i)
	}
	b.WriteString(" }")
	s.do(t, b.String(), nil).oneError(t, "too_large", "")
}

func TestIntrospectionWithinLimits(t *testing.T) {
	s := newServer(t, graph.Limits{})
	d := s.do(t, introspection.Query, nil).ok(t)
	if d["__schema"] == nil {
		t.Fatal("no schema")
	}
}

// TestRawAnswer checks that an answer written past gqlgen's transport (as
// POST answers are) is the answer the transport writes (as it does for
// GET), for text that JSON escapes.
func TestRawAnswer(t *testing.T) {
	s := newServer(t, graph.Limits{})
	in := orders(1)
	in["description"] = "Orders <b>&</b> \"refunds\"\u2028\\ ünïcödé\t😀"
	s.do(t, upsert, map[string]any{"input": []any{in}}).ok(t)
	const q = `query($ns: String, $name: String) { dataset(namespace: $ns, name: $name) { name description columns { name } } }`
	vars := map[string]any{"ns": "postgres://shop-db.internal", "name": "shop.public.orders_01"}
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	post, err := http.Post(s.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(post.Body)
	post.Body.Close()
	v, _ := json.Marshal(vars)
	get, err := http.Get(s.URL + "/graphql?query=" + url.QueryEscape(q) + "&variables=" + url.QueryEscape(string(v)))
	if err != nil {
		t.Fatal(err)
	}
	encoded, _ := io.ReadAll(get.Body)
	get.Body.Close()
	if !json.Valid(raw) || !bytes.HasPrefix(raw, []byte(`{"data":{"dataset":`)) || !bytes.Contains(raw, []byte("<b>&</b>")) {
		t.Fatalf("POST answer (not passed raw?): %s", raw)
	}
	var a, b any
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(encoded, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || post.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
		t.Fatalf("POST answer %s (%s)\nGET answer %s (%s)", raw, post.Header.Get("Content-Type"), encoded, get.Header.Get("Content-Type"))
	}
	if d := a.(map[string]any)["data"].(map[string]any)["dataset"].(map[string]any); d["description"] != in["description"] {
		t.Fatalf("description = %q", d["description"])
	}
}

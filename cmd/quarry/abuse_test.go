package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// postGraphQL posts a raw body to /graphql and returns the status, the
// body's size and its decoded errors' messages and codes.
func postGraphQL(t *testing.T, p *proc, body []byte) (status int, size int, errs []map[string]any) {
	t.Helper()
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Post("http://"+p.addr+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /graphql (%d bytes): %v\n%s", len(body), err, tail(p.logs.String()))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Errors []map[string]any `json:"errors"`
		Error  map[string]any   `json:"error"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %.300s", resp.StatusCode, err, b)
	}
	if out.Error != nil {
		out.Errors = append(out.Errors, out.Error)
	}
	return resp.StatusCode, len(b), out.Errors
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

func request(query string, vars any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		panic(err)
	}
	return b
}

// Defect 1 of issue 15: a small request must not kill the server or cost
// gigabytes. Each abusive request gets a bounded, clear answer, and the
// server answers the next request.
func TestGraphQLAbuseLeavesServerAlive(t *testing.T) {
	p := start(t, "--data", t.TempDir())
	alive := func(t *testing.T) {
		t.Helper()
		select {
		case err := <-p.done:
			t.Fatalf("quarry exited: %v\n%s", err, tail(p.logs.String()))
		default:
		}
		if d := p.graphql(t, `{ __typename }`, nil); d["__typename"] != "Query" {
			t.Fatalf("after the request: %v", d)
		}
	}
	for _, tc := range []struct {
		name string
		body []byte
		want string // in the first error's message
	}{
		// ~2 M nested list brackets, 4 MB: the parser's recursion overflowed
		// the stack.
		{"BracketBomb", request("{ search(query: "+strings.Repeat("[", 2<<20)+strings.Repeat("]", 2<<20)+") { total } }", nil), "query: the query is 4194333 bytes"},
		// A 100k-deep list value the parser accepts cost 2.4 GB.
		{"DeepListValue", request("{ search(query: "+strings.Repeat("[", 100_000)+`"x"`+strings.Repeat("]", 100_000)+") { total } }", nil), "nest"},
		// Variables nested deeper than any input of the schema.
		{"DeepVariables", []byte(`{"query":"query($q: String!) { search(query: $q) { total } }","variables":{"q":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `}}`), "nest"},
		// 100k unused variable definitions answered a 14-34 MB error list.
		{"ManyVariables", request("query("+varDefs(100_000)+") { __typename }", nil), "query: "},
		// As many as the query's size and token limits let through get an
		// error each, but the answer lists at most 100.
		{"ManyErrors", request("query("+varDefs(4_000)+") { __typename }", nil), "never used"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, size, errs := postGraphQL(t, p, tc.body)
			if status < 400 || status >= 500 || len(errs) == 0 {
				t.Fatalf("status %d, errors %v", status, errs)
			}
			if len(errs) > 101 {
				t.Errorf("%d errors answered", len(errs))
			}
			if size > 64<<10 {
				t.Errorf("the answer is %d bytes", size)
			}
			if msg, _ := errs[0]["message"].(string); !strings.Contains(msg, tc.want) {
				t.Errorf("error = %q, want it to mention %q", msg, tc.want)
			}
			alive(t)
		})
	}
	p.stop(t)
}

func varDefs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "$v%d: Int ", i)
	}
	return b.String()
}

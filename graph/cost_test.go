package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph"
)

// aliases repeats field n times under aliases a0, a1, ...
func aliases(n int, field string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	b.WriteString(" }")
	return b.String()
}

// Issue 15, defect 2: the cost limit counts lists by their page size, so
// that many aliases of a list are refused before they run, with the cost
// and the limit; what is within the limit runs.
func TestCostCountsPages(t *testing.T) {
	s := newServer(t, graph.Limits{})
	for _, tc := range []struct {
		name, query string
		cost        int // 0: within the limit
	}{
		// 300 aliases of the unpaged jobs list answered 30 MB and took 2.4 GB.
		{"ErrJobsAliases", aliases(300, "jobs { id }"), 300 * 100 * 2},
		// 1,000 aliases of a lineage query reached 1.9 GB.
		{"ErrLineageAliases", aliases(1000, `lineage(nodeId: "6f1c7d3e-0000-5000-8000-000000000000") { nodes { id } }`), 1000 * 1000 * 3},
		// A page of pages pays for the product.
		{"ErrNestedPages", `{ jobs(first: 1000) { outputs(first: 1000) { name } } }`, 1000 * (1000*2 + 1)},
		{"ErrLargeText", `{ jobs(first: 1000) { sql } }`, 1000 * 51},
		{"ErrLineageLimit", `{ lineage(nodeId: "6f1c7d3e-0000-5000-8000-000000000000", limit: 10000) { nodes { id kind name } edges { from to } } }`, 10000 * 8},
		{"OneJobsPage", `{ jobs { id namespace name description owners } }`, 0},
		{"SmallerPages", aliases(300, "jobs(first: 1) { id }"), 0},
		{"LineageOfTheUI", `{ lineage(nodeId: "6f1c7d3e-0000-5000-8000-000000000000") { nodes { id kind namespace name column datasetId degree distance removed } edges { from to transformation origin job { id namespace name } } truncated } }`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.query, nil)
			if tc.cost == 0 {
				for _, e := range r.Errors {
					if e.Code() == "too_large" {
						t.Fatalf("refused: %v", e)
					}
				}
				return
			}
			e := r.oneError(t, "too_large", "")
			want := fmt.Sprintf("the query costs %d; the limit is 50000", tc.cost)
			if r.Status != http.StatusUnprocessableEntity || !strings.Contains(e.Message, want) || r.Data != nil {
				t.Fatalf("status %d, data %v, %v; want %q", r.Status, r.Data, e, want)
			}
		})
	}
	t.Run("Configured", func(t *testing.T) {
		s := newServer(t, graph.Limits{Complexity: 100})
		s.do(t, `{ jobs(first: 60) { id } }`, nil).oneError(t, "too_large", "")
		s.do(t, `{ jobs(first: 40) { id } }`, nil).ok(t)
	})
}

// Every list that grows with the catalog takes first, defaults to a page
// and refuses pages past the maximum, naming the argument.
func TestListPages(t *testing.T) {
	s := newServer(t, graph.Limits{PageMax: 2})
	for i := range 3 {
		in := runInput(fmt.Sprintf("0190b5c1-2f2a-7d3e-8a1b-00000000010%d", i), "COMPLETE", "2026-11-21T02:00:00Z")
		in["job"].(map[string]any)["name"] = fmt.Sprintf("job_%d", i)
		s.do(t, reportRun, map[string]any{"in": in}).ok(t)
	}
	names := func(d map[string]any) []string {
		var out []string
		for _, j := range d["jobs"].([]any) {
			out = append(out, j.(map[string]any)["name"].(string))
		}
		return out
	}
	t.Run("DefaultIsAtMostTheMax", func(t *testing.T) {
		if got := names(s.do(t, `{ jobs { name } }`, nil).ok(t)); len(got) != 2 || got[0] != "job_0" || got[1] != "job_1" {
			t.Fatalf("jobs = %v", got)
		}
	})
	t.Run("After", func(t *testing.T) {
		first := s.do(t, `{ jobs(first: 1) { id name } }`, nil).ok(t)["jobs"].([]any)[0].(map[string]any)
		got := names(s.do(t, `query($after: ID) { jobs(first: 2, after: $after) { name } }`, map[string]any{"after": first["id"]}).ok(t))
		if len(got) != 2 || got[0] != "job_1" || got[1] != "job_2" {
			t.Fatalf("after %s: %v", first["name"], got)
		}
		s.do(t, `{ jobs(after: "6f1c7d3e-0000-5000-8000-000000000000") { name } }`, nil).oneError(t, "invalid", "after")
	})
	for _, q := range []string{
		`{ jobs(first: 3) { name } }`,
		`{ jobs(first: 0) { name } }`,
		`{ sources(first: 3) { name } }`,
		`{ alerts(first: 3) { id } }`,
		`{ freshnessAlerts(first: 3) { status } }`,
		`{ datasets(first: 3) { totalCount } }`,
		`{ jobs(first: 1) { runs(first: 3) { nodes { id } } } }`,
		`{ jobs(first: 1) { inputs(first: 3) { id } } }`,
		`{ jobs(first: 1) { latestRun { children(first: 3) { id } } } }`,
		`{ jobs(first: 1) { outputs(first: 1) { history(first: 3) { at } } } }`,
		`{ jobs(first: 1) { outputs(first: 1) { metadataHistory(first: 3) { at } } } }`,
		`{ jobs(first: 1) { outputs(first: 1) { upstream(first: 3) { from } } } }`,
		`{ jobs(first: 1) { outputs(first: 1) { checks(first: 3) { name } } } }`,
		`{ jobs(first: 1) { outputs(first: 1) { writtenBy(first: 3) { name } } } }`,
		`{ jobs(first: 1) { outputs(first: 1) { dataChanges(first: 3) { at } } } }`,
	} {
		t.Run("ErrPastTheMax", func(t *testing.T) {
			e := s.do(t, q, nil).oneError(t, "invalid", "first")
			if !strings.Contains(e.Message, "must be between 1 and 2") {
				t.Fatalf("%s: %v", q, e)
			}
		})
	}
}

// The UI's operations (ui/src/api/operations.graphql) stay within the
// default limits: what the web app sends is never refused for its cost.
func TestUIOperationsWithinLimits(t *testing.T) {
	s := newServer(t, graph.Limits{})
	src, err := os.ReadFile("../ui/src/api/operations.graphql")
	if err != nil {
		t.Fatal(err)
	}
	doc, gerr := parser.ParseQuery(&ast.Source{Input: string(src)})
	if gerr != nil {
		t.Fatal(gerr)
	}
	const id = "6f1c7d3e-0000-5000-8000-000000000000"
	vars := map[string]any{"id": id, "nodeId": id, "query": "", "prefix": "ord", "name": "nothing", "input": map[string]any{}, "namespaces": []string{"x"}}
	for _, op := range doc.Operations {
		t.Run(op.Name, func(t *testing.T) {
			v := map[string]any{}
			for _, d := range op.VariableDefinitions {
				if x, ok := vars[d.Variable]; ok {
					v[d.Variable] = x
				}
			}
			body, _ := json.Marshal(map[string]any{"query": string(src), "operationName": op.Name, "variables": v})
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			r := s.send(t, req)
			for _, e := range r.Errors {
				if c := e.Code(); c != "not_found" {
					t.Fatalf("%s: %v", op.Name, r.Errors)
				}
			}
		})
	}
}

// Issue 15, defect 2: a request runs at most the configured time; past it
// the request is cancelled and answers cancelled, saying the limit.
func TestRequestTimeout(t *testing.T) {
	s := newServer(t, graph.Limits{Timeout: time.Nanosecond})
	for _, q := range []string{
		`{ search(query: "orders") { total hits { dataset { name } } } }`,
		`{ jobs { name } }`,
		`{ lineage(nodeId: "6f1c7d3e-0000-5000-8000-000000000000") { nodes { id } } }`,
	} {
		r := s.do(t, q, nil)
		e := r.oneError(t, "cancelled", "")
		if !strings.Contains(e.Message, "time limit of 1ns") || r.Data != nil {
			t.Fatalf("%s: data %v, %v", q, r.Data, e)
		}
	}
	newServer(t, graph.Limits{Timeout: time.Minute}).do(t, `{ jobs { name } }`, nil).ok(t)
}

// Issue 15, defect 2: the texts a mutation stores have size limits; past
// one the answer is too_large naming the input field, and nothing is
// stored.
func TestStoredSizes(t *testing.T) {
	s := newServer(t, graph.Limits{})
	in := runInput("0190b5c1-2f2a-7d3e-8a1b-0000000000b1", "COMPLETE", "2026-11-21T02:00:00Z")
	in["sql"] = strings.Repeat("x", quarry.MaxSQLLen+1)
	e := s.do(t, reportRun, map[string]any{"in": in}).oneError(t, "too_large", "input.sql")
	if !strings.Contains(e.Message, fmt.Sprintf("the limit is %d", quarry.MaxSQLLen)) {
		t.Fatalf("%v", e)
	}
	in["sql"], in["errorMessage"] = "SELECT 1", strings.Repeat("x", quarry.MaxDescriptionLen+1)
	s.do(t, reportRun, map[string]any{"in": in}).oneError(t, "too_large", "input.errorMessage")
	in["errorMessage"] = nil
	in["job"].(map[string]any)["description"] = strings.Repeat("x", quarry.MaxDescriptionLen+1)
	s.do(t, reportRun, map[string]any{"in": in}).oneError(t, "too_large", "input.job.description")
	if d := s.do(t, `{ jobs { name } run(id: "0190b5c1-2f2a-7d3e-8a1b-0000000000b1") { id } }`, nil).ok(t); len(d["jobs"].([]any)) != 0 || d["run"] != nil {
		t.Fatalf("stored: %v", d)
	}
	in["job"].(map[string]any)["description"] = "Copies orders."
	in["sql"] = strings.Repeat("x", quarry.MaxSQLLen)
	s.do(t, reportRun, map[string]any{"in": in}).ok(t)
	// Lists of jobs are read without their SQL; the field reads it.
	jobs := s.do(t, `{ jobs { name sql } }`, nil).ok(t)["jobs"].([]any)
	if sql, _ := jobs[0].(map[string]any)["sql"].(string); len(jobs) != 1 || len(sql) != quarry.MaxSQLLen {
		t.Fatalf("jobs: %d, the SQL %d bytes", len(jobs), len(sql))
	}
}

// BenchmarkJobsPageLargeSQL reads a page of 100 jobs whose SQL is 100 KiB
// each, without the SQL: a list of jobs is read without it (B/op is what a
// request allocates, client included).
func BenchmarkJobsPageLargeSQL(b *testing.B) {
	s := newServer(b, graph.Limits{})
	for i := range 100 {
		in := runInput(fmt.Sprintf("0190b5c1-2f2a-7d3e-8a1b-%012d", 1000+i), "COMPLETE", "2026-11-21T02:00:00Z")
		in["job"].(map[string]any)["name"] = fmt.Sprintf("job_%03d", i)
		in["sql"] = strings.Repeat("SELECT x FROM y; ", 100<<10/17)
		s.do(b, reportRun, map[string]any{"in": in}).ok(b)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if n := len(s.do(b, `{ jobs { id namespace name description } }`, nil).ok(b)["jobs"].([]any)); n != 100 {
			b.Fatalf("%d jobs", n)
		}
	}
}

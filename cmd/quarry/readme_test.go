package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/graph/graphtest"
)

// TestReadmeExamples: the README's GraphQL examples, and its curl of
// /graphql, run without an error against `quarry serve --demo` (what `make
// run` serves), so that a newcomer can paste them. Those that need a
// database to crawl are left out: the demo has none.
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	type example struct {
		line  int
		query string
	}
	var examples []example
	lineOf := func(i int) int { return strings.Count(string(readme[:i]), "\n") + 1 }
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllSubmatchIndex(readme, -1) {
		q := string(readme[m[2]:m[3]])
		if strings.Contains(q, "crawlSource") {
			continue
		}
		examples = append(examples, example{lineOf(m[0]), q})
	}
	for _, m := range regexp.MustCompile(`(?s)curl -s http://127\.0\.0\.1:8080/graphql [^\n]*-d '(.*?)'`).FindAllSubmatchIndex(readme, -1) {
		var body struct{ Query string }
		if err := json.Unmarshal(readme[m[2]:m[3]], &body); err != nil || body.Query == "" {
			t.Fatalf("README.md:%d: the curl's body is not a GraphQL request: %v", lineOf(m[0]), err)
		}
		examples = append(examples, example{lineOf(m[0]), body.Query})
	}
	if len(examples) < 6 {
		t.Fatalf("found %d examples in README.md, want at least 6", len(examples))
	}

	p := start(t, "--data", t.TempDir(), "--demo")
	waitSearchReady(t, p)
	id := p.graphql(t, `{ dataset(namespace: "redshift://analytics.us-east-1:5439", name: "analytics.reporting.daily_revenue") { id } }`, nil)["dataset"].(map[string]any)["id"]
	c := graphtest.Client{URL: "http://" + p.addr + "/graphql"}
	// Each dataset an example names is the demo's, but the one that
	// upsertDatasets adds.
	pair := regexp.MustCompile(`namespace: \\?"([^"\\]+)\\?", name: \\?"([^"\\]+)\\?"`)
	for _, ex := range examples {
		for i, m := range pair.FindAllStringSubmatch(ex.query, -1) {
			if i == 0 && strings.Contains(ex.query, "upsertDatasets") || strings.Contains(ex.query, "job: {"+m[0]) {
				continue // the dataset it adds; a job
			}
			if d := p.graphql(t, `query($ns: String!, $name: String!) { dataset(namespace: $ns, name: $name) { id } }`,
				map[string]any{"ns": m[1], "name": m[2]})["dataset"]; d == nil {
				t.Errorf("README.md:%d: the example names %s %s, which is not in the demo", ex.line, m[1], m[2])
			}
		}
	}
	for _, ex := range examples {
		var vars map[string]any
		if strings.Contains(ex.query, "$id") {
			vars = map[string]any{"id": id}
		}
		res := c.Do(t, ex.query, vars)
		if len(res.Errors) > 0 {
			t.Errorf("README.md:%d: the example fails against the demo: %v", ex.line, res.Errors)
			continue
		}
		// An example that finds nothing shows nothing: each finds something.
		for field, v := range res.Data {
			if b, _ := json.Marshal(v); v == nil || string(b) == "[]" || strings.Contains(string(b), `"total":0,`) {
				t.Errorf("README.md:%d: the example's %s finds nothing in the demo: %s", ex.line, field, b)
			}
		}
	}
	p.stop(t)
}

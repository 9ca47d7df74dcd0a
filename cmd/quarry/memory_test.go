package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// olEvent is an OpenLineage RunEvent of job etl.<job> with the given sql
// facet (none when empty).
func olEvent(job, runID, state, sql string) []byte {
	facets := map[string]any{}
	if sql != "" {
		facets["sql"] = map[string]any{"_producer": "https://example.com/etl", "_schemaURL": "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json", "query": sql}
	}
	b, err := json.Marshal(map[string]any{
		"eventType": state, "eventTime": time.Now().UTC().Format(time.RFC3339Nano),
		"producer": "https://example.com/etl", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
		"run":     map[string]any{"runId": runID},
		"job":     map[string]any{"namespace": "airflow", "name": job, "facets": facets},
		"inputs":  []any{map[string]any{"namespace": "postgres://db:5432", "name": "shop.public.orders"}},
		"outputs": []any{map[string]any{"namespace": "postgres://db:5432", "name": "shop.public." + job}},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// postLineage posts an OpenLineage event and returns the status and the
// error it answered, if any.
func postLineage(t *testing.T, p *proc, body []byte) (int, map[string]any) {
	t.Helper()
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Post("http://"+p.addr+"/api/v1/lineage", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /api/v1/lineage (%d bytes): %v\n%s", len(body), err, tail(p.logs.String()))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Error map[string]any `json:"error"`
	}
	json.Unmarshal(b, &out)
	return resp.StatusCode, out.Error
}

// Defect 2 of issue 15: a 10 MB sql facet took the server to 1.5 GB (and
// growing under ordinary writes after), 300 aliases of the unpaged jobs
// list answered 30 MB and took 2.4 GB, 1,000 aliases of a lineage query
// 1.9 GB. Now the facet is refused, naming its field, and the queries are
// refused before they run, saying their cost and the limit; the server
// stays small and answers the next request.
func TestMemoryAmplificationRefused(t *testing.T) {
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
	t.Run("ErrLargeSQLFacet", func(t *testing.T) {
		status, e := postLineage(t, p, olEvent("big", "0190b5c1-2f2a-7d3e-8a1b-0000000000c1", "COMPLETE", "SELECT "+strings.Repeat("x", 10<<20)))
		if status != http.StatusRequestEntityTooLarge || e["code"] != "too_large" || e["field"] != "job.facets.sql.query" {
			t.Fatalf("status %d, error %v", status, e)
		}
		alive(t)
		if d := p.graphql(t, `{ job(namespace: "airflow", name: "big") { id } }`, nil); d["job"] != nil {
			t.Fatalf("the refused event's job is stored: %v", d)
		}
		if rss := procRSS(t, p.cmd.Process.Pid); rss > 512<<20 {
			t.Errorf("RSS %d MB after the refused facet", rss>>20)
		}
	})
	t.Run("LargeSQLAllowed", func(t *testing.T) {
		sql := "SELECT " + strings.Repeat("x", 900<<10)
		if status, e := postLineage(t, p, olEvent("large", "0190b5c1-2f2a-7d3e-8a1b-0000000000c2", "COMPLETE", sql)); status != http.StatusCreated {
			t.Fatalf("status %d, error %v", status, e)
		}
		for i := range 20 { // ordinary writes after it
			if status, e := postLineage(t, p, olEvent("large", fmt.Sprintf("0190b5c1-2f2a-7d3e-8a1b-0000000001%02d", i), "COMPLETE", "")); status != http.StatusCreated {
				t.Fatalf("status %d, error %v", status, e)
			}
		}
		var got string
		for deadline := time.Now().Add(10 * time.Second); got == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if j, _ := p.graphql(t, `{ job(namespace: "airflow", name: "large") { sql } }`, nil)["job"].(map[string]any); j != nil {
				got, _ = j["sql"].(string)
			}
		}
		if got != sql {
			t.Fatalf("the job's SQL is %d bytes, want %d", len(got), len(sql))
		}
	})
	for _, tc := range []struct{ name, query, cost string }{
		{"ErrJobsAliases", aliasesOf(300, "jobs { id namespace name }"), "costs 120000"},
		{"ErrLineageAliases", aliasesOf(1000, `lineage(nodeId: "6f1c7d3e-0000-5000-8000-000000000000") { nodes { id } }`), "costs 3000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, size, errs := postGraphQL(t, p, request(tc.query, nil))
			if status != http.StatusUnprocessableEntity || len(errs) != 1 || size > 4<<10 {
				t.Fatalf("status %d, %d bytes, errors %v", status, size, errs)
			}
			msg, _ := errs[0]["message"].(string)
			if code := errs[0]["extensions"].(map[string]any)["code"]; code != "too_large" || !strings.Contains(msg, tc.cost) || !strings.Contains(msg, "the limit is 50000") {
				t.Fatalf("error %v", errs[0])
			}
			alive(t)
		})
	}
	p.stop(t)
}

func aliasesOf(n int, field string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	b.WriteString(" }")
	return b.String()
}

// A GraphQL request runs at most limits.queryTimeout: past it, it is
// cancelled and answers cancelled, saying the limit.
func TestQueryTimeout(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "quarry.yaml")
	if err := os.WriteFile(cfg, []byte("limits: {queryTimeout: 1ns}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "--data", t.TempDir(), "--config", cfg)
	status, _, errs := postGraphQL(t, p, request(`{ jobs { name } search(query: "orders") { total } }`, nil))
	if len(errs) != 1 || errs[0]["extensions"].(map[string]any)["code"] != "cancelled" || !strings.Contains(errs[0]["message"].(string), "time limit of 1ns") {
		t.Fatalf("status %d, errors %v", status, errs)
	}
	p.stop(t)
}

package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The OpenLineage endpoint of the real binary: a text/plain body is 415, a
// GET is 405 (not the UI's page), and the second of two events of different
// jobs with one run id is 409 before it could be acknowledged and dropped.
func TestServeLineageEdge(t *testing.T) {
	p := start(t, "--data", t.TempDir())
	url := "http://" + p.addr + "/api/v1/lineage"
	event := func(job string) string {
		return `{"eventType":"START","eventTime":"2026-11-21T01:02:03Z","producer":"p","run":{"runId":"0190b5c1-2f2a-7d3e-8a1b-0000000000a1"},
			"job":{"namespace":"airflow","name":"` + job + `"},"outputs":[{"namespace":"postgres://wh:5432","name":"dw.public.t"}]}`
	}
	post := func(contentType, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(url, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if status, body := post("text/plain", event("a")); status != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain: %d %s", status, body)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if status, body := post("application/json", event("a")); status != http.StatusCreated {
		t.Fatalf("first event: %d %s", status, body)
	}
	if status, body := post("application/json", event("b")); status != http.StatusConflict || !strings.Contains(body, `"field":"run.runId"`) {
		t.Fatalf("another job's event with the run id: %d %s", status, body)
	}
	// The accepted one is applied.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r := p.graphql(t, `{ run(id: "0190b5c1-2f2a-7d3e-8a1b-0000000000a1") { job { name } } }`, nil)["run"]
		if r != nil {
			if name := r.(map[string]any)["job"].(map[string]any)["name"]; name != "a" {
				t.Fatalf("the run's job: %v", name)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the accepted event was not applied")
		}
	}
	p.stop(t)
}

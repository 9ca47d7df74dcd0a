package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/lineage/oltest"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

// postEvent posts one OpenLineage event and returns the status and body.
func postEvent(t testing.TB, s *servertest.Server, path string, body []byte, header ...string) (int, map[string]any) {
	t.Helper()
	resp, raw := s.Request(t, http.MethodPost, path, body, append([]string{"Content-Type", "application/json"}, header...)...)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("status %d, body not JSON: %s", resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func synced(t testing.TB, s *servertest.Server) {
	t.Helper()
	if err := s.Store.SyncLineage(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func lastSeq(t testing.TB, s *servertest.Server) uint64 {
	t.Helper()
	seq, err := s.Store.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// Every fixture event is accepted.
func TestOpenLineageFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(oltest.Dir, "events", "*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("fixture events: %v %v (../shared/fixtures must be beside the repository)", files, err)
	}
	s := servertest.New(t, nil)
	n := 0
	for _, f := range files {
		evs := oltest.Events(t, filepath.Join("events", filepath.Base(f)))
		s.PostEvents(t, evs...)
		n += len(evs)
	}
	t.Logf("%d events from %d files", n, len(files))
}

func TestOpenLineageBadInput(t *testing.T) {
	s := servertest.New(t, &server.Options{Limits: server.Limits{LineageBodyBytes: 64 << 10}})
	good := `{"eventType":"START","eventTime":"2026-11-21T01:02:03Z","producer":"p","run":{"runId":"0190b5c1-2f2a-7d3e-8a1b-0000000000e1"},
		"job":{"namespace":"ns","name":"j"},"inputs":[{"namespace":"postgres://db","name":"a.b.c"}]}`
	seq := lastSeq(t, s)
	for _, tc := range []struct {
		name, body, field string
	}{
		{"NotJSON", `{"eventType": `, "body"},
		{"NoRunID", strings.Replace(good, `"runId":"0190b5c1-2f2a-7d3e-8a1b-0000000000e1"`, `"facets":{}`, 1), "run.runId"},
		{"BadUUID", strings.Replace(good, "0190b5c1-2f2a-7d3e-8a1b-0000000000e1", "0190b5c1-nope", 1), "run.runId"},
		{"BadTime", strings.Replace(good, "2026-11-21T01:02:03Z", "yesterday", 1), "eventTime"},
		{"NoDatasetName", strings.Replace(good, `"name":"a.b.c"`, `"name":""`, 1), "inputs[0].name"},
		{"WrongType", strings.Replace(good, `"name":"j"`, `"name":5`, 1), "job.name"},
		{"InputsNotList", strings.Replace(good, `"inputs":[{"namespace":"postgres://db","name":"a.b.c"}]`, `"inputs":{}`, 1), "inputs"},
		{"BadNamespace", strings.Replace(good, "postgres://db", "postgres://db:99999", 1), "inputs[0].namespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postEvent(t, s, "/api/v1/lineage", []byte(tc.body))
			e, _ := body["error"].(map[string]any)
			if status != http.StatusBadRequest || e["code"] != "invalid" || e["field"] != tc.field {
				t.Fatalf("status %d %v, want 400 naming %s", status, body, tc.field)
			}
		})
	}
	if lastSeq(t, s) != seq {
		t.Fatal("an invalid event stored something")
	}

	// Too large, declared or streamed, and a gzip bomb.
	big := bytes.Repeat([]byte(" "), 65<<10)
	if status, _ := postEvent(t, s, "/api/v1/lineage", append([]byte(good), big...)); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized: %d", status)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte(good))
	zw.Write(big)
	zw.Close()
	if status, _ := postEvent(t, s, "/api/v1/lineage", z.Bytes(), "Content-Encoding", "gzip"); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("gzip bomb: %d", status)
	}

	// gzip is accepted; a retry is stored once.
	z.Reset()
	zw = gzip.NewWriter(&z)
	zw.Write([]byte(good))
	zw.Close()
	if status, body := postEvent(t, s, "/api/v1/lineage", z.Bytes(), "Content-Encoding", "gzip"); status != http.StatusCreated {
		t.Fatalf("gzip: %d %v", status, body)
	}
	synced(t, s)
	seq = lastSeq(t, s)
	s.PostEvents(t, []byte(good))
	if lastSeq(t, s) != seq {
		t.Fatal("a retried event was stored again")
	}

	// The batch endpoint answers per event.
	batch := fmt.Sprintf(`[%s, {"eventType":"COMPLETE"}, %s]`, good, strings.Replace(good, "START", "COMPLETE", 1))
	status, body := postEvent(t, s, "/api/v1/lineage/batch", []byte(batch))
	sum, _ := body["summary"].(map[string]any)
	failed, _ := body["failed_events"].([]any)
	if status != http.StatusOK || body["status"] != "partial_success" || sum["received"] != float64(3) || sum["successful"] != float64(2) || len(failed) != 1 ||
		failed[0].(map[string]any)["index"] != float64(1) {
		t.Fatalf("batch: %d %v", status, body)
	}
	if status, body := postEvent(t, s, "/api/v1/lineage/batch", []byte(`{"not":"a list"}`)); status != http.StatusBadRequest {
		t.Fatalf("batch of an object: %d %v", status, body)
	}
	synced(t, s)
	r := s.GraphQL.Query(t, `{ job(namespace: "ns", name: "j") { latestRun { state events } } }`, nil)
	if run := r["job"].(map[string]any)["latestRun"].(map[string]any); run["state"] != "COMPLETE" || run["events"] != float64(2) {
		t.Fatalf("run after the batch: %v", run)
	}
}

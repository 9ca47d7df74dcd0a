package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/server/servertest"
)

const edgeEvent = `{"eventType":"START","eventTime":"2026-11-21T01:02:03Z","producer":"p","run":{"runId":"0190b5c1-2f2a-7d3e-8a1b-0000000000f1"},
	"job":{"namespace":"ns","name":"j"}}`

// errorOf decodes the API's error answer.
func errorOf(t *testing.T, raw []byte) (code, field string) {
	t.Helper()
	var body struct{ Error struct{ Code, Field string } }
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("not an error answer: %s", raw)
	}
	return body.Error.Code, body.Error.Field
}

// The OpenLineage endpoints take JSON only: a body a browser may send to
// another site without a CORS preflight (text/plain, a form) is 415.
func TestOpenLineageContentType(t *testing.T) {
	s := servertest.New(t, nil)
	for _, path := range []string{"/api/v1/lineage", "/api/v1/lineage/batch"} {
		body := edgeEvent
		if strings.HasSuffix(path, "batch") {
			body = "[" + edgeEvent + "]"
		}
		for _, ct := range []string{"", "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "application/json; charset"} {
			var header []string
			if ct != "" {
				header = []string{"Content-Type", ct}
			}
			resp, raw := s.Request(t, http.MethodPost, path, []byte(body), header...)
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Fatalf("%s with %q: %d %s, want 415", path, ct, resp.StatusCode, raw)
			}
			if code, field := errorOf(t, raw); code != "invalid" || field != "Content-Type" {
				t.Fatalf("%s with %q: %s", path, ct, raw)
			}
		}
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
			resp, raw := s.Request(t, http.MethodPost, path, []byte(body), "Content-Type", ct)
			if resp.StatusCode/100 != 2 {
				t.Fatalf("%s with %q: %d %s", path, ct, resp.StatusCode, raw)
			}
		}
	}
}

// A method an API path does not serve is 405 with an Allow header, not the
// UI's page; an unknown path under /api/ is 404.
func TestAPIMethodNotAllowed(t *testing.T) {
	s := servertest.New(t, nil)
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodGet, "/api/v1/lineage", "POST"},
		{http.MethodPut, "/api/v1/lineage", "POST"},
		{http.MethodGet, "/api/v1/lineage/batch", "POST"},
		{http.MethodGet, "/api/v1/admin/reindex", "POST"},
		{http.MethodPost, "/api/v1/admin/backup", "GET, HEAD"},
		{http.MethodDelete, "/healthz", "GET, HEAD"},
		{http.MethodPut, "/graphql", "POST, GET, HEAD"},
	} {
		resp, raw := s.Request(t, tc.method, tc.path, nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow {
			t.Fatalf("%s %s: %d Allow %q %.200s, want 405 Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), raw, tc.allow)
		}
		if code, _ := errorOf(t, raw); code != "invalid" {
			t.Fatalf("%s %s: %s", tc.method, tc.path, raw)
		}
	}
	resp, raw := s.Request(t, http.MethodGet, "/api/v2/nothing", nil)
	if code, _ := errorOf(t, raw); resp.StatusCode != http.StatusNotFound || code != "not_found" {
		t.Fatalf("an unknown API path: %d %s", resp.StatusCode, raw)
	}
	// The UI still serves its pages.
	if resp, raw := s.Request(t, http.MethodGet, "/datasets/x", nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "<html") {
		t.Fatalf("the UI: %d %.200s", resp.StatusCode, raw)
	}
}

// Two events of different jobs with one run id: the second is refused
// before its 201 (409 conflict on run.runId), even while the first waits
// in the lineage log, and per event in a batch.
func TestOpenLineageRunConflict(t *testing.T) {
	s := servertest.New(t, nil)
	other := strings.Replace(edgeEvent, `"name":"j"`, `"name":"k"`, 1)
	if status, body := postEvent(t, s, "/api/v1/lineage", []byte(edgeEvent)); status != http.StatusCreated {
		t.Fatalf("%d %v", status, body)
	}
	resp, raw := s.Request(t, http.MethodPost, "/api/v1/lineage", []byte(other), "Content-Type", "application/json")
	if code, field := errorOf(t, raw); resp.StatusCode != http.StatusConflict || code != "conflict" || field != "run.runId" {
		t.Fatalf("the other job's event: %d %s", resp.StatusCode, raw)
	}
	fresh := strings.Replace(other, "0000000000f1", "0000000000f2", 1)
	status, body := postEvent(t, s, "/api/v1/lineage/batch", []byte("["+fresh+","+edgeEvent+","+other+"]"))
	failed, _ := body["failed_events"].([]any)
	if status != http.StatusOK || len(failed) != 1 {
		t.Fatalf("batch: %d %v", status, body)
	}
	if f := failed[0].(map[string]any); f["index"] != 2.0 || f["field"] != "run.runId" || f["retriable"] != false {
		t.Fatalf("batch failure: %v", f)
	}
}

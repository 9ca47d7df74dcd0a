package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
	"github.com/quarrydata/quarry/store"
)

func TestHTTPEndpoints(t *testing.T) {
	s := servertest.New(t, nil)
	s.GraphQL.Query(t, `query ListAll { datasets { totalCount } }`, nil)
	s.GraphQL.Query(t, `mutation Upsert($input: [DatasetInput!]!) { upsertDatasets(input: $input) { count } }`, map[string]any{"input": []any{
		map[string]any{"namespace": "postgres://shop-db.internal", "name": "shop.public.orders_01", "description": "One row per order."},
	}})

	get := func(path string, header ...string) (*http.Response, string) {
		resp, b := s.Request(t, http.MethodGet, path, nil, header...)
		return resp, string(b)
	}
	t.Run("Healthz", func(t *testing.T) {
		resp, body := get("/healthz")
		var h struct {
			Status string      `json:"status"`
			Store  store.Stats `json:"store"`
		}
		if err := json.Unmarshal([]byte(body), &h); err != nil || resp.StatusCode != 200 || h.Status != "ok" || h.Store.Datasets != 1 || h.Store.LastSeq != 1 {
			t.Fatalf("healthz %d %s", resp.StatusCode, body)
		}
	})
	t.Run("Metrics", func(t *testing.T) {
		_, body := get("/metrics")
		for _, want := range []string{
			`quarry_graphql_requests_total{operation="ListAll",outcome="ok",type="query"} 1`,
			`quarry_graphql_requests_total{operation="Upsert",outcome="ok",type="mutation"} 1`,
			`quarry_graphql_request_seconds_count{operation="Upsert",type="mutation"} 1`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
	t.Run("GraphiQL", func(t *testing.T) {
		resp, body := get("/graphql", "Accept", "text/html")
		if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(body), "graphiql") {
			t.Fatalf("GET /graphql: %d", resp.StatusCode)
		}
		// A GET with a query is a query, not the explorer.
		_, body = get("/graphql?query=%7Bdatasets%7BtotalCount%7D%7D", "Accept", "text/html")
		if !strings.Contains(body, `"totalCount":1`) {
			t.Fatalf("GET query: %s", body)
		}
	})
	t.Run("UI", func(t *testing.T) {
		for _, path := range []string{"/", "/datasets/some-id"} {
			resp, body := get(path)
			if resp.StatusCode != 200 || !strings.Contains(body, "/graphql") {
				t.Fatalf("GET %s: %d", path, resp.StatusCode)
			}
		}
		if resp, _ := get("/nope.js"); resp.StatusCode != 404 {
			t.Fatalf("missing asset: %d", resp.StatusCode)
		}
	})
	t.Run("Backup", func(t *testing.T) {
		resp, body := get("/api/v1/admin/backup")
		if resp.StatusCode != 200 {
			t.Fatalf("backup: %d", resp.StatusCode)
		}
		path := filepath.Join(t.TempDir(), "copy.db")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		cp, err := store.Open(path, &store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer cp.Close()
		if d, err := cp.DatasetByName(context.Background(), "postgres://shop-db.internal", "shop.public.orders_01"); err != nil || d.Description() != "One row per order." {
			t.Fatalf("backup copy: %v %v", d, err)
		}
	})
}

// TestErrorShape checks that errors refused at the edge, by the OpenLineage
// endpoints and by the admin endpoints have one shape, which GraphQL
// clients and the lineage API's clients both read, and the status of their
// code.
func TestErrorShape(t *testing.T) {
	s := servertest.New(t, &server.Options{Limits: server.Limits{BodyBytes: 1 << 10}})
	type detail struct{ Code, Field, Message string }
	var body struct {
		Errors []struct {
			Message    string
			Extensions detail
		}
		Error detail
	}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"GraphQLTooLarge", http.MethodPost, "/graphql", fmt.Sprintf(`{"query": "{ datasets { totalCount } }", "x": "%s"}`, strings.Repeat("x", 2<<10)), 413, "too_large", ""},
		{"GraphQLNotJSON", http.MethodPost, "/graphql", `{"query": `, 400, "invalid", ""},
		{"LineageInvalid", http.MethodPost, "/api/v1/lineage", `{"eventType": "START", "eventTime": "yesterday", "producer": "p", "run": {"runId": "0190b5c1-2f2a-7d3e-8a1b-0000000000e1"}, "job": {"namespace": "ns", "name": "j"}}`, 400, "invalid", "eventTime"},
		{"LineageBatchNotList", http.MethodPost, "/api/v1/lineage/batch", `{}`, 400, "invalid", "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := s.Request(t, tc.method, tc.path, []byte(tc.body), "Content-Type", "application/json")
			body.Errors, body.Error = nil, detail{}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("%d %s: %v", resp.StatusCode, raw, err)
			}
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" || len(body.Errors) != 1 {
				t.Fatalf("%d %s, want %d", resp.StatusCode, raw, tc.status)
			}
			e := body.Errors[0]
			if e.Extensions.Code != tc.code || e.Extensions.Field != tc.field || body.Error.Code != tc.code || body.Error.Field != tc.field ||
				e.Message == "" || body.Error.Message != e.Message {
				t.Fatalf("%s, want code %q field %q both ways", raw, tc.code, tc.field)
			}
		})
	}
	t.Run("UnsupportedEncoding", func(t *testing.T) {
		resp, raw := s.Request(t, http.MethodPost, "/api/v1/lineage", []byte("x"), "Content-Type", "application/json", "Content-Encoding", "br")
		if resp.StatusCode != http.StatusUnsupportedMediaType || !bytes.Contains(raw, []byte(`"code":"invalid"`)) {
			t.Fatalf("%d %s", resp.StatusCode, raw)
		}
	})
}

package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

const dbtDir = "../../shared/fixtures/dbt/"

// dbtBody is a POST /api/v1/dbt body: the options and the files as fields.
func dbtBody(t *testing.T, fields map[string]string, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("{")
	sep := ""
	for k, v := range fields {
		j, _ := json.Marshal(v)
		b.WriteString(sep + `"` + k + `": ` + string(j))
		sep = ", "
	}
	for k, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(sep + `"` + k + `": `)
		b.Write(raw)
		sep = ", "
	}
	b.WriteString("}")
	return b.Bytes()
}

func TestDBTEndpoint(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		srv := servertest.New(t, nil)
		d := dbtDir + "datahub_jaffle_shop/"
		body := dbtBody(t, map[string]string{"namespace": "bigquery"}, map[string]string{
			"manifest": d + "jaffle_shop_manifest.json", "catalog": d + "jaffle_shop_catalog.json", "run_results": d + "jaffle_shop_test_results.json",
		})
		resp, raw := srv.Request(t, http.MethodPost, "/api/v1/dbt", body, "Content-Type", "application/json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %s: %s", resp.Status, raw)
		}
		var res quarry.DBTResult
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		if res.Counts.Models != 5 || res.Counts.Seeds != 3 || res.Counts.Tests != 24 || res.Counts.TestResults != 23 || len(res.Warnings) != 1 || res.Created != 8 {
			t.Errorf("answer: %s", raw)
		}
		// Through GraphQL: the model's dbt layer.
		data := srv.GraphQL.Query(t, `{ dataset(namespace: "bigquery", name: "calm-pagoda-323403.jaffle_shop.customers") {
			id kind description columns { name description type } dbt { resourceType properties { key value } tests { name type column latest { status failures executionTime } } } } }`, nil)
		ds := data["dataset"].(map[string]any)
		if ds["description"] != "This table has basic information about a customer, as well as some derived facts based on a customer's orders" {
			t.Errorf("description %q", ds["description"])
		}
		tests := ds["dbt"].(map[string]any)["tests"].([]any)
		if len(tests) == 0 {
			t.Fatal("no tests")
		}

		// The lineage graph follows: customers is built from the staging
		// models through its job.
		var nodes []any
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			// The lineage graph follows the store: until it has caught
			// up with the import, the model is not one of its nodes yet.
			r := srv.GraphQL.Do(t, `query($id: ID!) { lineage(nodeId: $id, direction: UPSTREAM, depth: 1) { nodes { kind name } edges { origin } } }`,
				map[string]any{"id": ds["id"]})
			if len(r.Errors) == 1 && r.Errors[0].Code() == "not_found" {
				continue
			}
			if len(r.Errors) > 0 {
				t.Fatalf("lineage: %+v", r.Errors)
			}
			l := r.Data["lineage"].(map[string]any)
			if nodes = l["nodes"].([]any); len(nodes) == 5 {
				for _, e := range l["edges"].([]any) {
					if o := e.(map[string]any)["origin"]; o != "DBT" {
						t.Errorf("edge origin %v", o)
					}
				}
				break
			}
		}
		var kinds []string
		for _, n := range nodes {
			m := n.(map[string]any)
			kinds = append(kinds, m["kind"].(string)+" "+m["name"].(string))
		}
		slices.Sort(kinds)
		if want := []string{"DATASET calm-pagoda-323403.jaffle_shop.customers", "DATASET calm-pagoda-323403.jaffle_shop.stg_customers", "DATASET calm-pagoda-323403.jaffle_shop.stg_orders", "DATASET calm-pagoda-323403.jaffle_shop.stg_payments", "JOB calm-pagoda-323403.jaffle_shop.jaffle_shop.customers"}; !slices.Equal(kinds, want) {
			t.Errorf("upstream of customers: %q, want %q", kinds, want)
		}

		// gzip, and the same files again: nothing changes.
		seq, _ := srv.Store.LastSeq(ctx)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(body)
		zw.Close()
		resp, raw = srv.Request(t, http.MethodPost, "/api/v1/dbt", gz.Bytes(), "Content-Type", "application/json", "Content-Encoding", "gzip")
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"changed":0`) {
			t.Errorf("again, gzipped: %s %s", resp.Status, raw)
		}
		if after, _ := srv.Store.LastSeq(ctx); after != seq {
			t.Errorf("a re-import wrote %d changelog records", after-seq)
		}
	})
	t.Run("SourcesAndExposures", func(t *testing.T) {
		srv := servertest.New(t, nil)
		d := dbtDir + "dbt_bouncer_1_11/"
		body := dbtBody(t, map[string]string{"namespace": "duckdb://local"}, map[string]string{"manifest": d + "manifest.json", "catalog": d + "catalog.json"})
		resp, raw := srv.Request(t, http.MethodPost, "/api/v1/dbt", body, "Content-Type", "application/json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %s: %s", resp.Status, raw)
		}
		data := srv.GraphQL.Query(t, `{
			src: dataset(namespace: "duckdb://local", name: "dbt.dummy_source.customers") {
				owners freshness { origin policy { warnAfter errorAfter } } dbt { resourceType properties { key value } } }
			dash: dataset(namespace: "dbt://dbt_bouncer_test_project", name: "customers") {
				kind owners upstream { fromDataset { name } origin } }
			orders: dataset(namespace: "duckdb://local", name: "dbt.main_marts.orders") {
				dbt { columns { name description type meta { key value } } } } }`, nil)
		src := data["src"].(map[string]any)
		f := src["freshness"].(map[string]any)
		p := f["policy"].(map[string]any)
		if f["origin"] != "DBT" || p["warnAfter"] != "12h" || p["errorAfter"] != "1d" {
			t.Errorf("source freshness: %v", f)
		}
		dash := data["dash"].(map[string]any)
		up := dash["upstream"].([]any)
		if dash["kind"] != "DASHBOARD" || len(up) != 1 || up[0].(map[string]any)["fromDataset"].(map[string]any)["name"] != "dbt.main_marts.customers_v2" {
			t.Errorf("dashboard: %v", dash)
		}
		cols := data["orders"].(map[string]any)["dbt"].(map[string]any)["columns"].([]any)
		first := cols[0].(map[string]any)
		if first["name"] != "order_id" || first["type"] != "integer" || len(first["meta"].([]any)) != 1 {
			t.Errorf("orders' first dbt column: %v", first)
		}
	})
	t.Run("Bad", func(t *testing.T) {
		srv := servertest.New(t, &server.Options{Limits: server.Limits{DBTBodyBytes: 64 << 10}})
		small := dbtBody(t, map[string]string{"namespace": "postgres://wh:5432"}, map[string]string{"manifest": dbtDir + "jaffle_shop_duckdb/manifest.json"})
		for _, c := range []struct {
			name   string
			body   []byte
			header []string
			status int
			want   string
		}{
			{"Form", small, []string{"Content-Type", "multipart/form-data; boundary=x"}, http.StatusUnsupportedMediaType, "send application/json"},
			{"TooLarge", dbtBody(t, map[string]string{"namespace": "x"}, map[string]string{"manifest": dbtDir + "jaffle_shop_postgres/manifest.json"}), nil, http.StatusRequestEntityTooLarge, "limit"},
			{"Truncated", small[:len(small)/2], nil, http.StatusBadRequest, "truncated"},
			{"Version", bytes.Replace(small, []byte("manifest/v12.json"), []byte("manifest/v4.json"), 1), nil, http.StatusBadRequest, "metadata.dbt_schema_version"},
			{"NoNamespace", dbtBody(t, nil, map[string]string{"manifest": dbtDir + "jaffle_shop_duckdb/manifest.json"}), nil, http.StatusBadRequest, "namespace"},
			{"UnknownSource", dbtBody(t, map[string]string{"source": "nope"}, map[string]string{"manifest": dbtDir + "jaffle_shop_duckdb/manifest.json"}), nil, http.StatusNotFound, "nope"},
		} {
			t.Run(c.name, func(t *testing.T) {
				h := c.header
				if h == nil {
					h = []string{"Content-Type", "application/json"}
				}
				resp, raw := srv.Request(t, http.MethodPost, "/api/v1/dbt", c.body, h...)
				if resp.StatusCode != c.status || !strings.Contains(string(raw), c.want) {
					t.Errorf("got %s %s, want %d with %q", resp.Status, raw, c.status, c.want)
				}
			})
		}
		// Over the limit without saying so (chunked): 413 all the same.
		big := dbtBody(t, map[string]string{"namespace": "x"}, map[string]string{"manifest": dbtDir + "jaffle_shop_postgres/manifest.json"})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/dbt", io.MultiReader(bytes.NewReader(big)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
			t.Errorf("chunked over the limit: %s %s", resp.Status, raw)
		}
		if seq, _ := srv.Store.LastSeq(ctx); seq != 0 {
			t.Errorf("bad imports wrote %d changelog records", seq)
		}
	})
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

// BenchmarkSearchAccess is a search over HTTP on a catalog of 20,000
// datasets, the handler open (no access control) and with access control
// on and a Bearer token of 10,000 (goal: p99 within noise of each other).
// One op is one request to each.
func BenchmarkSearchAccess(b *testing.B) {
	servertest.ServingGC()
	var cfg server.Config
	s := servertest.New(b, nil, func(c *server.Config) { cfg = *c })
	ctx := context.Background()
	words := []string{"revenue", "churn", "invoice", "warehouse", "customer", "payment", "refund", "campaign"}
	const n = 20_000
	batch := make([]quarry.Dataset, 0, 1000)
	for i := range n {
		batch = append(batch, quarry.Dataset{
			Namespace: fmt.Sprintf("postgres://wh-%d:5432", i%5), Name: fmt.Sprintf("dw.sales.fct_%s_%s_%d", words[i%8], words[(i/8)%8], i),
			Kind:     quarry.KindTable,
			Provided: quarry.Metadata{Description: "One row per " + words[(i/3)%8] + " and " + words[(i/5)%8], Tags: []string{"tier1"}},
			Columns:  []quarry.Column{{Name: words[i%8] + "_id", Type: "bigint"}, {Name: words[(i/7)%8] + "_amount", Type: "numeric"}},
		})
		if len(batch) == cap(batch) {
			if _, err := s.Store.UpsertDatasets(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	var secret string
	for i := range 10_000 {
		sec, _, err := s.Tokens.Create(ctx, fmt.Sprintf("tool-%05d", i), auth.Viewer, 0)
		if err != nil {
			b.Fatal(err)
		}
		if i == 4321 {
			secret = sec
		}
	}
	open := s.Server // servertest's handler: open mode
	cfg.Registerer, cfg.Gatherer = nil, nil
	cfg.Access = &server.Access{}
	closed := httptest.NewServer(server.NewHandler(cfg))
	defer closed.Close()

	query := `query($q: String!) { search(query: $q, first: 20) { total hits { score dataset { id name description } } } }`
	post := func(b *testing.B, url, q, token string) int {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"q": q}})
		req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out struct {
			Data struct {
				Search struct{ Total int } `json:"search"`
			} `json:"data"`
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
			b.Fatalf("%d %s", resp.StatusCode, raw)
		}
		return out.Data.Search.Total
	}
	// The index follows the store in the background.
	for deadline := time.Now().Add(5 * time.Minute); post(b, open.URL, "", "") < n; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("the index did not catch up")
		}
	}
	// Alternated request by request, so that both see the same load of
	// a shared machine.
	var lat [2][]time.Duration
	i := 0
	for b.Loop() {
		for k, c := range []struct{ url, token string }{{open.URL, ""}, {closed.URL, secret}} {
			start := time.Now()
			post(b, c.url, words[i%len(words)], c.token)
			lat[k] = append(lat[k], time.Since(start))
		}
		i++
	}
	for k, name := range []string{"open", "tokens"} {
		slices.Sort(lat[k])
		b.ReportMetric(float64(lat[k][len(lat[k])/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(lat[k][len(lat[k])*99/100].Microseconds())/1000, name+"-p99-ms")
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/quarrydata/quarry/graph/graphtest"
)

// What the benchmarks that drive real servers (BenchmarkScale,
// BenchmarkReplicas) send them: GraphQL posts, and the web UI's own
// operations as its pages send them, so that a benchmark measures what a
// user waits for.

var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 5 * time.Minute}

// benchPost posts a GraphQL request to the server; an HTTP status other
// than 200 or an answer with errors is an error.
func benchPost(p *proc, body []byte) ([]byte, error) {
	resp, err := benchClient.Post("http://"+p.addr+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) {
		return nil, fmt.Errorf("%s: %.300s", resp.Status, out)
	}
	return out, nil
}

const uiOperations = "../../ui/src/api/operations.graphql"

var (
	uiSearch  = sync.OnceValues(func() (string, error) { return graphtest.UIOperation(uiOperations, "Search") })
	uiLineage = sync.OnceValues(func() (string, error) { return graphtest.UIOperation(uiOperations, "Lineage") })
)

// uiSearchBody is the UI's search for text, as its first page asks it.
func uiSearchBody(text string) ([]byte, error) {
	op, err := uiSearch()
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"query": op, "operationName": "Search", "variables": map[string]any{"query": text, "filter": map[string]any{}, "first": 20}})
}

// uiLineageBody is the UI's lineage tab for a dataset as it opens: both
// directions, depth 2, tables (LineageTab's defaults).
func uiLineageBody(id string) ([]byte, error) {
	op, err := uiLineage()
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"query": op, "operationName": "Lineage", "variables": map[string]any{"nodeId": id, "direction": "BOTH", "depth": 2, "columnLevel": false}})
}

// upsertBody is one upsertDatasets call for datasets from to to-1 of the
// catalog.
func upsertBody(cat *scaleCatalog, from, to int) []byte {
	batch := make([]scaleDataset, 0, to-from)
	for i := from; i < to; i++ {
		batch = append(batch, cat.dataset(i))
	}
	body, _ := json.Marshal(map[string]any{"query": `mutation($in: [DatasetInput!]!) { upsertDatasets(input: $in) { count } }`, "variables": map[string]any{"in": batch}})
	return body
}

// scaleQueries are the searches of each kind (scaleKinds) in a catalog of
// n datasets. The exact names are of datasets of the catalog, drawn once.
func scaleQueries(cat *scaleCatalog, n int) map[string][]string {
	var exact []string
	for _, i := range []int{n / 7, n / 3, n / 2, n - 11} {
		exact = append(exact, cat.dataset(i).table())
	}
	return map[string][]string{
		"one-word":   {"customer", "revenue", "invoice", "churn"},
		"two-word":   {"customer orders", "revenue region", "payment refund", "campaign clicks"},
		"dense":      {"id", "amount", "status", "created at"},
		"prefix":     {"cust", "reven", "fct_cust", "invent"},
		"exact name": exact,
	}
}

var scaleKinds = []string{"one-word", "two-word", "dense", "prefix", "exact name"}

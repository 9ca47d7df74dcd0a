package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarrydata/quarry/graph"
)

// BenchmarkUpsertDatasetsHTTP sends single-dataset upsertDatasets calls over
// real HTTP to the real handler on a real (fsync'd) store, from one client
// and from 32 concurrent clients, and reports calls/s and p99 latency.
func BenchmarkUpsertDatasetsHTTP(b *testing.B) {
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := newServer(b, graph.Limits{})
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i], _ = json.Marshal(map[string]any{"query": upsert, "variables": map[string]any{"input": []any{wideInput(i)}}})
			}
			lat := hammer(b, clients, func(hc *http.Client, i int) error {
				resp, err := hc.Post(s.URL+"/graphql", "application/json", bytes.NewReader(bodies[i]))
				if err != nil {
					return err
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || bytes.Contains(body, []byte(`"errors"`)) {
					return fmt.Errorf("status %d: %s", resp.StatusCode, body)
				}
				return nil
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

func wideInput(n int) map[string]any {
	cols := make([]map[string]any, 15)
	for c := range cols {
		cols[c] = map[string]any{"name": fmt.Sprintf("column_%02d", c), "type": "varchar(256)", "description": "A column of the table."}
	}
	return map[string]any{
		"namespace": "redshift://analytics.us-east-1:5439", "name": fmt.Sprintf("analytics.marts.table_%07d", n),
		"description": "One row per order line.", "owners": []string{"team:data-eng"}, "tags": []string{"tier1"}, "columns": cols,
	}
}

// hammer calls send for i in [0, b.N) from the given number of concurrent
// clients, each with keep-alive connections, and returns the latencies
// sorted. The benchmark's timer covers the calls only.
func hammer(b *testing.B, clients int, send func(hc *http.Client, i int) error) []time.Duration {
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				start := time.Now()
				if err := send(hc, i); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	return lat
}

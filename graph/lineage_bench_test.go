package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry/graph"
)

// BenchmarkOpenLineageHTTP posts OpenLineage events (Airflow's BigQuery copy
// task with column lineage, 5 KB, as START and COMPLETE of 200 jobs' runs)
// to POST /api/v1/lineage of the real handler on a real fsync'd store, with
// the search index following, from 1 and from 32 concurrent clients. Every
// 201 means committed. Reports events/s and latency.
func BenchmarkOpenLineageHTTP(b *testing.B) {
	raw, err := os.ReadFile(fixture("openlineage/events/airflow_bigquery_copy_task_complete_cll.json"))
	if err != nil {
		b.Fatal(err)
	}
	var base map[string]any
	if err := json.Unmarshal(raw, &base); err != nil {
		b.Fatal(err)
	}
	event := func(i int) []byte {
		ev := clone(base)
		run := i / 2
		ev["run"].(map[string]any)["runId"] = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "run %d", run)).String()
		ev["job"].(map[string]any)["name"] = fmt.Sprintf("BQ.copy_%d", run%200)
		if i%2 == 0 {
			ev["eventType"] = "START"
		}
		for _, side := range []string{"inputs", "outputs"} {
			for _, d := range ev[side].([]any) {
				d := d.(map[string]any)
				d["name"] = fmt.Sprintf("%s_%d", d["name"], run%200)
			}
		}
		out, _ := json.Marshal(ev)
		return out
	}
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := newServer(b, graph.Limits{})
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = event(i)
			}
			lat := hammer(b, clients, func(hc *http.Client, i int) error {
				resp, err := hc.Post(s.URL+"/api/v1/lineage", "application/json", bytes.NewReader(bodies[i]))
				if err != nil {
					return err
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					return fmt.Errorf("status %d: %s", resp.StatusCode, body)
				}
				return nil
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// clone deep-copies decoded JSON.
func clone(v map[string]any) map[string]any {
	raw, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

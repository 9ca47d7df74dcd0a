package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/lineage/lineagetest"
	quarryserver "github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
	"github.com/quarrydata/quarry/store"
)

// BenchmarkOpenLineageHTTP posts OpenLineage events (Airflow's BigQuery copy
// task with column lineage, 5 KB, as START and COMPLETE of 200 jobs' runs)
// to POST /api/v1/lineage of the real handler on a real fsync'd store, with
// the search index following, from 1 and from 32 concurrent clients. Every
// 201 means committed. Reports events/s and latency, and applied/s: events
// until the last is in the catalog.
func BenchmarkOpenLineageHTTP(b *testing.B) {
	servertest.ServingGC() // as quarry serve does
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
	// The harness's own ceiling on this machine: the same requests to a
	// handler that reads the body and answers 201 (client and server share
	// the CPUs).
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("ceiling/clients=%d", clients), func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusCreated)
			}))
			defer srv.Close()
			body := event(1)
			hammer(b, clients, func(hc *http.Client, i int) error {
				resp, err := hc.Post(srv.URL, "application/json", bytes.NewReader(body))
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return nil
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := newServer(b, graph.Limits{})
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = event(i)
			}
			start := time.Now()
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
			// The catalog lags the 201s: until the applier has folded
			// them all in.
			if err := s.store.SyncLineage(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "applied/s")
		})
	}
	// The same events through the batch endpoint, 50 to a request, from
	// 32 clients: what producers that batch get. One op is one event.
	b.Run("batch=50/clients=32", func(b *testing.B) {
		const size = 50
		s := newServer(b, graph.Limits{})
		var bodies [][]byte
		for i := 0; i < b.N; i += size {
			var buf bytes.Buffer
			buf.WriteByte('[')
			for j := i; j < min(i+size, b.N); j++ {
				if j > i {
					buf.WriteByte(',')
				}
				buf.Write(event(j))
			}
			buf.WriteByte(']')
			bodies = append(bodies, buf.Bytes())
		}
		start := time.Now()
		lat := hammer(b, 32, func(hc *http.Client, i int) error {
			if i%size != 0 {
				return nil // the request that carries it is sent by i - i%size
			}
			resp, err := hc.Post(s.URL+"/api/v1/lineage/batch", "application/json", bytes.NewReader(bodies[i/size]))
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"status":"success"`)) {
				return fmt.Errorf("status %d: %s", resp.StatusCode, body)
			}
			return nil
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(lat[len(lat)-1-len(lat)/size/2].Microseconds())/1000, "p50-ms/request")
		if err := s.store.SyncLineage(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "applied/s")
	})
}

// clone deep-copies decoded JSON.
func clone(v map[string]any) map[string]any {
	raw, _ := json.Marshal(v)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// BenchmarkLineageHTTP times lineage() through /graphql over HTTP on the
// synthetic 200,000-node, 1M-edge warehouse graph of package lineagetest
// (the Go API's numbers are lineage's BenchmarkTraverse), from random
// datasets, limit 1,000, asking for what the UI draws.
func BenchmarkLineageHTTP(b *testing.B) {
	servertest.ServingGC() // as quarry serve does
	quiet := slog.New(slog.DiscardHandler)
	st, err := store.Open(filepath.Join(b.TempDir(), "quarry.db"), &store.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w := lineagetest.NewWarehouse()
	g := lineage.NewGraph(st, st, &lineage.GraphOptions{Logger: quiet})
	g.Install(w.Builder(), 0)
	srv := httptest.NewServer(quarryserver.NewHandler(quarryserver.Config{Store: st, Lineage: g, Logger: quiet}))
	defer srv.Close()
	const q = `query($id: ID!, $dir: LineageDirection, $depth: Int) { lineage(nodeId: $id, direction: $dir, depth: $depth, limit: 1000) {
		truncated nodes { id kind namespace name degree distance } edges { from to job { namespace name } origin } } }`
	for _, c := range []struct {
		dir   string
		depth int
	}{{"DOWNSTREAM", 5}, {"UPSTREAM", 5}, {"BOTH", 5}, {"DOWNSTREAM", 20}, {"UPSTREAM", 20}} {
		b.Run(fmt.Sprintf("%s/depth=%d", strings.ToLower(c.dir), c.depth), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, uint64(c.depth)))
			nodes := 0
			lat := hammer(b, 1, func(hc *http.Client, i int) error {
				body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{
					"id": w.Datasets[rng.IntN(len(w.Datasets))], "dir": c.dir, "depth": c.depth}})
				resp, err := hc.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
				if err != nil {
					return err
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || bytes.Contains(raw, []byte(`"errors"`)) {
					return fmt.Errorf("status %d: %.300s", resp.StatusCode, raw)
				}
				nodes += bytes.Count(raw, []byte(`"kind"`))
				return nil
			})
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(nodes)/float64(b.N), "nodes/op")
		})
	}
}

package dbt_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry/dbt"
	"github.com/quarrydata/quarry/store"
)

// writeSynthetic writes a manifest of models × columns with tests generic
// tests (spread over the models' columns) and a run_results.json with a
// result for each, as `dbt build` would, to dir.
func writeSynthetic(tb testing.TB, dir string, models, columns, tests int) {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, "manifest.json"))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.9.0", "project_name": "synthetic", "adapter_type": "postgres"}, "nodes": {`)
	for m := range models {
		if m > 0 {
			w.WriteString(",")
		}
		deps := ""
		if m > 0 {
			deps = fmt.Sprintf(`"model.synthetic.m%d"`, m-1)
			if m > 10 {
				deps += fmt.Sprintf(`, "model.synthetic.m%d"`, m/2)
			}
		}
		fmt.Fprintf(w, `"model.synthetic.m%d": {"unique_id": "model.synthetic.m%d", "resource_type": "model", "name": "m%d", "alias": "m%d", "database": "wh", "schema": "marts", "package_name": "synthetic", "original_file_path": "models/m%d.sql", "description": "Model %d: one row per thing, as the business counts things.", "raw_code": "select t.id, t.a, t.b from {{ ref('m%d') }} t where t.flag -- %s", "compiled_code": "select t.id, t.a, t.b from wh.marts.m%d t where t.flag -- %s", "language": "sql", "config": {"enabled": true, "materialized": "table", "meta": {"owner": "team-%d@example.com", "tier": "gold"}, "tags": ["marts"]}, "meta": {"owner": "team-%d@example.com", "tier": "gold"}, "tags": ["marts"], "depends_on": {"macros": [], "nodes": [%s]}, "columns": {`,
			m, m, m, m, m, m, max(m-1, 0), pad, max(m-1, 0), pad, m%40, m%40, deps)
		for c := range columns {
			if c > 0 {
				w.WriteString(",")
			}
			fmt.Fprintf(w, `"col_%d": {"name": "col_%d", "description": "Column %d of model %d, in the unit the finance team reports.", "meta": {}, "data_type": "integer", "tags": []}`, c, c, c, m)
		}
		w.WriteString("}}")
	}
	kinds := []string{"not_null", "unique", "accepted_values", "relationships"}
	for i := range tests {
		m, c := i%models, (i/models)%columns
		fmt.Fprintf(w, `, "test.synthetic.t%d": {"unique_id": "test.synthetic.t%d", "resource_type": "test", "name": "%s_m%d_col_%d_%d", "package_name": "synthetic", "description": "", "column_name": "col_%d", "attached_node": "model.synthetic.m%d", "test_metadata": {"name": "%s", "kwargs": {"column_name": "col_%d", "model": "{{ get_where_subquery(ref('m%d')) }}"}}, "config": {"enabled": true, "severity": "ERROR", "materialized": "test"}, "depends_on": {"macros": ["macro.dbt.test_%s"], "nodes": ["model.synthetic.m%d"]}, "compiled_code": "select col_%d from wh.marts.m%d where col_%d is null"}`,
			i, i, kinds[i%4], m, c, i, c, m, kinds[i%4], c, m, kinds[i%4], m, c, m, c)
	}
	w.WriteString(`}, "sources": {}, "exposures": {}, "unit_tests": {}}`)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()

	f, err = os.Create(filepath.Join(dir, "run_results.json"))
	if err != nil {
		tb.Fatal(err)
	}
	w = bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json", "generated_at": "2026-01-02T03:04:05Z"}, "args": {"which": "build"}, "elapsed_time": 100, "results": [`)
	for i := range tests {
		if i > 0 {
			w.WriteString(",")
		}
		status, msg, failures := "pass", "null", 0
		if i%50 == 0 {
			status, msg, failures = "fail", `"Got 3 results, configured to fail if != 0"`, 3
		}
		fmt.Fprintf(w, `{"status": "%s", "timing": [{"name": "execute", "started_at": "2026-01-02T03:00:00Z", "completed_at": "2026-01-02T03:00:01.%06dZ"}], "thread_id": "Thread-1", "execution_time": 0.25, "adapter_response": {}, "message": %s, "failures": %d, "unique_id": "test.synthetic.t%d", "compiled": true, "compiled_code": "select 1"}`,
			status, i%1000000, msg, failures, i)
	}
	w.WriteString("]}")
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
}

// pad lengthens the models' SQL to a size real models have (about 2 KB).
var pad = func() string {
	b := make([]byte, 1800)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}()

// peakHeap samples the live heap until stopped and returns its peak.
func peakHeap() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			mu.Lock()
			peak = max(peak, sample[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// BenchmarkImportDBT imports a synthetic project of 5,000 models of 30
// columns with 20,000 tests and their results: reading the artifacts,
// mapping them, and the store's one transaction, into a new store each
// time. The goal is under 10 s and 500 MB on a 2-core machine.
func BenchmarkImportDBT(b *testing.B) {
	dir := b.TempDir()
	writeSynthetic(b, dir, 5000, 30, 20000)
	st, _ := os.Stat(filepath.Join(dir, "manifest.json"))
	b.ReportMetric(float64(st.Size())/(1<<20), "manifest-MB")
	ctx := context.Background()
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		// A store of its own each time, closed before the next, so that the
		// pages of the files it mapped are not counted again.
		s, err := store.Open(filepath.Join(b.TempDir(), "quarry.db"), &store.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := peakHeap()
		b.StartTimer()
		a, err := dbt.ReadDir(dir, dbt.Files{})
		if err != nil {
			b.Fatal(err)
		}
		res, err := dbt.Import(ctx, s, a, dbt.Options{Namespace: "postgres://wh:5432"})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		peak = max(peak, stop())
		if res.Counts.Models != 5000 || res.Counts.Tests != 20000 || res.Counts.TestResults != 20000 {
			b.Fatalf("counts %+v", res.Counts)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(maxRSS())/(1<<20), "max-rss-MB")
}

// maxRSS is the process's peak resident set (VmHWM), 0 where /proc has
// none. It includes the pages of the store file the import touched.
func maxRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

package graph

import "testing"

// BenchmarkAppendString writes the strings of a lineage node as the fast
// path does.
func BenchmarkAppendString(b *testing.B) {
	strs := []string{"63b6bc47-4b95-5a7e-9d13-b514f7d5bbf9", "DATASET", "postgres://wh.internal:5432", "wh.l1.t065451", "airflow", "dag.task07537"}
	out := make([]byte, 0, 1<<20)
	n := 0
	for _, s := range strs {
		n += len(s)
	}
	b.SetBytes(int64(n))
	for b.Loop() {
		out = out[:0]
		for _, s := range strs {
			out = appendString(out, s)
		}
	}
}

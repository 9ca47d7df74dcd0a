package store

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
)

// BenchmarkPrepareEvent is the storage-free part of applying a lineage
// event (validation, normalization, edges): a run with one input and one
// output and 4 columns of column lineage, and a Spark-like one with 3
// inputs and 40 output columns, each from two inputs by two
// transformations (merged into one edge per column pair).
func BenchmarkPrepareEvent(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "quarry.db"), &Options{NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	event := func(ins, cols int) quarry.LineageEvent {
		ev := quarry.LineageEvent{
			Kind: quarry.RunEvent, EventTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), Digest: "00",
			Job: &quarry.Job{Namespace: "airflow", Name: "copy"},
			Run: &quarry.RunReport{ID: "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", State: quarry.RunComplete},
		}
		for i := range ins {
			ev.Inputs = append(ev.Inputs, quarry.DatasetReport{Namespace: "postgres://db:5432", Name: fmt.Sprintf("shop.public.src_%d", i)})
		}
		out := quarry.DatasetReport{Namespace: "postgres://db:5432", Name: "shop.public.dst"}
		for c := range cols {
			cl := quarry.ColumnLineage{Column: fmt.Sprintf("c%d", c)}
			for k := range min(ins, 2) {
				for _, t := range []string{"INDIRECT/JOIN", "DIRECT/IDENTITY"} {
					cl.Inputs = append(cl.Inputs, quarry.ColumnSource{Namespace: "postgres://db:5432", Name: fmt.Sprintf("shop.public.src_%d", k), Field: fmt.Sprintf("c%d", c), Transformation: t})
				}
			}
			out.ColumnLineage = append(out.ColumnLineage, cl)
		}
		ev.Outputs = []quarry.DatasetReport{out}
		return ev
	}
	for _, c := range []struct {
		name      string
		ins, cols int
	}{{"small", 1, 4}, {"spark", 3, 40}} {
		b.Run(c.name, func(b *testing.B) {
			ev := event(c.ins, c.cols)
			for b.Loop() {
				e := ev
				e.Run = &quarry.RunReport{ID: ev.Run.ID, State: ev.Run.State}
				if _, err := s.prepareEvent(&e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package lineage

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/quarrydata/quarry"
)

// Impacted is a dataset downstream of a change: what may break if it is
// made.
type Impacted struct {
	DatasetID, Namespace, Name string
	// Distance is the shortest distance from the changed dataset, in
	// dataset-to-dataset hops (column-to-column hops for a column).
	Distance int
	// Columns are the impacted columns, for a column's impact. Empty when
	// the dataset as a whole depends on the column (an INDIRECT edge: a
	// filter, a join) and no column of it reads it directly.
	Columns []string
	Removed bool
}

// Impact returns every dataset downstream of a dataset, or of one of its
// columns, with its shortest distance; no depth bounds it, only limit (the
// number of datasets; zero or less means DefaultLimit). The second result
// says that the limit left some out. The changed dataset itself is not
// listed, even when lineage leads back to it.
//
// For a column, Impact follows column-level edges only: a dataset whose
// whole output depends on the column is impacted (with no column of its
// own), but what reads that dataset is reached only through columns that
// read the column directly.
//
// An unknown dataset is a quarry.ENOTFOUND error; a column without column
// lineage impacts nothing.
func (g *Graph) Impact(ctx context.Context, datasetID, column string, limit int) ([]Impacted, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	limit, err := g.limit(limit)
	if err != nil {
		return nil, false, err
	}
	if err := g.ready(ctx); err != nil {
		return nil, false, err
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	s := g.s
	n, ok := s.lookup(datasetID)
	if !ok || s.nodes[n].kind != kindDataset {
		return nil, false, quarry.Errorf(quarry.ENOTFOUND, "dataset %s not found", datasetID)
	}
	w := g.walk(s)
	defer g.walks.Put(w)
	var out []Impacted
	var truncated bool
	if column == "" {
		out, truncated, err = s.tableImpact(ctx, w, n, limit)
	} else if c, ok := s.columnOf(n, column); ok {
		out, truncated, err = s.columnImpact(ctx, w, c, limit)
	}
	if err != nil {
		return nil, false, err
	}
	for i := range out {
		slices.Sort(out[i].Columns)
	}
	slices.SortFunc(out, func(a, b Impacted) int {
		if a.Distance != b.Distance {
			return cmp.Compare(a.Distance, b.Distance)
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.DatasetID, b.DatasetID)
	})
	return out, truncated, nil
}

func (s *graphState) impacted(ds int32, distance int) Impacted {
	t := &s.nodes[ds]
	id, ns, name := s.names(t)
	return Impacted{DatasetID: id, Namespace: ns, Name: name, Distance: distance, Removed: t.removed}
}

func (w *walk) listed(ds int32) (int32, bool) {
	sl := &w.slots[ds]
	return sl.pos, sl.pend == w.gen
}

func (w *walk) list(ds, i int32) {
	sl := &w.slots[ds]
	sl.pend, sl.pos = w.gen, i
}

// tableImpact is a breadth-first search over datasets, through jobs.
func (s *graphState) tableImpact(ctx context.Context, w *walk, start int32, limit int) ([]Impacted, bool, error) {
	w.admit(start, 0) // datasets and jobs reached
	var out []Impacted
	cur, next := []int32{start}, []int32(nil)
	for d := 1; len(cur) > 0; d++ {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		next = next[:0]
		admit := func(v int32) bool {
			if _, ok := w.admitted1(v); ok {
				return true
			}
			if len(out) == limit {
				return false
			}
			w.admit(v, int32(d))
			out = append(out, s.impacted(v, d))
			next = append(next, v)
			return true
		}
		for _, u := range cur {
			for _, l := range s.out(u) {
				v := l.node
				if s.nodes[v].kind != kindJob {
					if !admit(v) {
						return out, true, nil
					}
					continue
				}
				if _, ok := w.admitted1(v); ok {
					continue
				}
				w.admit(v, int32(d))
				for _, m := range s.out(v) {
					if !admit(m.node) {
						return out, true, nil
					}
				}
			}
		}
		cur, next = next, cur
	}
	return out, false, nil
}

// columnImpact is a breadth-first search over column nodes.
func (s *graphState) columnImpact(ctx context.Context, w *walk, start int32, limit int) ([]Impacted, bool, error) {
	// Column nodes reached are admitted; datasets listed are pending,
	// at their index in out (-1 for the changed one).
	w.admit(start, 0)
	w.list(s.cnodes[start].ds, -1)
	var out []Impacted
	cur, next := []int32{start}, []int32(nil)
	for d := 1; len(cur) > 0; d++ {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		next = next[:0]
		for _, u := range cur {
			for _, l := range s.cout(u) {
				v := l.node
				if _, ok := w.admitted1(v); ok {
					continue
				}
				ds := s.cnodes[v].ds
				i, listed := w.listed(ds)
				if !listed {
					if len(out) == limit {
						return out, true, nil
					}
					i = int32(len(out))
					w.list(ds, i)
					out = append(out, s.impacted(ds, d))
				}
				w.admit(v, int32(d))
				next = append(next, v)
				if name := s.colName(v); i >= 0 && name != "" {
					out[i].Columns = append(out[i].Columns, name)
				}
			}
		}
		cur, next = next, cur
	}
	return out, false, nil
}

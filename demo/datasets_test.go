package demo_test

import (
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/demo"
)

// normalized returns the demo datasets, normalized, keyed by ID.
func normalized(t *testing.T) ([]quarry.Dataset, map[string]*quarry.Dataset) {
	t.Helper()
	ds := demo.Datasets()
	byID := make(map[string]*quarry.Dataset, len(ds))
	for i := range ds {
		d := &ds[i]
		if err := d.Normalize(); err != nil {
			t.Fatalf("%s %s: Normalize: %v", d.Namespace, d.Name, err)
		}
		if prev, dup := byID[d.ID]; dup {
			t.Fatalf("duplicate ID %s: %s and %s", d.ID, prev.Name, d.Name)
		}
		byID[d.ID] = d
	}
	return ds, byID
}

func TestDatasetsNormalize(t *testing.T) {
	ds, byID := normalized(t)
	if n := len(ds); n < 43 || n > 52 {
		t.Errorf("got %d demo datasets, want 43 to 52", n)
	}
	if len(byID) != len(ds) {
		t.Errorf("%d unique IDs for %d datasets", len(byID), len(ds))
	}
}

func TestDatasetsForeignKeys(t *testing.T) {
	ds, byID := normalized(t)
	fks := 0
	for _, d := range ds {
		for _, c := range d.Columns {
			fk := c.ForeignKey
			if fk == nil {
				continue
			}
			fks++
			target, ok := byID[fk.DatasetID()]
			if !ok {
				t.Errorf("%s.%s: foreign key to unknown dataset %s %s", d.Name, c.Name, fk.Namespace, fk.Name)
				continue
			}
			if target.Column(fk.Column) == nil {
				t.Errorf("%s.%s: foreign key to unknown column %s.%s", d.Name, c.Name, fk.Name, fk.Column)
			}
		}
	}
	if fks == 0 {
		t.Error("the demo has no foreign keys")
	}
}

func TestDatasetsMetadata(t *testing.T) {
	ds, _ := normalized(t)
	for _, d := range ds {
		if d.Provided.Description == "" {
			t.Errorf("%s: no description", d.Name)
		}
		if len(d.Provided.Owners) == 0 {
			t.Errorf("%s: no owners", d.Name)
		}
		if len(d.Columns) == 0 {
			t.Errorf("%s: no columns", d.Name)
		}
		if d.RowCount == nil || d.SizeBytes == nil {
			t.Errorf("%s: no row count or size", d.Name)
		}
	}
}

func TestDatasetsFresh(t *testing.T) {
	// Normalize changes columns in place; a second call must not see it.
	a := demo.Datasets()
	for i := range a {
		a[i].Columns[0].Name = "changed"
	}
	for _, d := range demo.Datasets() {
		if d.Columns[0].Name == "changed" {
			t.Fatalf("%s: Datasets shares columns between calls", d.Name)
		}
	}
}

// TestCatalogEdges checks that every view lineage edge joins datasets and
// columns the demo catalog has.
func TestCatalogEdges(t *testing.T) {
	byID := map[string]*quarry.Dataset{}
	for _, d := range demo.Datasets() {
		if err := d.Normalize(); err != nil {
			t.Fatal(err)
		}
		byID[d.ID] = &d
	}
	edges := demo.CatalogEdges()
	if len(edges) < 5 {
		t.Fatalf("%d views with lineage", len(edges))
	}
	for to, es := range edges {
		view := byID[to]
		if view == nil || (view.Kind != quarry.KindView && view.Kind != quarry.KindMaterializedView) {
			t.Fatalf("edges into %s, which is not a demo view", to)
		}
		covered := map[string]bool{}
		for _, e := range es {
			from := byID[e.From]
			if from == nil {
				t.Fatalf("%s reads an unknown dataset %s", view.Name, e.From)
			}
			if e.FromColumn != "" && from.Column(e.FromColumn) == nil {
				t.Errorf("%s reads %s.%s, which does not exist", view.Name, from.Name, e.FromColumn)
			}
			if e.ToColumn != "" {
				if view.Column(e.ToColumn) == nil {
					t.Errorf("%s has no column %s", view.Name, e.ToColumn)
				}
				covered[e.ToColumn] = true
			}
		}
		for _, c := range view.Columns {
			if !covered[c.Name] {
				t.Errorf("%s.%s has no lineage", view.Name, c.Name)
			}
		}
	}
	if len(demo.EarlierVersions()) != 2 {
		t.Fatal("earlier versions missing")
	}
}

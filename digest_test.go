package quarry_test

import (
	"reflect"
	"testing"

	"github.com/quarrydata/quarry"
)

func digestBase() quarry.Dataset {
	return quarry.Dataset{
		Namespace: "postgres://db:5432", Name: "shop.public.orders", Kind: quarry.KindTable, Source: "shop",
		Provided:   quarry.Metadata{Description: "d", Owners: []string{"a"}, Tags: []string{"t"}},
		Definition: "SELECT 1", Partitions: []string{"public.p1"},
		Columns: []quarry.Column{
			{Name: "id", Type: "bigint", Ordinal: 1, PrimaryKey: true},
			{Name: "user_id", Type: "bigint", Nullable: true, Ordinal: 2, Description: "u", Default: "0", Unique: false,
				ForeignKey: &quarry.ColumnRef{Namespace: "postgres://db:5432", Name: "shop.public.users", Column: "id"}},
		},
		Constraints: []quarry.Constraint{
			{Name: "pk", Kind: quarry.ConstraintPrimaryKey, Columns: []string{"id"}},
			{Name: "fk", Kind: quarry.ConstraintForeignKey, Columns: []string{"user_id"},
				References: &quarry.TableRef{Namespace: "postgres://db:5432", Name: "shop.public.users", Columns: []string{"id"}}},
		},
	}
}

// TestProvidedDigest changes each provided fact in turn: every change must
// change the digest, and volatile figures, edits and times must not.
func TestProvidedDigest(t *testing.T) {
	base := digestBase()
	want := base.ProvidedDigest()
	changes := map[string]func(*quarry.Dataset){
		"database":            func(d *quarry.Dataset) { d.Database = "other" },
		"schema":              func(d *quarry.Dataset) { d.Schema = "other" },
		"kind":                func(d *quarry.Dataset) { d.Kind = quarry.KindView },
		"description":         func(d *quarry.Dataset) { d.Provided.Description = "e" },
		"owners":              func(d *quarry.Dataset) { d.Provided.Owners = []string{"b"} },
		"tags":                func(d *quarry.Dataset) { d.Provided.Tags = nil },
		"definition":          func(d *quarry.Dataset) { d.Definition = "SELECT 2" },
		"partitions":          func(d *quarry.Dataset) { d.Partitions = []string{"public.p2"} },
		"column name":         func(d *quarry.Dataset) { d.Columns[0].Name = "idx" },
		"column type":         func(d *quarry.Dataset) { d.Columns[0].Type = "int" },
		"column nullable":     func(d *quarry.Dataset) { d.Columns[0].Nullable = true },
		"column ordinal":      func(d *quarry.Dataset) { d.Columns[0].Ordinal = 3 },
		"column description":  func(d *quarry.Dataset) { d.Columns[1].Description = "v" },
		"column default":      func(d *quarry.Dataset) { d.Columns[1].Default = "1" },
		"column primary key":  func(d *quarry.Dataset) { d.Columns[0].PrimaryKey = false },
		"column unique":       func(d *quarry.Dataset) { d.Columns[1].Unique = true },
		"column fk dropped":   func(d *quarry.Dataset) { d.Columns[1].ForeignKey = nil },
		"column fk namespace": func(d *quarry.Dataset) { d.Columns[1].ForeignKey.Namespace = "postgres://x:5432" },
		"column fk name":      func(d *quarry.Dataset) { d.Columns[1].ForeignKey.Name = "shop.public.people" },
		"column fk column":    func(d *quarry.Dataset) { d.Columns[1].ForeignKey.Column = "uid" },
		"columns dropped":     func(d *quarry.Dataset) { d.Columns = d.Columns[:1] },
		"constraint name":     func(d *quarry.Dataset) { d.Constraints[0].Name = "pkey" },
		"constraint kind":     func(d *quarry.Dataset) { d.Constraints[0].Kind = quarry.ConstraintUnique },
		"constraint columns":  func(d *quarry.Dataset) { d.Constraints[0].Columns = []string{"user_id"} },
		"constraint ref ns":   func(d *quarry.Dataset) { d.Constraints[1].References.Namespace = "postgres://x:5432" },
		"constraint ref name": func(d *quarry.Dataset) { d.Constraints[1].References.Name = "shop.public.people" },
		"constraint ref cols": func(d *quarry.Dataset) { d.Constraints[1].References.Columns = []string{"uid"} },
		"constraint ref gone": func(d *quarry.Dataset) { d.Constraints[1].References = nil },
		"value moves across":  func(d *quarry.Dataset) { d.Provided.Owners = []string{"a", "t"}; d.Provided.Tags = nil },
	}
	for name, change := range changes {
		d := digestBase()
		change(&d)
		if d.ProvidedDigest() == want {
			t.Errorf("%s: the digest did not change", name)
		}
	}
	same := digestBase()
	n := int64(5)
	same.RowCount, same.SizeBytes, same.Stats = &n, &n, &quarry.TableStats{Inserts: 9}
	desc := "edited"
	same.Edited.Description = &desc
	same.ID = "x"
	same.Source = "" // kept apart by the store, beside the digest
	if same.ProvidedDigest() != want {
		t.Error("volatile figures, edits or the ID changed the digest")
	}

	// A new field in a covered type must be added to ProvidedDigest and to
	// the changes above; then update the counts here.
	for typ, fields := range map[reflect.Type]int{
		reflect.TypeFor[quarry.Dataset]():    21, // DBT is a layer of its own, not provided facts
		reflect.TypeFor[quarry.Column]():     9,
		reflect.TypeFor[quarry.ColumnRef]():  3,
		reflect.TypeFor[quarry.Constraint](): 4,
		reflect.TypeFor[quarry.TableRef]():   3,
		reflect.TypeFor[quarry.Metadata]():   3,
	} {
		if typ.NumField() != fields {
			t.Errorf("%s has %d fields, the digest was written for %d: cover the new one in ProvidedDigest", typ, typ.NumField(), fields)
		}
	}
}

// TestEventDigest: the hex SHA-256 of the bytes (FIPS 180-2's "abc"), as
// digests stored before EventDigest existed were written.
func TestEventDigest(t *testing.T) {
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := quarry.EventDigest([]byte("abc")); got != want {
		t.Errorf("EventDigest(abc) = %s, want %s", got, want)
	}
}

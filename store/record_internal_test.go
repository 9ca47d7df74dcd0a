package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
)

// A dataset's record is stored compressed, and a record stored as JSON
// before (by an older Quarry) reads as it did, by the readers of records:
// the dataset, its identity for lineage, its freshness input and whether
// it can be late (a migration's question).
func TestRecordsCompressedAndJSONBothRead(t *testing.T) {
	ctx := context.Background()
	st, err := Open(filepath.Join(t.TempDir(), "quarry.db"), &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	updated := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	var ds []quarry.Dataset
	for i := range 2 {
		d := quarry.Dataset{Namespace: "postgres://wh:5432", Name: fmt.Sprintf("sales.public.orders_%d", i), Kind: quarry.KindTable,
			Provided: quarry.Metadata{Description: "Orders, one row an order line."}}
		for c := range 15 {
			d.Columns = append(d.Columns, quarry.Column{Name: fmt.Sprintf("column_%d", c), Type: "varchar(256)", Nullable: true, Ordinal: c + 1, Description: fmt.Sprintf("The column %d of the order.", c)})
		}
		ds = append(ds, d)
	}
	res, err := st.UpsertDatasets(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	ids := res.IDs
	// Both changed once (so they can be late), the second stored as an
	// older Quarry wrote it: its JSON.
	var plain []byte
	err = st.update(ctx, func(tx kvTx) error {
		b := tx.Bucket(bucketDatasets)
		for i, id := range ids {
			d, err := getDataset(tx, id)
			if err != nil {
				return err
			}
			d.LastUpdatedAt = &updated
			raw, err := encodeRecord(d)
			if err != nil {
				return err
			}
			j, err := recordJSON(raw)
			if err != nil {
				return err
			}
			if len(raw) == 0 || raw[0] != recordSnappy || 2*len(raw) > len(j) {
				return fmt.Errorf("record of %d bytes, first %#x, for %d of JSON: not compressed", len(raw), raw[0], len(j))
			}
			if i == 1 {
				plain = append([]byte(nil), j...)
				raw = plain
			}
			if err := b.Put([]byte(id), raw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if plain[0] != '{' {
		t.Fatalf("JSON record starts %q", plain[:1])
	}
	for i, id := range ids {
		d, err := st.Dataset(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Name != ds[i].Name || len(d.Columns) != 15 || d.Columns[14].Description != ds[i].Columns[14].Description {
			t.Errorf("dataset %d read back as %s with %d columns", i, d.Name, len(d.Columns))
		}
		err = st.view(func(tx kvTx) error {
			raw := tx.Bucket(bucketDatasets).Get([]byte(id))
			ident, err := datasetIdentity(tx, id)
			if err != nil {
				return err
			}
			if ident.Name != ds[i].Name || ident.Namespace != ds[i].Namespace {
				return fmt.Errorf("identity %+v", ident)
			}
			if can, err := recordCanBeLate(raw); err != nil || !can {
				return fmt.Errorf("can be late: %v, %v; want true", can, err)
			}
			var seen *quarry.Dataset
			if err := freshnessInput(tx, id, raw, func(d *quarry.Dataset, _, _ *quarry.FreshnessPolicy) error { seen = d; return nil }); err != nil {
				return err
			}
			if seen == nil || seen.Name != ds[i].Name || !seen.LastUpdatedAt.Equal(updated) {
				return fmt.Errorf("freshness input %+v", seen)
			}
			return nil
		})
		if err != nil {
			t.Errorf("dataset %d: %v", i, err)
		}
	}
	// A corrupt compressed record is an error, not a dataset.
	err = st.update(ctx, func(tx kvTx) error {
		return tx.Bucket(bucketDatasets).Put([]byte(ids[0]), []byte{recordSnappy, 0xff, 0xff})
	})
	if err != nil {
		t.Fatal(err)
	}
	st.records = newRecordCache()
	if _, err := st.Dataset(ctx, ids[0]); err == nil {
		t.Error("a corrupt record read as a dataset")
	}
	var v map[string]any
	if json.Unmarshal(plain, &v) != nil {
		t.Error("the JSON record is not JSON")
	}
}

// recordIdentity reads a record's namespace, name and removal as decoding
// the whole record does, or declines (ok false) and datasetIdentity
// decodes it: never a wrong answer, whatever the record's texts hold.
func TestRecordIdentityAgreesWithTheDecoder(t *testing.T) {
	at := time.Date(2026, 12, 1, 6, 0, 0, 123456789, time.UTC)
	plain := func() quarry.Dataset {
		d := quarry.Dataset{ID: "3f8b2c1e-0000-5000-8000-000000000001", Namespace: "postgres://wh:5432", Name: "sales.public.orders",
			Kind: quarry.KindTable, CreatedAt: at, UpdatedAt: at}
		for c := range 15 {
			d.Columns = append(d.Columns, quarry.Column{Name: fmt.Sprintf("column_%d", c), Ordinal: c + 1})
		}
		return d
	}
	cases := []struct {
		name   string
		edit   func(*quarry.Dataset)
		reads  bool // recordIdentity answers (else the decoder does)
		remove bool
	}{
		{"plain", func(*quarry.Dataset) {}, true, false},
		{"data updated", func(d *quarry.Dataset) { d.LastUpdatedAt = &at }, true, false},
		{"removed", func(d *quarry.Dataset) { d.RemovedAt = &at }, true, true},
		{"removed, data updated", func(d *quarry.Dataset) { d.LastUpdatedAt, d.RemovedAt = &at, &at }, true, true},
		{"texts that look like the removal", func(d *quarry.Dataset) {
			d.Provided.Description = `ends with ,"removedAt":"2026-12-01T06:00:00Z"}`
			d.Columns[14].Name, d.Columns[14].Description = "removedAt", `"}`
			d.Edited.ColumnDescriptions = map[string]string{"removedAt": "2026"}
		}, true, false},
		{"removed, texts that look otherwise", func(d *quarry.Dataset) {
			d.RemovedAt = &at
			d.Provided.Description = `,"updatedAt":"2026-12-01T06:00:00Z"}`
		}, true, true},
		{"a name with a quote", func(d *quarry.Dataset) { d.Name = `sales.public."Orders"` }, false, false},
		{"a name with an escaped character", func(d *quarry.Dataset) { d.Name = "sales.public.a<b" }, false, false},
		{"a namespace with an escape, removed", func(d *quarry.Dataset) {
			d.Namespace, d.RemovedAt = "postgres://wh:5432/\u2028", &at
		}, false, true},
		{"accents", func(d *quarry.Dataset) { d.Name = "ventes.public.données" }, true, false},
	}
	st, err := Open(filepath.Join(t.TempDir(), "quarry.db"), &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range cases {
		d := plain()
		c.edit(&d)
		j, err := json.Marshal(&d)
		if err != nil {
			t.Fatal(err)
		}
		ns, name, removed, ok := recordIdentity(j)
		if ok != c.reads {
			t.Errorf("%s: recordIdentity answers %v, want %v: %s", c.name, ok, c.reads, j)
		}
		if ok && (ns != d.Namespace || name != d.Name || removed != c.remove) {
			t.Errorf("%s: recordIdentity = %q %q removed %v, want %q %q removed %v", c.name, ns, name, removed, d.Namespace, d.Name, c.remove)
		}
		for _, raw := range [][]byte{j, compressed(t, &d)} {
			err := st.solo(func(tx kvTx) error {
				if err := tx.Bucket(bucketDatasets).Put([]byte(d.ID), raw); err != nil {
					return err
				}
				got, err := datasetIdentity(tx, d.ID)
				if err != nil {
					return err
				}
				if want := (quarry.Identity{Entity: quarry.EntityDataset, ID: d.ID, Namespace: d.Namespace, Name: d.Name, Removed: c.remove}); got != want {
					return fmt.Errorf("datasetIdentity = %+v, want %+v", got, want)
				}
				return nil
			})
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	}
	for _, j := range []string{`{}`, `{"id":"a","namespace":"b","name":"c"}`, `{"id":"a","namespace":"b","name":"c","x":{"removedAt":"t"}}`, `{"id":"a","namespace":"b","name":"c","removedAt":null}`} {
		if _, _, _, ok := recordIdentity([]byte(j)); ok {
			t.Errorf("recordIdentity answers for %s", j)
		}
	}
}

// compressed is d's record as the store writes it.
func compressed(t *testing.T, d *quarry.Dataset) []byte {
	t.Helper()
	raw, err := encodeRecord(d)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

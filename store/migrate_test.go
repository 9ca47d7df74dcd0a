package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// TestMigrateFromVersion2 builds a file as schema version 2 wrote it (row
// counts inside the record, no removed set, no digests) and opens it.
func TestMigrateFromVersion2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quarry.db")
	live, gone := orders(1), orders(2)
	for _, d := range []*quarry.Dataset{&live, &gone} {
		if err := d.Normalize(); err != nil {
			t.Fatal(err)
		}
		n := int64(42)
		d.RowCount = &n
	}
	at := gone.CreatedAt.Add(1)
	gone.RemovedAt = &at
	rewriteAt(t, path, 2, func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "changelog", "datasets", "datasets_by_name", "dataset_edits",
			"schema_history", "data_changes", "edges_out", "edges_in", "sources", "crawl_runs"} {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		for _, d := range []quarry.Dataset{live, gone} {
			v, _ := json.Marshal(d)
			tx.Bucket([]byte("datasets")).Put([]byte(d.ID), v)
			tx.Bucket([]byte("datasets_by_name")).Put([]byte(d.Namespace+"\x00"+d.Name), []byte(d.ID))
		}
		return nil
	})

	s, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	d, err := s.Dataset(ctx, live.ID)
	if err != nil || d.RowCount == nil || *d.RowCount != 42 {
		t.Fatalf("after migration: %+v %v", d, err)
	}
	under, _ := s.DatasetsUnder(ctx, live.Namespace, "shop.")
	if len(under) != 2 || under[0].Removed || !under[1].Removed {
		t.Fatalf("removed set after migration: %+v", under)
	}
	// The digest is in place: re-upserting the same facts changes nothing.
	res, err := s.UpsertDatasets(ctx, []quarry.Dataset{orders(1)})
	if err != nil || res.Changed != 0 {
		t.Fatalf("re-upsert after migration: %+v %v", res, err)
	}
}

// TestMigrateJobClaims builds a file as schema version 10 wrote it (whose
// report a job's edges are inside the job's record, which holds its SQL
// and was rewritten by every completed run) and opens it: the claim moves
// beside the record and still keeps an older run from taking the job's
// lineage back.
func TestMigrateJobClaims(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quarry.db")
	s, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, runEvent("j", run2, quarry.RunComplete, shT0.Add(time.Hour), []string{"shop.public.a"}, []string{"shop.public.new_out"}))
	s.Close()

	rewriteAt(t, path, 10, func(tx *bolt.Tx) error {
		jobs := tx.Bucket([]byte("jobs"))
		var rec map[string]any
		if err := json.Unmarshal(jobs.Get([]byte(jid("j"))), &rec); err != nil {
			return err
		}
		rec["edgesRun"], rec["edgesAt"] = run2, shT0.Add(time.Hour)
		v, _ := json.Marshal(rec)
		if err := jobs.Put([]byte(jid("j")), v); err != nil {
			return err
		}
		return tx.DeleteBucket([]byte("job_claims"))
	})

	s, err = store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, runEvent("j", run1, quarry.RunComplete, shT0, []string{"shop.public.a"}, []string{"shop.public.old_out"}))
	if _, outs, _ := s.JobDatasets(ctx, jid("j")); !slices.Equal(outs, []string{lid("shop.public.new_out")}) {
		t.Fatalf("an older run took the job's lineage after the migration: %v", outs)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if rec := tx.Bucket([]byte("jobs")).Get([]byte(jid("j"))); bytes.Contains(rec, []byte("edgesRun")) {
			t.Errorf("the job's record keeps its claim: %s", rec)
		}
		if tx.Bucket([]byte("job_claims")).Get([]byte(jid("j"))) == nil {
			t.Error("no claim beside the job's record")
		}
		return nil
	})
}

// TestMigrateCanBeLate builds a file as schema version 12 wrote it (no
// list of the datasets that can be late) and opens it: the list is built
// from the records, and the alert evaluator's first read finds them.
func TestMigrateCanBeLate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quarry.db")
	s, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := mustUpsert(t, s, orders(1), orders(2), orders(3))
	for _, id := range ids[:2] {
		if _, err := s.RecordDataChange(ctx, id, shT0, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkRemoved(ctx, shT0, ids[1]); err != nil {
		t.Fatal(err)
	}
	s.Close()

	rewriteAt(t, path, 12, func(tx *bolt.Tx) error {
		return tx.DeleteBucket([]byte("datasets_can_be_late"))
	})

	s, err = store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if list, err := s.CanBeLate(); err != nil || !slices.Equal(list, ids[:1]) {
		t.Fatalf("the list after the migration: %v %v, want %v", list, err, ids[:1])
	}
	var read []string
	err = s.EachFreshnessInput(ctx, nil, func(d *quarry.Dataset, _, _ *quarry.FreshnessPolicy) error {
		read = append(read, d.ID)
		return nil
	})
	if err != nil || !slices.Equal(read, ids[:1]) {
		t.Fatalf("freshness inputs after the migration: %v %v, want %v", read, err, ids[:1])
	}
}

// rewriteAt edits the store file at path as an older build left it: edit
// runs in one transaction, which then says the file is at schema version.
func rewriteAt(t *testing.T, path string, version uint64, edit func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := edit(tx); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), binary.BigEndian.AppendUint64(nil, version))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
}

package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/internal/mapped"
	"github.com/quarrydata/quarry/store"
)

// residentOf returns how many bytes of the memory maps of the file at
// path are in this process's resident set.
func residentOf(tb testing.TB, path string) int64 {
	tb.Helper()
	n, _, err := mapped.Resident(func(p string) bool { return p == path })
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// A scan of a whole bucket (the lineage graph's load reads every
// dataset's identity) leaves the store file's memory map out of the
// resident set: it made the file resident up to all of it (1.6 of 3.8 GB
// for the name index at a million datasets).
func TestScanReleasesTheMap(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quarry.db")
	s, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 40_000
	batch := make([]quarry.Dataset, 0, 1000)
	for i := range n {
		d := orders(i)
		d.Provided.Description = strings.Repeat("One row per order, as the shop wrote it. ", 20)
		if batch = append(batch, d); len(batch) == cap(batch) {
			if _, err := s.UpsertDatasets(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	seen, during := 0, int64(0)
	err = s.EachIdentity(ctx, quarry.EntityDataset, func(quarry.Identity) error {
		if seen++; seen == n-1 {
			during = residentOf(t, path)
		}
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("scan: %d identities, %v", seen, err)
	}
	after := residentOf(t, path)
	t.Logf("resident of the file's %d bytes: %d at the scan's end, %d after it", fi.Size(), during, after)
	if after > fi.Size()/10 {
		t.Fatalf("after the scan %d of the file's %d bytes are resident", after, fi.Size())
	}
}

// The map is dropped every Options.ReleaseEvery whatever touched it:
// reads of single records (a search's page of hits) and writes leave
// pages behind that no scan releases.
func TestReleaseEvery(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quarry.db")
	s, err := store.Open(path, &store.Options{NoSync: true, ReleaseEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	batch := make([]quarry.Dataset, 0, 1000)
	for i := range 20_000 {
		d := orders(i)
		d.Provided.Description = strings.Repeat("One row per order, as the shop wrote it. ", 20)
		if batch = append(batch, d); len(batch) == cap(batch) {
			res, err := s.UpsertDatasets(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, res.IDs...)
			batch = batch[:0]
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	most := int64(0)
	for range 3 {
		for i := 0; i < len(ids); i += 97 { // a record here and there, as searches read them
			if _, err := s.DatasetsByID(ctx, ids[i:i+1]); err != nil {
				t.Fatal(err)
			}
		}
		most = max(most, residentOf(t, path))
	}
	deadline := time.Now().Add(10 * time.Second)
	for residentOf(t, path) > fi.Size()/10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of the file's %d bytes are still resident", residentOf(t, path), fi.Size())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("file %d bytes, at most %d resident after the reads", fi.Size(), most)
}

package store_test

import (
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// freelistSynced reads from a bbolt file's newest meta page whether it
// carries its freelist: a file without one is walked page by page at
// every read-write open (seconds and the whole file in memory at a
// million datasets). The meta page follows a 16-byte page header: magic,
// version, page size, flags (4 bytes each), the root bucket (16), then
// the freelist's page id (8; all ones for none), the high water mark and
// the transaction id (8 each), in the machine's byte order (little
// endian where Quarry runs).
func freelistSynced(tb testing.TB, path string) bool {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 64)
	if _, err := io.ReadFull(f, head); err != nil {
		tb.Fatal(err)
	}
	pageSize := int64(binary.LittleEndian.Uint32(head[24:]))
	var newest [2]uint64 // txid, freelist
	for i := range int64(2) {
		meta := make([]byte, 72)
		if _, err := f.ReadAt(meta, i*pageSize); err != nil {
			tb.Fatal(err)
		}
		if txid := binary.LittleEndian.Uint64(meta[64:]); i == 0 || txid > newest[0] {
			newest = [2]uint64{txid, binary.LittleEndian.Uint64(meta[48:])}
		}
	}
	return newest[1] != ^uint64(0)
}

// A closed store file carries its freelist, so that opening it reads a
// few pages rather than walking all of them; a file without one (an older
// build's, or one whose process ended without closing it) still opens,
// walked that once, with its records, and carries one after its next
// close.
func TestFreelistSynced(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quarry.db")
	s, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := mustUpsert(t, s, orders(1), orders(2))
	mustUpsert(t, s, orders(3)) // a second commit frees the first's pages
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !freelistSynced(t, path) {
		t.Fatal("the store file has no freelist")
	}

	// As builds before this one left it: committed without a freelist.
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		return meta.Put([]byte("schema_version"), slices.Clone(meta.Get([]byte("schema_version"))))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if freelistSynced(t, path) {
		t.Fatal("the old build's commit left a freelist")
	}

	s, err = store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := s.Dataset(ctx, ids[1]); err != nil || d.Name != "shop.public.orders_2" {
		t.Fatalf("a file without a freelist reopened: %v %v", d, err)
	}
	mustUpsert(t, s, orders(4))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !freelistSynced(t, path) {
		t.Fatal("the file has no freelist after a read-write open")
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the file after reopening: %v", err)
	}
}

// A PostgreSQL store's snapshot (a backup: a bbolt file written from the
// database) carries its freelist: a data directory restored from it opens
// without the walk. (A bbolt store's is its file's pages as they are, open
// and without one: the restored file is walked at its first open.)
func TestSnapshotFreelistSynced(t *testing.T) {
	if storetest.Engine() != "postgres" {
		t.Skip("a bbolt snapshot copies the open file, which has no freelist")
	}
	s := storetest.MustOpen(t, nil)
	mustUpsert(t, s, orders(1))
	mustUpsert(t, s, orders(2))
	if path := snapshotFile(t, s); !freelistSynced(t, path) {
		t.Fatal("the snapshot has no freelist")
	}
}

package store_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

func TestVerify(t *testing.T) {
	s := storetest.MustOpen(t, nil)
	for i := range 50 {
		mustUpsert(t, s, orders(i))
	}
	copyOf := func(t *testing.T) string { return snapshotFile(t, s) }

	t.Run("OK", func(t *testing.T) {
		if err := store.Verify(copyOf(t)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrCorrupt", func(t *testing.T) {
		// Every leaf page claims to be of no type: the meta pages are
		// intact, so the file opens, and the check must find the damage
		// (and not crash the process, as bbolt's own check alone does).
		path := copyOf(t)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pageSize := int(binary.LittleEndian.Uint32(raw[24:28])) // the first meta page's pageSize
		const leaf = 0x02
		n := 0
		for off := 2 * pageSize; off+pageSize <= len(raw); off += pageSize {
			if flags := binary.LittleEndian.Uint16(raw[off+8:]); flags == leaf {
				binary.LittleEndian.PutUint16(raw[off+8:], 0)
				n++
			}
		}
		if n == 0 {
			t.Fatal("no leaf page found to damage")
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		err = store.Verify(path)
		if err == nil {
			t.Fatalf("a file with %d damaged pages verified", n)
		}
		t.Log(err)
	})

	t.Run("ErrKeyOrder", func(t *testing.T) {
		// The first key of every leaf page of two or more keys sorts last:
		// every page reads, and only the check's order test can tell.
		path := copyOf(t)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pageSize := int(binary.LittleEndian.Uint32(raw[24:28]))
		const leaf, header, element = 0x02, 16, 16
		n := 0
		for off := 2 * pageSize; off+pageSize <= len(raw); off += pageSize {
			flags, count := binary.LittleEndian.Uint16(raw[off+8:]), binary.LittleEndian.Uint16(raw[off+10:])
			if flags != leaf || count < 2 {
				continue
			}
			el := off + header // the first element: flags, pos, ksize, vsize (uint32 each)
			if binary.LittleEndian.Uint32(raw[el:]) != 0 {
				continue // a bucket's name: leave the buckets findable
			}
			pos, ksize := binary.LittleEndian.Uint32(raw[el+4:]), binary.LittleEndian.Uint32(raw[el+8:])
			// A page after a leaf that overflows it is the leaf's data, not
			// a page: where its bytes happen to read as a leaf header, the
			// key they point at lies outside what that header spans; such
			// a page is left alone: writing where it points could damage
			// any structure, not the key order this test is about (the
			// test once crashed inside bbolt's page check).
			overflow := binary.LittleEndian.Uint32(raw[off+12:])
			if overflow > 64 || el+int(pos)+int(ksize) > off+(int(overflow)+1)*pageSize {
				continue
			}
			for i := range ksize {
				raw[el+int(pos+i)] = 0xff
			}
			n++
		}
		if n == 0 {
			t.Fatal("no leaf page found to damage")
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		err = store.Verify(path)
		if err == nil {
			t.Fatalf("a file with %d pages out of order verified", n)
		}
		t.Log(err)
	})

	t.Run("ErrNotAStore", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "text.db")
		if err := os.WriteFile(path, []byte(strings.Repeat("not a store\n", 2000)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := store.Verify(path); err == nil {
			t.Fatal("a text file verified")
		}
	})
}

// snapshotFile writes a snapshot of s (a bbolt file) to a new file and
// returns its path.
func snapshotFile(t *testing.T, s *store.Store) string {
	t.Helper()
	f, _, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	path := filepath.Join(t.TempDir(), "copy.db")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := out.ReadFrom(f); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

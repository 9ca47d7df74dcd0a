package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/quarrydata/quarry/internal/disktest"
)

// On a disk short of space the lineage log reserves a small part of it,
// not a 16 MiB segment (which failed every append on a disk with less
// free), and grows the reservation as it fills. Appends that find no room
// fail, none of their records is read back, and once space is freed the
// log goes on from the last acknowledged record without being reopened.
func TestWALFullDisk(t *testing.T) {
	disk := disktest.Mount(t, 1<<20)
	dir := filepath.Join(disk, "log")
	w := openTestWAL(t, dir, 0)
	defer func() { w.Close() }()
	var acked []uint64
	appendOne := func(i uint64) error {
		first, err := w.Append(context.Background(), [][]byte{payload(i)})
		if err == nil {
			if first != i {
				t.Fatalf("record %d got sequence %d", i, first)
			}
			acked = append(acked, first)
		}
		return err
	}
	for i := uint64(1); i <= 10; i++ {
		if err := appendOne(i); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(segFiles(t, dir)[0]); err != nil || fi.Size() > 64<<10 {
		t.Fatalf("the segment reserves %d bytes of a 1 MiB disk (%v)", fi.Size(), err)
	}

	ballast := disktest.Fill(t, disk, 0)
	i := uint64(11)
	var full error
	for ; full == nil; i++ {
		if i > 10_000 {
			t.Fatal("10,000 records appended to a full disk")
		}
		full = appendOne(i)
	}
	if !isDiskFull(full) {
		t.Fatalf("an append on the full disk failed with %v", full)
	}
	last := acked[len(acked)-1]
	if err := appendOne(last + 1); !isDiskFull(err) {
		t.Fatalf("the next append on the full disk: %v", err)
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	for j := last + 1; j <= last+20; j++ {
		if err := appendOne(j); err != nil {
			t.Fatalf("append %d after space was freed: %v", j, err)
		}
	}
	if !slices.Equal(readAll(t, w, 1), acked) || !slices.Equal(acked, seqRange(1, last+20)) {
		t.Fatalf("read back %d records; acknowledged %d", len(readAll(t, w, 1)), len(acked))
	}
	w.Close()
	w = openTestWAL(t, dir, 0)
	if got := readAll(t, w, 1); !slices.Equal(got, acked) {
		t.Fatalf("after reopening, read %d records; acknowledged %d", len(got), len(acked))
	}
}

// A file system that cannot reserve space fails a write part of the way
// (here: a tmpfs whose segment the log takes as reserved, as it does where
// fallocate is missing). The part written is cut off: no record of the
// failed batch is read back, not even after reopening, where they would
// otherwise follow the last good record with their sequences and good
// checksums, and the next append takes their sequences without a reopen.
func TestWALFullDiskPartialWrite(t *testing.T) {
	disk := disktest.Mount(t, 1<<20)
	dir := filepath.Join(disk, "log")
	w := openTestWAL(t, dir, 0)
	defer func() { w.Close() }()
	for i := uint64(1); i <= 5; i++ {
		if _, err := w.Append(context.Background(), [][]byte{payload(i)}); err != nil {
			t.Fatal(err)
		}
	}
	w.segCap = w.segBytes
	ballast := disktest.Fill(t, disk, 32<<10) // room for some of the batch, not all
	batch := make([][]byte, 0, 600)
	for i := uint64(6); i < 606; i++ {
		batch = append(batch, payload(i))
	}
	if _, err := w.Append(context.Background(), batch); !isDiskFull(err) {
		t.Fatalf("a 110 KB batch with 32 KB free: %v", err)
	}
	if got := readAll(t, w, 1); !slices.Equal(got, seqRange(1, 5)) {
		t.Fatalf("after the failed batch, read %v", got)
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	// Record 6 is as long as the failed batch's first: left on disk, the
	// batch's records 7 and on would follow it.
	if first, err := w.Append(context.Background(), [][]byte{payload(6)}); err != nil || first != 6 {
		t.Fatalf("append after space was freed: %d %v", first, err)
	}
	w.Close()
	w = openTestWAL(t, dir, 0)
	if got := readAll(t, w, 1); !slices.Equal(got, seqRange(1, 6)) {
		t.Fatalf("reopened, the log reads %d records, 6 acknowledged: records of the failed batch are read back", len(got))
	}
}

package store

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func openTestWAL(t *testing.T, dir string, after uint64) *wal {
	t.Helper()
	w, err := openWAL(dir, after, false, false, slog.New(slog.DiscardHandler), newWALMetrics(nil))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func payload(i uint64) []byte { return fmt.Appendf(nil, "record %d %s", i, make([]byte, i%300)) }

// readAll reads every record from seq from on, in chunks, checking each is
// the payload of its sequence.
func readAll(t *testing.T, w *wal, from uint64) []uint64 {
	t.Helper()
	var seqs []uint64
	for {
		recs, err := w.Read(from, 7, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return seqs
		}
		for _, r := range recs {
			if string(r.data) != string(payload(r.seq)) {
				t.Fatalf("record %d holds %q", r.seq, r.data)
			}
			seqs = append(seqs, r.seq)
		}
		from = recs[len(recs)-1].seq + 1
	}
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Concurrent appends get consecutive sequences in the order they were
// written, across segments; all of them are read back, in order, while
// the log is open and after it is opened again; Release deletes the
// segments read, not the one being written.
func TestWALAppendReadRelease(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir, 0)
	w.segBytes = 4 << 10 // a few dozen records a segment
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[uint64][]byte{}
	for c := range 8 {
		wg.Go(func() {
			for i := range 50 {
				n := uint64(c*50 + i + 1)
				recs := [][]byte{payload(n), payload(n)}
				first, err := w.Append(context.Background(), recs)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[first], got[first+1] = recs[0], recs[1]
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if w.Last() != 800 || len(got) != 800 {
		t.Fatalf("last %d, %d records acknowledged; want 800", w.Last(), len(got))
	}
	// Records carry what was appended, whatever sequence it got: re-key
	// the check by the payload each record should hold.
	for seq := uint64(1); seq <= 800; seq++ {
		recs, err := w.Read(seq, 1, 1<<20)
		if err != nil || len(recs) != 1 || string(recs[0].data) != string(got[seq]) {
			t.Fatalf("record %d: %v %v; appended %q", seq, recs, err, got[seq])
		}
	}
	if n := len(segFiles(t, dir)); n < 10 {
		t.Fatalf("%d segments; the small segment size should make dozens", n)
	}
	before := len(segFiles(t, dir))
	w.Release(500)
	w.Close()
	var firsts []uint64
	for _, name := range segFiles(t, dir) {
		var first uint64
		fmt.Sscanf(filepath.Base(name), "%016x.log", &first)
		firsts = append(firsts, first)
	}
	// The first segment left holds record 501; those before it are gone.
	if len(firsts) >= before || firsts[0] > 501 || len(firsts) > 1 && firsts[1] <= 501 {
		t.Fatalf("after releasing up to 500, of %d segments these are left: %v", before, firsts)
	}

	w = openTestWAL(t, dir, 500)
	defer w.Close()
	if w.Last() != 800 {
		t.Fatalf("after reopening, last %d; want 800", w.Last())
	}
	first, err := w.Append(context.Background(), [][]byte{[]byte("after")})
	if err != nil || first != 801 {
		t.Fatalf("append after reopening: %d %v", first, err)
	}
	var seqs []uint64
	for from := uint64(501); ; {
		recs, err := w.Read(from, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if r.seq <= 800 && string(r.data) != string(got[r.seq]) {
				t.Fatalf("record %d holds %q after reopening", r.seq, r.data)
			}
			seqs = append(seqs, r.seq)
		}
		from = recs[len(recs)-1].seq + 1
	}
	if !slices.Equal(seqs, seqRange(501, 801)) {
		t.Fatalf("read %v after reopening", seqs)
	}
}

// A record torn by a crash (and whatever follows it in its segment) ends
// the log: the records before it read back, the next append takes its
// sequence, in a segment of its own, and everything reads in order.
func TestWALTornTail(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir, 0)
	for i := uint64(1); i <= 20; i++ {
		if _, err := w.Append(context.Background(), [][]byte{payload(i)}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	// Tear record 18: a byte of its payload never reached the disk.
	seg := segFiles(t, dir)[0]
	raw, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for i := uint64(1); i < 18; i++ {
		off += walHeader + len(payload(i))
	}
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{raw[off+walHeader+3] ^ 0xff}, int64(off+walHeader+3)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	w = openTestWAL(t, dir, 0)
	defer w.Close()
	if w.Last() != 17 {
		t.Fatalf("last %d; the log ends before the torn record 18", w.Last())
	}
	for i := uint64(18); i <= 25; i++ {
		first, err := w.Append(context.Background(), [][]byte{payload(i)})
		if err != nil || first != i {
			t.Fatalf("append %d: got %d %v", i, first, err)
		}
	}
	if n := len(segFiles(t, dir)); n != 2 {
		t.Fatalf("%d segments; appends after the reopen go to a new one", n)
	}
	if seqs := readAll(t, w, 1); !slices.Equal(seqs, seqRange(1, 25)) {
		t.Fatalf("read %v", seqs)
	}
	if seqs := readAll(t, w, 12); !slices.Equal(seqs, seqRange(12, 25)) {
		t.Fatalf("read from 12: %v", seqs)
	}
}

// A log opened read-only reports its last record and writes nothing; a
// log whose directory does not exist is empty.
func TestWALReadOnly(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir, 0)
	if _, err := w.Append(context.Background(), [][]byte{payload(1), payload(2)}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	ro, err := openWAL(dir, 0, true, false, slog.New(slog.DiscardHandler), newWALMetrics(nil))
	if err != nil {
		t.Fatal(err)
	}
	if ro.Last() != 2 {
		t.Fatalf("read-only: last %d", ro.Last())
	}
	if seqs := readAll(t, ro, 1); !slices.Equal(seqs, seqRange(1, 2)) {
		t.Fatalf("read-only read %v", seqs)
	}
	if _, err := ro.Append(context.Background(), [][]byte{payload(3)}); err != ErrClosed {
		t.Fatalf("append to a read-only log: %v", err)
	}
	ro.Close()
	if n := len(segFiles(t, dir)); n != 1 {
		t.Fatalf("%d segments after a read-only open", n)
	}
	none, err := openWAL(filepath.Join(dir, "missing"), 9, true, false, slog.New(slog.DiscardHandler), newWALMetrics(nil))
	if err != nil || none.Last() != 9 {
		t.Fatalf("missing directory: %v %v", none, err)
	}
}

// A crash while a group was spilling into a new segment can leave that
// segment, named for a record of the group, empty, and the group's first
// records missing from the segment before. Opening the log deletes it:
// appends go on from the last record on disk, everything reads back in
// order, and releasing what is applied deletes nothing unapplied.
func TestWALCrashWhileBeginningASegment(t *testing.T) {
	dir := t.TempDir()
	w := openTestWAL(t, dir, 0)
	for i := uint64(1); i <= 10; i++ {
		if _, err := w.Append(context.Background(), [][]byte{payload(i)}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	// The group 11..15 was to put 11 and 12 in the current segment and
	// the rest in a new one, begun (and synced) first: the crash came then.
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%016x.log", 13)))
	if err != nil {
		t.Fatal(err)
	}
	if err := preallocate(f, 0, walSegBytes); err != nil {
		t.Fatal(err)
	}
	f.Close()

	w = openTestWAL(t, dir, 0)
	if w.Last() != 10 {
		t.Fatalf("last %d, want 10", w.Last())
	}
	for i := uint64(11); i <= 20; i++ {
		if first, err := w.Append(context.Background(), [][]byte{payload(i)}); err != nil || first != i {
			t.Fatalf("append %d: %d %v", i, first, err)
		}
	}
	if seqs := readAll(t, w, 1); !slices.Equal(seqs, seqRange(1, 20)) {
		t.Fatalf("read %v", seqs)
	}
	w.Close()

	w = openTestWAL(t, dir, 0)
	w.Release(12) // the applier applied up to 12
	w.Close()
	w = openTestWAL(t, dir, 12)
	defer w.Close()
	if w.Last() != 20 {
		t.Fatalf("after releasing up to 12: last %d, want 20", w.Last())
	}
	if seqs := readAll(t, w, 13); !slices.Equal(seqs, seqRange(13, 20)) {
		t.Fatalf("read from 13: %v", seqs)
	}
}

// Records too large to be one, or empty (the end of a segment), are not
// appended.
func TestWALRecordSizes(t *testing.T) {
	w := openTestWAL(t, t.TempDir(), 0)
	defer w.Close()
	w.maxRecord = 1 << 10
	for _, n := range []int{0, 1<<10 + 1} {
		if _, err := w.Append(context.Background(), [][]byte{payload(1), make([]byte, n)}); err == nil {
			t.Fatalf("a record of %d bytes appended", n)
		}
	}
	if w.Last() != 0 {
		t.Fatalf("last %d after refused appends", w.Last())
	}
}

package store

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A wal is an append-only log of records in segment files of a directory,
// with group commit: the appends waiting while one is written share its
// write and its one fdatasync. The lineage log keeps accepted events in
// one, beside the bbolt file rather than in it, because a bbolt commit
// costs two fsyncs and the pages of a B+tree, and waits for bbolt's one
// write lock, which the applier holds for its large transactions. The
// wal's reader (one goroutine) reads the records back in order; Release
// deletes the segments whose records it no longer needs.
//
// A record is a 16-byte header, then its payload:
//
//	length of the payload (4) | CRC-32C of sequence and payload (4) | sequence (8)
//
// A segment is named by the sequence of its first record and preallocated
// (all of its 16 MiB at once while the disk has room, in parts as it fills
// when the disk is short of space: see reservation); it ends at the first
// record that is not the next one in sequence with a good checksum (zeros
// of the preallocated tail, a write torn by a crash, the cut a failed
// write left: see write).
// The first append after an open begins a new segment, so a torn tail is
// never written after. Segments are contiguous: each one's records follow
// the previous one's last (open deletes the empty segment a crash while
// one was being begun can leave).
type wal struct {
	dir       string
	noSync    bool
	segBytes  int64
	maxRecord int
	free      func(dir string) (int64, bool) // freeSpace; tests pass their own
	log       *slog.Logger
	reqs      chan *walAppend
	closed    chan struct{}
	done      chan struct{}
	once      sync.Once

	// The writer's own.
	seg     *os.File
	segOff  int64  // where the next record goes in seg
	segCap  int64  // the bytes reserved for seg (see reservation)
	next    uint64 // sequence of the next record
	failure error  // set by a failed write or sync, after which what is on disk is unknown

	durable atomic.Uint64 // the highest sequence written and synced

	mu    sync.Mutex   // guards segs, which the writer appends to
	segs  []walSegment // oldest first
	rd    walCursor    // the reader's position (the reader's own)
	rdBuf *bufio.Reader

	m walMetrics
}

// walMetrics are the lineage log's: what an accept waits for.
type walMetrics struct {
	syncSeconds prometheus.Histogram // one group's write and fdatasync
	groupSize   prometheus.Histogram // appends in one group
}

func newWALMetrics(reg prometheus.Registerer) walMetrics {
	m := walMetrics{
		syncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "quarry_lineage_log_sync_seconds",
			Help:    "Time to write and fdatasync one group of lineage log appends.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
		groupSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "quarry_lineage_log_group_appends",
			Help:    "Number of appends (accept calls) sharing one lineage log write.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.syncSeconds, m.groupSize)
	}
	return m
}

type walSegment struct {
	first uint64
	path  string
}

type walAppend struct {
	recs  [][]byte
	first uint64 // set with err by the writer
	err   error
	done  chan struct{}
}

type walRecord struct {
	seq  uint64
	data []byte
}

// walCursor is where the next record to read, seq, is: at off in f, the
// segment whose first record is seg.
type walCursor struct {
	f   *os.File
	seg uint64
	off int64
	seq uint64
}

const (
	walHeader    = 16
	walSegBytes  = 16 << 20
	walMaxBatch  = 1024      // appends one write takes at most
	walMaxRecord = 256 << 20 // a larger length in a header is damage, not a record
)

var walCRC = crc32.MakeTable(crc32.Castagnoli)

// openWAL opens the log in dir (creating it), finds its last record and,
// unless readOnly, starts the writer, which begins a new segment at the
// first append. Records up to after are not needed any more: their
// segments are deleted, and the log continues after them even when none
// is left.
func openWAL(dir string, after uint64, readOnly, noSync bool, log *slog.Logger, m walMetrics) (*wal, error) {
	w := &wal{dir: dir, noSync: noSync, segBytes: walSegBytes, maxRecord: walMaxRecord, log: log, m: m, free: freeSpace,
		reqs: make(chan *walAppend), closed: make(chan struct{}), done: make(chan struct{})}
	if !readOnly {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			if err := os.Mkdir(dir, 0o700); err != nil {
				return nil, fmt.Errorf("lineage log: %w", err)
			}
			if !noSync {
				if err := syncDir(filepath.Dir(dir)); err != nil { // its entry in the data directory
					return nil, fmt.Errorf("lineage log: %w", err)
				}
			}
		}
	}
	names, err := os.ReadDir(dir)
	if err != nil && !(readOnly && errors.Is(err, os.ErrNotExist)) {
		return nil, fmt.Errorf("lineage log: %w", err)
	}
	for _, e := range names {
		first, ok := strings.CutSuffix(e.Name(), ".log")
		n, err := strconv.ParseUint(first, 16, 64)
		if !ok || err != nil || len(first) != 16 {
			continue
		}
		w.segs = append(w.segs, walSegment{first: n, path: filepath.Join(dir, e.Name())})
	}
	slices.SortFunc(w.segs, func(a, b walSegment) int { return cmp.Compare(a.first, b.first) })
	// The last segment that has records ends the log. Segments after it
	// are empty: begun for a group whose first records, bound for the
	// segment before, never reached the disk. They go, or the next
	// segment would be listed after one named for a later record.
	last := after
	empty := 0
	for i := len(w.segs) - 1; i >= 0; i-- {
		end, err := scanSegment(w.segs[i])
		if err != nil {
			return nil, fmt.Errorf("lineage log: %w", err)
		}
		if end >= w.segs[i].first {
			last = max(last, end)
			break
		}
		empty++
	}
	if !readOnly && empty > 0 {
		for _, sg := range w.segs[len(w.segs)-empty:] {
			if err := os.Remove(sg.path); err != nil {
				return nil, fmt.Errorf("lineage log: %w", err)
			}
		}
		if !noSync {
			if err := syncDir(dir); err != nil {
				return nil, fmt.Errorf("lineage log: %w", err)
			}
		}
	}
	w.segs = w.segs[:len(w.segs)-empty]
	w.next = last + 1
	w.durable.Store(last)
	if readOnly {
		w.once.Do(func() { close(w.closed) }) // appends fail
		close(w.done)
		return w, nil
	}
	w.Release(after)
	go w.writer()
	return w, nil
}

// scanSegment returns the sequence of a segment's last good record
// (first-1 when it has none).
func scanSegment(sg walSegment) (uint64, error) {
	f, err := os.Open(sg.path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	seq := sg.first
	for {
		if _, err := readRecord(r, seq); err != nil {
			return seq - 1, nil
		}
		seq++
	}
}

// readRecord reads the record at r, which must have sequence seq; any
// other header, a short read or a bad checksum is the segment's end
// (io.EOF).
func readRecord(r *bufio.Reader, seq uint64) ([]byte, error) {
	var h [walHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, io.EOF
	}
	n := binary.BigEndian.Uint32(h[0:4])
	if n == 0 || n > walMaxRecord || binary.BigEndian.Uint64(h[8:16]) != seq {
		return nil, io.EOF
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, io.EOF
	}
	crc := crc32.Update(crc32.Checksum(h[8:16], walCRC), walCRC, data)
	if crc != binary.BigEndian.Uint32(h[4:8]) {
		return nil, io.EOF
	}
	return data, nil
}

// Append writes recs as consecutive records and returns the sequence of
// the first once they are on disk. An error means none of them is
// acknowledged. A record is 1 byte to walMaxRecord.
func (w *wal) Append(ctx context.Context, recs [][]byte) (uint64, error) {
	for _, r := range recs {
		if len(r) == 0 || len(r) > w.maxRecord {
			return 0, fmt.Errorf("lineage log: a record of %d bytes", len(r))
		}
	}
	a := &walAppend{recs: recs, done: make(chan struct{})}
	select {
	case w.reqs <- a:
	case <-w.closed:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	<-a.done // once queued, it may be written: wait for the answer
	return a.first, a.err
}

func (w *wal) writer() {
	defer close(w.done)
	defer func() {
		if w.seg != nil {
			w.seg.Close()
		}
	}()
	batch := make([]*walAppend, 0, walMaxBatch)
	var buf []byte
	for {
		var first *walAppend
		select {
		case first = <-w.reqs:
		case <-w.closed:
			return
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < walMaxBatch {
			select {
			case a := <-w.reqs:
				batch = append(batch, a)
			default:
				break drain
			}
		}
		buf = w.write(batch, buf[:0])
	}
}

// write writes a batch of appends and syncs it, and answers them. The
// records that do not fit in the current segment begin a new one, which
// is created first: failing to create it fails the batch cleanly.
//
// A write or sync that fails for lack of space (see isDiskFull) is undone:
// the segment the batch began is deleted and what it wrote to the current
// one is cut off (a truncation frees space, it never needs any), so that
// no record of the failed batch can be read back as part of the log, and
// the next batch tries again. Any other failed write or sync fails the
// batch and every later one (what is on disk is unknown: records of the
// batch may be, and the kernel may have dropped pages it could not write),
// until the log is opened again; so does a failed undo.
func (w *wal) write(batch []*walAppend, buf []byte) []byte {
	err := w.failure
	next := w.next
	split := -1 // where in buf the records for a new segment begin
	var splitSeq uint64
	if err == nil {
		for _, a := range batch {
			a.first = next
			for _, rec := range a.recs {
				if split < 0 && w.seg != nil && w.segOff+int64(len(buf)+walHeader+len(rec)) > w.segBytes && w.segOff+int64(len(buf)) > 0 {
					split, splitSeq = len(buf), next
				}
				var h [walHeader]byte
				binary.BigEndian.PutUint32(h[0:4], uint32(len(rec)))
				binary.BigEndian.PutUint64(h[8:16], next)
				binary.BigEndian.PutUint32(h[4:8], crc32.Update(crc32.Checksum(h[8:16], walCRC), walCRC, rec))
				buf = append(append(buf, h[:]...), rec...)
				next++
			}
		}
		if w.seg == nil { // the first append since the log opened, or since an undo
			split, splitSeq = 0, w.next
		}
	}
	start := time.Now()
	prev, prevOff := w.seg, w.segOff
	inSeg := buf // what goes to the current segment
	if split >= 0 {
		inSeg = buf[:split]
	}
	var seg *os.File // the new segment, if the batch begins one
	var segCap int64
	if err == nil && split >= 0 {
		seg, segCap, err = w.create(splitSeq, int64(len(buf)-split))
	}
	if err == nil && len(inSeg) > 0 {
		err = w.reserve(int64(len(inSeg)))
	}
	wrotePrev := false
	if err == nil {
		wrotePrev = len(inSeg) > 0
		err = w.flush(prev, inSeg, prevOff)
	}
	if err == nil && seg != nil {
		err = w.flush(seg, buf[split:], 0)
	}
	if err != nil && w.failure == nil {
		if !isDiskFull(err) {
			w.failure = fmt.Errorf("lineage log: a write failed, restart the server: %w", err)
		} else if uerr := w.undo(prev, prevOff, wrotePrev, seg); uerr != nil {
			w.failure = fmt.Errorf("lineage log: a write failed for lack of space and could not be undone, restart the server: %w (undoing: %w)", err, uerr)
		}
		if w.failure != nil && seg != nil {
			seg.Close()
		}
	}
	if err == nil {
		if seg != nil {
			if prev != nil {
				prev.Close()
			}
			w.seg, w.segOff, w.segCap = seg, int64(len(buf)-split), segCap
		} else {
			w.segOff += int64(len(inSeg))
		}
		w.next = next
		w.durable.Store(next - 1)
		w.m.syncSeconds.Observe(time.Since(start).Seconds())
		w.m.groupSize.Observe(float64(len(batch)))
	}
	for _, a := range batch {
		a.err = err
		close(a.done)
	}
	return buf
}

// undo puts the log back as it was before a batch that failed: the
// segment it began (seg, if any) deleted, and what it may have written to
// the current one (prev, from off) cut off and synced.
func (w *wal) undo(prev *os.File, off int64, wrotePrev bool, seg *os.File) error {
	if seg != nil {
		seg.Close()
		w.mu.Lock()
		n := len(w.segs)
		sg := w.segs[n-1] // create listed it last
		w.segs = w.segs[:n-1]
		w.mu.Unlock()
		if err := os.Remove(sg.path); err != nil {
			return err
		}
		if !w.noSync {
			if err := syncDir(w.dir); err != nil {
				return err
			}
		}
	}
	if prev != nil && wrotePrev {
		if err := prev.Truncate(off); err != nil {
			return err
		}
		if !w.noSync {
			if err := fdatasync(prev); err != nil {
				return err
			}
		}
		w.segCap = off // the reservation past off went with the cut
	}
	return nil
}

// flush writes buf at off of f and syncs it.
func (w *wal) flush(f *os.File, buf []byte, off int64) error {
	if len(buf) == 0 {
		return nil
	}
	if _, err := f.WriteAt(buf, off); err != nil {
		return err
	}
	if w.noSync {
		return nil
	}
	return fdatasync(f)
}

// reservation is how many bytes to reserve for a segment that needs need
// more and may take up to most more: most while the disk has room (a GiB
// free for a 16 MiB segment), and a 64th of its free space (at least
// need) when it is short. The log must not take the last space a freed
// disk gives back from the store file beside it, which needs several
// times the log's bytes to apply the events they hold: events the log
// accepts on a nearly full disk must fit in the store once applied. The
// segment's reservation grows as it fills (reserve), by less as the disk
// fills.
func (w *wal) reservation(need, most int64) int64 {
	r := most
	if free, ok := w.free(w.dir); ok && free/walShortShare < r {
		r = free / walShortShare
	}
	return min(max(r, need), max(most, need))
}

// walShortShare is the share of the free space (its inverse) a segment
// reserves when the disk cannot spare a whole segment.
const walShortShare = 64

// reserve makes sure the current segment has n bytes reserved past its
// end, reserving more when it has not.
func (w *wal) reserve(n int64) error {
	need := w.segOff + n
	if need <= w.segCap {
		return nil
	}
	most := max(w.segBytes, need)
	r := w.reservation(need-w.segCap, most-w.segCap)
	switch err := preallocate(w.seg, w.segCap, r); {
	case errors.Is(err, errors.ErrUnsupported):
		w.segCap = most // the file grows as it is written
	case err != nil:
		return fmt.Errorf("lineage log: reserving space: %w", err)
	default:
		w.segCap += r
	}
	return nil
}

// create creates the segment whose first record is first, reserving room
// for at least size bytes, and lists it; it returns the bytes reserved.
func (w *wal) create(first uint64, size int64) (*os.File, int64, error) {
	path := filepath.Join(w.dir, fmt.Sprintf("%016x.log", first))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("lineage log: %w", err)
	}
	// Preallocated, a sync need not record the segment's growing size
	// (its first write into a preallocated block still needs a journal
	// commit, but less of one: on this ext4, 115 µs a 2 KB append and
	// fdatasync against 145 µs for a growing file). Its directory entry is
	// made durable once, here. A file system that cannot preallocate just
	// grows the file; one that has no room fails the group now.
	most := max(w.segBytes, size)
	reserved := w.reservation(size, most)
	if err := preallocate(f, 0, reserved); errors.Is(err, errors.ErrUnsupported) {
		reserved = most
	} else if err != nil {
		f.Close()
		os.Remove(path)
		return nil, 0, fmt.Errorf("lineage log: reserving a segment: %w", err)
	}
	if !w.noSync {
		if err := f.Sync(); err == nil {
			err = syncDir(w.dir)
		}
		if err != nil {
			f.Close()
			os.Remove(path)
			return nil, 0, fmt.Errorf("lineage log: %w", err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.segs); n > 0 && w.segs[n-1].first >= first {
		// Only the writer creates segments, for its next record, which is
		// past every segment's first: anything else would unsort segs.
		f.Close()
		os.Remove(path)
		return nil, 0, fmt.Errorf("lineage log: a segment for record %d after one for %d", first, w.segs[n-1].first)
	}
	w.segs = append(w.segs, walSegment{first: first, path: path})
	return f, reserved, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Last returns the sequence of the last durable record.
func (w *wal) Last() uint64 { return w.durable.Load() }

// Read returns the records from sequence from on (the reader goes on
// where it stopped, or seeks), at most n of them and about maxBytes,
// among those durable. It is called from one goroutine only (the
// applier). Records that are missing, which only damage to the files can
// cause (a segment deleted by hand), are skipped with an error in the log:
// stopping there would stop every later event too.
func (w *wal) Read(from uint64, n, maxBytes int) ([]walRecord, error) {
	last := w.durable.Load()
	if from > last {
		return nil, nil
	}
	if w.rd.f == nil || from != w.rd.seq {
		if err := w.seek(from); err != nil {
			return nil, err
		}
	}
	var out []walRecord
	size := 0
	more := func() bool { return w.rd.seq <= last && len(out) < n && size < maxBytes }
	for w.rd.f != nil && more() {
		r := w.reader()
		for more() {
			data, err := readRecord(r, w.rd.seq)
			if err != nil {
				break
			}
			out = append(out, walRecord{seq: w.rd.seq, data: data})
			w.rd.seq++
			w.rd.off += int64(walHeader + len(data))
			size += len(data)
		}
		if more() {
			// The segment ends: the next record begins the next one.
			if err := w.open(w.rd.seg+1, w.rd.seq); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// reader reads the cursor's segment from its offset (a reader kept from
// an earlier Read could hold the preallocated zeros read past the end of
// what was durable then).
func (w *wal) reader() *bufio.Reader {
	sr := io.NewSectionReader(w.rd.f, w.rd.off, 1<<62)
	if w.rdBuf == nil {
		w.rdBuf = bufio.NewReaderSize(sr, 64<<10)
	} else {
		w.rdBuf.Reset(sr)
	}
	return w.rdBuf
}

// seek puts the cursor on record seq, reading its segment up to it.
func (w *wal) seek(seq uint64) error {
	w.mu.Lock()
	i, found := slices.BinarySearchFunc(w.segs, seq, func(s walSegment, seq uint64) int { return cmp.Compare(s.first, seq) })
	first := seq
	if !found && i > 0 {
		first = w.segs[i-1].first
	}
	w.mu.Unlock()
	if err := w.open(first, seq); err != nil {
		return err
	}
	if w.rd.f == nil || w.rd.seg != first {
		return nil // not in that segment (gone, or a gap): open went on
	}
	r := w.reader()
	for s := first; s < seq; s++ {
		data, err := readRecord(r, s)
		if err != nil { // the segment ends before seq: the next one
			return w.open(first+1, seq)
		}
		w.rd.off += int64(walHeader + len(data))
	}
	return nil
}

// open puts the cursor at the start of the first segment whose first
// record is at least first, expecting record seq there: a segment that
// begins later means records are missing.
func (w *wal) open(first, seq uint64) error {
	if w.rd.f != nil {
		w.rd.f.Close()
	}
	w.rd = walCursor{seq: seq}
	w.mu.Lock()
	i, _ := slices.BinarySearchFunc(w.segs, first, func(s walSegment, first uint64) int { return cmp.Compare(s.first, first) })
	var sg walSegment
	if i < len(w.segs) {
		sg = w.segs[i]
	}
	w.mu.Unlock()
	if sg.path == "" {
		return nil
	}
	f, err := os.Open(sg.path)
	if err != nil {
		return fmt.Errorf("lineage log: %w", err)
	}
	if sg.first > seq {
		w.log.Error("lineage log: records are missing; going on after them", "from", seq, "to", sg.first-1)
	}
	w.rd = walCursor{f: f, seg: sg.first, seq: max(seq, sg.first)}
	return nil
}

// Release deletes the segments all of whose records are at most upTo
// (segments being contiguous, those whose next segment begins at upTo+1
// or before); the last segment stays, as the writer may be appending to
// it.
func (w *wal) Release(upTo uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for n+1 < len(w.segs) && w.segs[n+1].first <= upTo+1 {
		n++
	}
	for _, sg := range w.segs[:n] {
		// The reader may still have it open: it reads on from the open
		// file, and opens no deleted one since all it holds is read.
		if err := os.Remove(sg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.log.Warn("lineage log: cannot delete an applied segment", "path", sg.path, "err", err)
		}
	}
	w.segs = slices.Delete(w.segs, 0, n)
}

// Close stops the writer after the write under way; appends waiting fail.
func (w *wal) Close() {
	w.once.Do(func() { close(w.closed) })
	<-w.done
	if w.rd.f != nil {
		w.rd.f.Close()
		w.rd.f = nil
	}
}

package search

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
)

// How the index notices that it is damaged, and heals.
//
// bleve neither verifies a segment's checksum when it opens one nor fails
// cleanly on a damaged one: a few bytes overwritten inside a segment file
// made searches panic (an index out of range in zapx's decoders), score
// nonsense or return documents that never existed, until a manual reindex.
// And a write that fails inside bleve (a full disk) may panic in zapx and
// leave its state unknown. So:
//
//   - every persisted segment ends with a CRC-32 of the rest of its file,
//     which verify checks: on Open, when a search or a write fails, when a
//     hit names a dataset the store does not hold, and every
//     Options.VerifyInterval;
//   - a panic inside bleve becomes an error (guard), and never ends the
//     process;
//   - a damaged index answers unavailable and is rebuilt; an index whose
//     write panicked keeps serving (its segments are sound, only its
//     in-memory state is unknown) and is rebuilt beside it; Run's healer
//     retries a rebuild that fails (a disk still full) with a backoff.

// Reasons for a rebuild, as the metric and the log name them.
const (
	reasonDamaged   = "damaged"   // a segment failed its checksum: nothing serves until rebuilt
	reasonSuspect   = "suspect"   // a write panicked inside bleve: serves, rebuilt beside
	reasonMapping   = "mapping"   // built with another mapping version: serves, rebuilt beside
	reasonRequested = "requested" // an operator asked
)

// health is the state of the serving index, guarded by Index.stateMu.
type health struct {
	// available is false while no sound index serves: the first build
	// (catching up from nothing) or a damaged one awaiting its rebuild.
	// Searches then answer unavailable, never an empty success.
	available bool
	// pending is the reason a rebuild is wanted, "" if none is.
	pending string
	// rebuilding is true while Rebuild builds a replacement.
	rebuilding bool
	// sound remembers the index last verified sound, and when, so that a
	// burst of failures verifies once.
	sound      bleve.Index
	verifiedAt time.Time
}

type healMetrics struct {
	faults   *prometheus.CounterVec
	rebuilds *prometheus.CounterVec
}

func newHealMetrics(reg prometheus.Registerer) healMetrics {
	m := healMetrics{
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quarry_search_index_faults_total",
			Help: "Faults of the search index noticed: a segment failing its checksum (checksum), a panic inside bleve while searching (search_panic) or writing (write_panic), a write that found the disk full (disk_full).",
		}, []string{"kind"}),
		rebuilds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quarry_search_index_rebuilds_total",
			Help: "Search index rebuilds completed, by reason: damaged, suspect, mapping, requested.",
		}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.faults, m.rebuilds)
	}
	return m
}

// Status says how the index serves, for health checks: "ok", or
// "rebuilding" while a rebuild or the first build runs or waits to be
// retried (searches are then answered by the old index if it is sound,
// else with an unavailable error).
func (x *Index) Status() string {
	x.stateMu.Lock()
	defer x.stateMu.Unlock()
	if !x.state.available || x.state.rebuilding || x.state.pending != "" {
		return "rebuilding"
	}
	return "ok"
}

// errUnavailable is the answer while no sound index serves.
func errUnavailable() error {
	return quarry.Errorf(quarry.EUNAVAILABLE, "the search index is being rebuilt; try again shortly")
}

// available returns errUnavailable unless a sound index serves.
func (x *Index) available() error {
	x.stateMu.Lock()
	defer x.stateMu.Unlock()
	if !x.state.available {
		return errUnavailable()
	}
	return nil
}

// wantRebuild asks Run's healer for a rebuild (keeping a damaged reason
// over another), and stops serving if the index is damaged.
func (x *Index) wantRebuild(reason string) {
	x.stateMu.Lock()
	if x.state.pending != reasonDamaged {
		x.state.pending = reason
	}
	if reason == reasonDamaged {
		x.state.available = false
	}
	x.stateMu.Unlock()
	select {
	case x.poke <- struct{}{}:
	default:
	}
}

// applying reports whether the follower should write into the serving
// index: not while it awaits a rebuild for damage or a failed write (the
// rebuild reads the whole changelog, so skipping loses nothing).
func (x *Index) applying() bool {
	x.stateMu.Lock()
	defer x.stateMu.Unlock()
	return x.state.pending != reasonDamaged && x.state.pending != reasonSuspect
}

// built marks the index sound once a build from nothing has caught up
// with the store.
func (x *Index) built(ctx context.Context, applied uint64) {
	x.stateMu.Lock()
	defer x.stateMu.Unlock()
	if x.state.available || x.state.pending != "" {
		return
	}
	if last, err := x.st.LastSeq(ctx); err == nil && applied >= last {
		x.state.available = true
		x.log.Info("search index built; it serves", "seq", applied)
	}
}

// guard turns a panic inside bleve into an error and, when a search fails
// for a reason that is not the caller's (a panic, an error without a
// quarry code), checks the index's segments: if they are damaged, the
// index stops serving and is rebuilt, and the answer is unavailable. It is
// deferred with the function's error; the caller holds x.mu for reading.
func (x *Index) guard(idx bleve.Index, op string, err *error) {
	if p := recover(); p != nil {
		x.metrics.faults.WithLabelValues("search_panic").Inc()
		x.log.Error("search index: panic in bleve", "op", op, "panic", p, "stack", string(debug.Stack()))
		*err = fmt.Errorf("%s: panic in the search index: %v", op, p)
	}
	if *err == nil || quarry.ErrorCode(*err) != quarry.EINTERNAL || errors.Is(*err, context.Canceled) || errors.Is(*err, context.DeadlineExceeded) {
		return
	}
	if x.damaged(idx) {
		*err = errUnavailable()
	}
}

// damaged verifies idx's segments, unless it was verified sound a moment
// ago, and if one fails its checksum stops serving idx and asks for a
// rebuild. The caller holds x.mu for reading.
func (x *Index) damaged(idx bleve.Index) bool {
	x.verifyMu.Lock()
	defer x.verifyMu.Unlock()
	x.stateMu.Lock()
	recent := x.state.sound == idx && time.Since(x.state.verifiedAt) < verifyAgainAfter
	gone := x.state.pending == reasonDamaged && idx == x.idx
	x.stateMu.Unlock()
	if gone {
		return true
	}
	if recent {
		return false
	}
	if err := verify(idx); err != nil {
		x.metrics.faults.WithLabelValues("checksum").Inc()
		x.log.Error("search index damaged; it stops serving and is rebuilt from the store", "err", err)
		x.wantRebuild(reasonDamaged)
		return true
	}
	x.stateMu.Lock()
	x.state.sound, x.state.verifiedAt = idx, time.Now()
	x.stateMu.Unlock()
	return false
}

// verifyAgainAfter is how long a verification holds for the failures
// that follow it.
const verifyAgainAfter = 5 * time.Second

// scorchOf is idx's scorch index, or nil when it is another kind (never
// here: Open and create make scorch indexes) or closed.
func scorchOf(idx bleve.Index) *scorch.Scorch {
	adv, err := idx.Advanced()
	if err != nil {
		return nil
	}
	s, _ := adv.(*scorch.Scorch)
	return s
}

// errDamaged says a segment file fails its checksum.
var errDamaged = errors.New("search index segment fails its checksum")

// verify checks the CRC-32 that ends each persisted segment file of the
// index's current snapshot (zapx writes it over everything before it, but
// reads it without checking). Segments still in memory have no file; a
// file removed meanwhile (merged away) is skipped.
func verify(idx bleve.Index) error {
	s := scorchOf(idx)
	if s == nil {
		return nil
	}
	snap := snapshotOf(s)
	if snap == nil {
		return nil
	}
	defer snap.Close()
	for _, ss := range snap.Segments() {
		f, ok := ss.Segment().(interface{ Path() string })
		if !ok {
			continue
		}
		if err := verifyFile(f.Path()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func verifyFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	n := fi.Size() - 4
	if n < 0 {
		return fmt.Errorf("%s: %w: %d bytes long", path, errDamaged, fi.Size())
	}
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, n)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var tail [4]byte
	if _, err := f.ReadAt(tail[:], n); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if want := binary.BigEndian.Uint32(tail[:]); h.Sum32() != want {
		return fmt.Errorf("%s: %w (%08x, the footer says %08x)", path, errDamaged, h.Sum32(), want)
	}
	return nil
}

// heal runs the rebuilds asked for, retrying one that fails with a
// backoff, and verifies the serving index every VerifyInterval, until
// ctx ends.
func (x *Index) heal(ctx context.Context) {
	backoff, maxBackoff := x.follow.Backoff, x.follow.MaxBackoff
	if backoff <= 0 {
		backoff = quarry.DefaultFollowBackoff
	}
	if maxBackoff <= 0 {
		maxBackoff = max(quarry.DefaultFollowMaxBackoff, backoff)
	}
	after := x.follow.After
	if after == nil {
		after = time.After
	}
	if x.verifyAtStart {
		// After the warm-up: the first searches need the cores more.
		select {
		case <-ctx.Done():
			return
		case <-x.warmed:
		}
		if idx, err := x.current(); err == nil {
			x.damaged(idx)
			x.mu.RUnlock()
		}
	}
	wait := backoff
	for {
		x.stateMu.Lock()
		reason := x.state.pending
		x.stateMu.Unlock()
		if reason != "" {
			err := x.Rebuild(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				x.log.Error("search index rebuild failed; retrying", "reason", reason, "err", err, "retry_in", wait)
				select {
				case <-ctx.Done():
					return
				case <-after(wait):
				}
				wait = min(2*wait, maxBackoff)
				continue
			}
			wait = backoff
		}
		var tick <-chan time.Time
		if x.verifyEvery > 0 {
			tick = time.After(x.verifyEvery) // not the follower's clock, which tests hand out wait by wait
		}
		select {
		case <-ctx.Done():
			return
		case <-x.poke:
		case <-tick:
			if idx, err := x.current(); err == nil {
				x.damaged(idx)
				x.mu.RUnlock()
			}
		}
	}
}

// rebuildBatch is the most documents a rebuild indexes in one bleve
// batch, each a segment; it reads the changelog rebuildChunk batches at a
// time and writes them batchesInFlight at once (indexChanges). A rebuild
// of a large catalog in the follower's batches, one at a time, made
// hundreds of segments that merging rewrote again and again (at 1M
// datasets it left 106, which the next start spent 115 s merging): the
// rebuilt index hardly merges as it builds (bulkPlan), and
// settleRebuilt merges what it built at once. A batch's analysis and
// segment are on the heap until it is persisted: batches of 5,000 one at
// a time took the rebuild's anonymous memory at 100k datasets from
// 0.3-0.5 GB to over 1 GB; two of 2,000 at once, to 1 GB.
const rebuildBatch = 1000

// rebuildChunk is how many rebuild batches' changelog records a rebuild
// reads at once.
const rebuildChunk = 4 * batchesInFlight

// settleMerge merges a rebuilt index into one segment, in one pass of up
// to as many segments as bulkPlan leaves (bleve's single-segment plan
// merges ten at a time, and those again).
var settleMerge = func() mergeplan.MergePlanOptions {
	o := mergeplan.SingleSegmentMergePlanOptions
	o.SegmentsPerMergeTask = 4 * bulkSegments
	return o
}()

// settleRebuilt merges the segments of a rebuilt index into one, and waits
// until that is persisted (the next batch's persistence records it), so
// that the index serves settled instead of merging for minutes after its
// swap. A merge that makes no progress ends it: the index is sound, only
// less compact.
func (x *Index) settleRebuilt(ctx context.Context, idx bleve.Index) error {
	s := scorchOf(idx)
	if s == nil {
		return nil
	}
	began, before := time.Now(), segmentCount(s)
	if err := mergeBy(ctx, s, &settleMerge); err != nil {
		return fmt.Errorf("merge the rebuilt index: %w", err)
	}
	// A batch waits for its snapshot's persistence, the merged segment in it.
	if err := idx.SetInternal(keyVersion, []byte(mappingVersion)); err != nil {
		return fmt.Errorf("merge the rebuilt index: %w", err)
	}
	x.log.Debug("search index rebuilt: segments merged", "before", before, "after", segmentCount(s), "duration", time.Since(began).Round(time.Millisecond))
	return nil
}

// mergeBy merges the index's segments as plan says, again until a merge
// leaves as many segments as it found (a merge's segment may make its
// tier too full, but one with no progress ends it).
func mergeBy(ctx context.Context, s *scorch.Scorch, plan *mergeplan.MergePlanOptions) error {
	for n, prev := segmentCount(s), -1; n > 1 && n != prev; n, prev = segmentCount(s), n {
		if err := s.ForceMerge(ctx, plan); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// segmentCount is the number of segments of the index's current snapshot.
func segmentCount(s *scorch.Scorch) int {
	snap := snapshotOf(s)
	if snap == nil {
		return 0
	}
	defer snap.Close()
	return len(snap.Segments())
}

// snapshotOf is the index's current snapshot, to be closed after use; nil
// once the index is closed (scorch's Reader then returns a nil snapshot,
// and no error: Run's compact may look at an index as it closes).
func snapshotOf(s *scorch.Scorch) *scorch.IndexSnapshot {
	r, err := s.Reader()
	if err != nil {
		return nil
	}
	snap, _ := r.(*scorch.IndexSnapshot)
	return snap
}

// A segment file is never written again once bleve has written it, and
// reading every byte of every segment to verify it at each start grew
// with the catalog (1.4 GB, 0.4-1 s before a million datasets' server
// listened). So an index that closed cleanly lists its segment files
// (closedSegments, beside bleve's index_meta.json), and the next Open
// verifies only the files that are not as listed (new, rewritten, or a
// crash's); Run verifies the others at once, in the background. A file
// damaged at rest while the server was down is then found a moment after
// the start rather than before it: the searches meanwhile may miss the
// segment bleve could not load.

const closedSegmentsFile = "closed-segments"

// segmentStamp is what a segment file's listing says of it.
type segmentStamp struct {
	size    int64
	modTime int64 // Unix nanoseconds
}

func stampOf(path string) (segmentStamp, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return segmentStamp{}, false
	}
	return segmentStamp{fi.Size(), fi.ModTime().UnixNano()}, true
}

// writeClosedSegments lists the segment files of the closed index in dir;
// a failure only costs the next Open a full verification.
func writeClosedSegments(dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
	if err != nil {
		return
	}
	var b strings.Builder
	for _, f := range files {
		if st, ok := stampOf(f); ok {
			fmt.Fprintf(&b, "%s %d %d\n", filepath.Base(f), st.size, st.modTime)
		}
	}
	writeBeside(dir, closedSegmentsFile, []byte(b.String()))
}

// writeBeside writes a listing the index in dir keeps beside bleve's
// files, through a temporary file and a rename: a crash leaves the old
// listing or the new one, never a part. (A listing lost is only a start
// that does more work.)
func writeBeside(dir, name string, data []byte) {
	tmp := filepath.Join(dir, name+".tmp")
	if os.WriteFile(tmp, data, 0o600) == nil {
		os.Rename(tmp, filepath.Join(dir, name))
	}
}

// takeBeside reads a listing writeBeside wrote and removes it: it says
// how the index was when it closed, not once it is open again.
func takeBeside(dir, name string) ([]byte, error) {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err == nil {
		os.Remove(path)
	}
	return data, err
}

// readClosedSegments reads the listing of the index in dir and removes it:
// once the index is open again, its files are not as closed.
func readClosedSegments(dir string) map[string]segmentStamp {
	data, err := takeBeside(dir, closedSegmentsFile)
	if err != nil {
		return nil
	}
	out := map[string]segmentStamp{}
	for _, line := range strings.Split(string(data), "\n") {
		var name string
		var st segmentStamp
		if n, _ := fmt.Sscanf(line, "%s %d %d", &name, &st.size, &st.modTime); n == 3 {
			out[name] = st
		}
	}
	return out
}

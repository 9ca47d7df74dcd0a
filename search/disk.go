package search

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/quarrydata/quarry"
)

// How the index lives through a full disk.
//
// When bleve cannot persist a batch for lack of space, its Batch fails
// cleanly, but the index it leaves is poisoned: the in-memory segment it
// could not write keeps its place in the index with its caches released,
// so every later search and batch panics (an assignment to a nil map in
// zapx's inverted index cache), and bleve's persister retries the write
// without pause, a core busy for nothing. So the follower, on such a
// failure, closes the index and opens what is on disk read-only (no
// persister, no merger: nothing writes), which keeps answering searches
// with what was persisted, and stops applying. Each retry (the follower's
// backoff, and watchWrites each second) looks at the free space first and,
// once there is some, opens the index for writing again and applies what
// waited. bleve's merger, which fails on its own when a disk still takes
// the follower's small batches but not a merge, and retries at once and
// for ever, is watched too (watchWrites). A full disk never needs a
// rebuild, nor a restart.

// fullFree is the free space (bytes) the index's file system must have
// before a retry opens the index for writing again.
const fullFree = 1 << 20

// fullCheckEvery is how often watchWrites looks at bleve's background
// writers.
const fullCheckEvery = time.Second

// isDiskFull reports whether err says a file system has no space left.
func isDiskFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, syscall.ENOSPC.Error()) || strings.Contains(msg, syscall.EDQUOT.Error())
}

// lowOnSpace reports whether dir's file system has less than fullFree
// bytes free: a panic inside bleve while writing there is taken for the
// full disk's (the write that found no room left bleve's state broken).
func lowOnSpace(dir string) bool {
	free, ok := freeSpace(dir)
	return ok && free < fullFree
}

// errFull is the follower's error while the disk is full.
func errFull(cause error) error {
	qe := quarry.Errorf(quarry.EINSUFFICIENTSTORAGE, "the search index's disk is full: new writes are not searchable until space is freed")
	return fmt.Errorf("%w: %w", qe, cause)
}

// Degraded says why the index does not follow the store ("" while it
// does): searches are then answered from the index as it was when the
// disk filled up.
func (x *Index) Degraded() string {
	x.stateMu.Lock()
	defer x.stateMu.Unlock()
	if x.full == nil {
		return ""
	}
	if !x.state.available {
		return "the disk is full: searches answer unavailable until space is freed and the index is built"
	}
	return "the disk is full: searches answer from the index as it was, and new writes are not searchable until space is freed"
}

// fullState returns why the index stopped applying for lack of space.
func (x *Index) fullState() error {
	x.stateMu.Lock()
	defer x.stateMu.Unlock()
	return x.full
}

// stopForFull swaps the serving index, whose write failed for lack of
// space, for what is on disk opened read-only, and records why; it opens
// for writing again once need bytes are free. The caller holds x.catchUp,
// not x.mu.
func (x *Index) stopForFull(cause error, need int64) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return cause
	}
	closeQuietly(x.idx) // its unwritten segment poisons it; its persister spins
	idx, err := bleve.OpenUsing(x.dir, readOnlyConfig())
	if err != nil {
		// Nothing persisted to serve from: searches answer unavailable
		// until the rebuild (retried by the healer) succeeds.
		x.log.Error("search index: cannot reopen read-only after a full disk; it is rebuilt once space is freed", "err", err)
		if idx, err = placeholder(); err != nil {
			return err
		}
		x.wantRebuild(reasonDamaged)
	}
	x.idx, x.facets = idx, newFacetColumns()
	x.applied.Store(appliedSeq(idx))
	x.stateMu.Lock()
	first := x.full == nil
	x.full, x.fullNeed = errFull(cause), need
	if first {
		x.fullSince = time.Now()
	}
	x.stateMu.Unlock()
	x.metrics.faults.WithLabelValues("disk_full").Inc()
	x.log.Error("search index: the disk is full; searches answer from the index as it was, and the follower retries once space is freed", "err", cause, "seq", x.applied.Load())
	return x.full
}

// resumeAfterFull opens the index for writing again once its file system
// has room; until then it returns the disk-full error. The caller holds
// x.catchUp, not x.mu.
func (x *Index) resumeAfterFull() error {
	full := x.fullState()
	if full == nil {
		return nil
	}
	x.stateMu.Lock()
	need := x.fullNeed
	x.stateMu.Unlock()
	if free, ok := freeSpace(x.dir); ok && free < need {
		return full
	}
	x.stateMu.Lock()
	nothing := x.state.pending == reasonDamaged
	x.stateMu.Unlock()
	if nothing { // nothing on disk to reopen: the healer's rebuild replaces it, and clears full
		return full
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return errors.New("search index closed")
	}
	closeQuietly(x.idx)
	idx, err := openVerified(x.dir)
	if err != nil {
		// Back to read-only (or nothing): the next retry tries again.
		ro, rerr := bleve.OpenUsing(x.dir, readOnlyConfig())
		if rerr != nil {
			if ro, rerr = placeholder(); rerr != nil {
				return rerr
			}
			x.wantRebuild(reasonDamaged)
		}
		x.idx, x.facets = ro, newFacetColumns()
		return fmt.Errorf("search index: reopening for writing after a full disk: %w", err)
	}
	x.idx, x.facets = idx, newFacetColumns()
	x.applied.Store(appliedSeq(idx))
	x.stateMu.Lock()
	since := x.fullSince
	x.full = nil
	x.stateMu.Unlock()
	x.log.Info("search index: disk space freed; the follower applies again", "stopped_for", time.Since(since).Round(time.Millisecond), "seq", x.applied.Load())
	return nil
}

// readOnlyConfig is scorchConfig for an index that must write nothing.
func readOnlyConfig() map[string]any {
	c := scorchConfig()
	c["read_only"] = true
	return c
}

// watchWrites stops the index for a full disk when bleve's own background
// writers fail for lack of space: its merger retries a merge it has no
// room for at once and for ever (1.6 s of CPU in 2 s here, on a disk with
// room for the follower's small batches but not for a merge), and the
// follower notices nothing while its batches still fit. bleve does not
// say why its background writes fail (short of a package-wide callback),
// so a failure with less free space than the index's segments take (what
// a merge may need) counts as a full disk; the index opens for writing
// again once that much is free. It runs until ctx ends.
func (x *Index) watchWrites(ctx context.Context) {
	tick := time.NewTicker(fullCheckEvery)
	defer tick.Stop()
	var seen bleve.Index
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if x.fullState() != nil {
			// The follower retries only after failing, not while idle (a
			// merge's failure was not its own): open for writing here too.
			x.catchUp.Lock()
			x.resumeAfterFull()
			x.catchUp.Unlock()
			continue
		}
		idx, n := x.backgroundFailures()
		if idx != seen || n == last {
			seen, last = idx, n
			continue
		}
		last = n
		need := max(fullFree, segmentBytes(x.dir))
		if free, ok := freeSpace(x.dir); !ok || free >= need {
			continue // failing for another reason: not a full disk
		}
		x.catchUp.Lock()
		if x.fullState() == nil {
			x.stopForFull(fmt.Errorf("bleve's background writes (merges, persisting) fail with %s free, the index taking %s: %w", bytesString(mustFree(x.dir)), bytesString(need), syscall.ENOSPC), need)
		}
		x.catchUp.Unlock()
	}
}

// backgroundFailures returns the serving index and how many times its
// merger and persister have failed (0 when it has none).
func (x *Index) backgroundFailures() (bleve.Index, uint64) {
	idx, err := x.current()
	if err != nil {
		return nil, 0
	}
	defer x.mu.RUnlock()
	s := scorchOf(idx)
	if s == nil {
		return idx, 0
	}
	st, ok := s.Stats().(*scorch.Stats)
	if !ok {
		return idx, 0
	}
	return idx, atomic.LoadUint64(&st.TotFileMergeLoopErr) + atomic.LoadUint64(&st.TotPersistLoopErr)
}

// segmentBytes is the bytes of the index's segment files under dir: the
// most a merge of them may need.
func segmentBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".zap") {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

func mustFree(dir string) int64 {
	free, _ := freeSpace(dir)
	return free
}

func bytesString(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// placeholder is an empty index that stands in, answering nothing, while
// no index on disk can be opened (a full disk): scorch in memory, with no
// path, which writes nothing.
func placeholder() (bleve.Index, error) {
	return bleve.NewUsing("", bleve.NewIndexMapping(), scorch.Name, scorch.Name, nil)
}

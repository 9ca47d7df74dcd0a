package search

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"

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
// backoff) looks at the free space first and, once there is some, opens
// the index for writing again and applies what waited. A full disk never
// needs a rebuild, nor a restart.

// fullFree is the free space (bytes) the index's file system must have
// before a retry opens the index for writing again.
const fullFree = 1 << 20

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
// space, for what is on disk opened read-only, and records why. The caller
// holds x.catchUp, not x.mu.
func (x *Index) stopForFull(cause error) error {
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
		if idx, err = bleve.NewMemOnly(bleve.NewIndexMapping()); err != nil {
			return err
		}
		x.wantRebuild(reasonDamaged)
	}
	x.idx, x.facets = idx, newFacetColumns()
	x.applied.Store(appliedSeq(idx))
	x.stateMu.Lock()
	first := x.full == nil
	x.full = errFull(cause)
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
	if free, ok := freeSpace(x.dir); ok && free < fullFree {
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
			if ro, rerr = bleve.NewMemOnly(bleve.NewIndexMapping()); rerr != nil {
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

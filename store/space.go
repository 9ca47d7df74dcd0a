package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/quarrydata/quarry"
)

// A full disk degrades the store instead of breaking it. A write that fails
// for lack of space (ENOSPC, or a quota's EDQUOT) leaves the file and the
// lineage log as they were: bbolt writes a transaction's pages where the
// last committed meta page does not point and rolls back when a write
// fails, and the lineage log cuts off what a failed group wrote (wal.go).
// The store then refuses writes at once with an EINSUFFICIENTSTORAGE error
// naming the reason, rather than have each one fail in bbolt (a failed
// commit rescans the whole file to rebuild its free list, as the free list
// is not stored), and reads go on. A probe watches the free space of the
// data directory and, when there is some, tries a small commit: once one
// succeeds, writes resume, and the lineage applier applies what waited.
// Nothing needs a restart.
//
// Caveat (bbolt v1.5.0, tx.go): a commit whose pages were written but
// whose meta page's fdatasync fails is reported failed, yet its meta page
// may be in the page cache, and bbolt reads the newest valid meta: the
// write is then visible (and maybe durable) though it answered an error.
// Local file systems report a lack of space when pages are written (which
// bbolt undoes cleanly), hardly ever at fdatasync; and most writes are
// idempotent (upserts; lineage events, known by their digest), so that a
// client's retry stores nothing twice.

// probeEvery is how often the probe looks at the free space while the disk
// is full; probeFree is the free space that makes it try a commit.
const (
	probeEvery = 500 * time.Millisecond
	probeFree  = 256 << 10
	// probeAnyway is how often it tries a commit whatever the free space
	// says (a file system that reports none, a store file whose free pages
	// a commit can reuse).
	probeAnyway = 30 * time.Second
)

// keySpaceProbe is the meta key the probe writes: the time of the last
// probe, a value nothing reads.
var keySpaceProbe = []byte("space_probe")

// space is whether the last write failed for lack of disk space.
type space struct {
	mu    sync.Mutex
	full  error         // why writes are refused; nil while they are not
	since time.Time     // when full was set
	freed chan struct{} // closed and replaced when full is cleared
	fills chan struct{} // closed when full is set, replaced when it is cleared
	wake  chan struct{} // buffered(1): full was set, the probe starts watching
	done  chan struct{} // closed when the probe has exited
}

func (sp *space) init() {
	sp.freed = make(chan struct{})
	sp.fills = make(chan struct{})
	sp.wake = make(chan struct{}, 1)
	sp.done = make(chan struct{})
}

// bulkDirect runs fn in a transaction of its own, past the refusal of
// writes while the disk is full: the probe's.
func (s *Store) bulkDirect(fn func(kvTx) error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.isClosed {
		return ErrClosed
	}
	return s.db.Update(fn)
}

// isDiskFull reports whether err says a file system has no space left.
// bbolt formats the errors of growing its file with %s, so the text is
// read too.
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

// errFull is the answer to a write while the disk is full: an
// EINSUFFICIENTSTORAGE error (the one clients see) that also wraps the
// file system's error, for the log and for errors.Is.
func errFull(what string, cause error) error {
	reason := "no space left on device"
	if errors.Is(cause, syscall.EDQUOT) || (cause != nil && strings.Contains(cause.Error(), syscall.EDQUOT.Error())) {
		reason = "disk quota exceeded"
	}
	qe := quarry.Errorf(quarry.EINSUFFICIENTSTORAGE, "the server's disk is full (%s writing %s): writes are refused until space is freed, reads still work", reason, what)
	return fmt.Errorf("%w: %w", qe, cause)
}

// noteWrite records the outcome of a write to the disk (what names it): a
// failure for lack of space refuses the writes after it (the error is
// returned as errFull); a success that wrote pages (wrote) clears that.
// Other errors pass through.
func (s *Store) noteWrite(what string, err error, wrote bool) error {
	switch {
	case isDiskFull(err):
		if quarry.ErrorCode(err) != quarry.EINSUFFICIENTSTORAGE {
			err = errFull(what, err)
		}
		s.space.mu.Lock()
		first := s.space.full == nil
		if first {
			s.space.full, s.space.since = err, time.Now()
			close(s.space.fills)
		}
		s.space.mu.Unlock()
		if first {
			s.log.Error("disk full: writes are refused until space is freed; reads go on", "err", err)
			select {
			case s.space.wake <- struct{}{}:
			default:
			}
		}
	case err == nil && wrote:
		s.spaceFreed()
	}
	return err
}

// spaceFreed clears the disk-full state, if set.
func (s *Store) spaceFreed() {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	if s.space.full == nil {
		return
	}
	s.log.Info("disk space freed: writes resume", "refused_for", time.Since(s.space.since).Round(time.Millisecond))
	s.space.full = nil
	close(s.space.freed)
	s.space.freed = make(chan struct{})
	s.space.fills = make(chan struct{})
}

// spaceFillsChan returns a channel closed when writes begin to be refused
// (already closed while they are).
func (s *Store) spaceFillsChan() <-chan struct{} {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	return s.space.fills
}

// refuseWhileFull returns the disk-full error while writes are refused.
func (s *Store) refuseWhileFull() error {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	return s.space.full
}

// spaceFreedChan returns a channel closed when writes resume, or nil while
// they are not refused.
func (s *Store) spaceFreedChan() <-chan struct{} {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	if s.space.full == nil {
		return nil
	}
	return s.space.freed
}

// Degraded says why the store refuses writes ("" while it does not) and
// since when, for health checks.
func (s *Store) Degraded() (reason string, since time.Time) {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	if s.space.full == nil {
		return "", time.Time{}
	}
	return quarry.ErrorMessage(s.space.full), s.space.since
}

// probe waits while the disk is not full; while it is, it tries a small
// commit whenever the data directory has probeFree bytes free (and every
// probeAnyway), until one succeeds, and stops when the store closes.
func (s *Store) probe(dir string) {
	defer close(s.space.done)
	var last time.Time
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for {
		if s.refuseWhileFull() == nil {
			select {
			case <-s.space.wake:
				last = time.Now() // the write that failed just now was a try
			case <-s.closed:
				return
			}
			continue
		}
		select {
		case <-tick.C:
		case <-s.closed:
			return
		}
		free, known := freeSpace(dir)
		if known && free < probeFree && time.Since(last) < probeAnyway {
			continue
		}
		last = time.Now()
		err := s.bulkDirect(func(tx kvTx) error {
			return tx.Bucket(bucketMeta).Put(keySpaceProbe, u64(uint64(time.Now().UnixNano())))
		})
		if errors.Is(err, ErrClosed) {
			return
		}
		if err == nil {
			s.spaceFreed()
		} else if !isDiskFull(err) {
			s.log.Warn("disk space probe failed", "err", err)
		}
	}
}

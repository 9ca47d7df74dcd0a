package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry"
)

// The lineage log makes OpenLineage ingestion fast without making it less
// durable. Applying one event touches a dozen places in the file (its job,
// run, datasets, edges, changelog), scattered over as many pages; a
// transaction per event, even shared by a group commit, spends its time
// writing those pages. So AcceptLineage validates events and appends them
// to a log (one sequential key each, a few pages per commit) and answers
// once that committed; a background applier folds the log into the
// catalog in transactions of hundreds of events, in order, deleting each
// entry in the transaction that applied it. A crash loses nothing: the
// applier resumes from the log when the store opens again.

const (
	logBatch  = 50                   // events the applier folds into one transaction
	logGather = 5 * time.Millisecond // how long it lets a burst gather
	// logHighWater is the backlog past which the applier stops yielding to
	// accepts; past logLimit, accepts are refused (retriable) until it
	// catches up, which bounds the log.
	logHighWater = 10_000
	logLimit     = 100_000
)

type lineageLog struct {
	mu       sync.Mutex
	appended uint64        // highest sequence appended
	applied  uint64        // highest sequence applied (or dropped)
	progress chan struct{} // closed and replaced when applied moves
	wake     chan struct{} // buffered(1): there is something to apply
	done     chan struct{} // closed when the applier has exited

	lastAccept atomic.Int64 // unix nanoseconds of the last accepted append
}

func (s *Store) startLineageLog(readOnly bool) error {
	s.lin.progress = make(chan struct{})
	s.lin.wake = make(chan struct{}, 1)
	s.lin.done = make(chan struct{})
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLineageLog)
		s.lin.appended = b.Sequence()
		s.lin.applied = b.Sequence()
		if k, _ := b.Cursor().First(); k != nil {
			s.lin.applied = binary.BigEndian.Uint64(k) - 1
		}
		return nil
	})
	if err != nil {
		return err
	}
	if readOnly {
		close(s.lin.done)
		return nil
	}
	go s.applier()
	s.lin.wake <- struct{}{} // whatever a previous run left
	return nil
}

// AcceptLineage validates lineage events and appends the valid ones to the
// lineage log, in one commit shared with concurrent writers; it returns
// each event's validation error (nil: accepted and committed). Accepted
// events are applied in the background, in order, within milliseconds:
// SyncLineage waits for that. An event that fails when applied (a run id
// that another job already uses) is logged and dropped.
func (s *Store) AcceptLineage(ctx context.Context, evs []quarry.LineageEvent) []error {
	errs := make([]error, len(evs))
	if n := s.LineageBacklog(); n > logLimit {
		err := quarry.Errorf(quarry.EUNAVAILABLE, "%d lineage events wait to be applied; retry in a few seconds", n)
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	vals := make([][]byte, 0, len(evs))
	for i := range evs {
		p, err := s.prepareEvent(&evs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		if err := s.runConflict(p); err != nil {
			errs[i] = err
			continue
		}
		raw, err := json.Marshal(&evs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		vals = append(vals, encodeLogEntry(raw))
	}
	if len(vals) == 0 {
		return errs
	}
	var last uint64
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLineageLog)
		for _, v := range vals {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			if err := b.Put(u64(seq), v); err != nil {
				return err
			}
			last = seq
		}
		return nil
	})
	if err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	s.lin.mu.Lock()
	s.lin.appended = max(s.lin.appended, last)
	s.lin.mu.Unlock()
	s.lin.lastAccept.Store(time.Now().UnixNano())
	select {
	case s.lin.wake <- struct{}{}:
	default:
	}
	return errs
}

// runConflict answers an event whose run id a run of another job has, as
// ApplyLineage would: once accepted, it could only be dropped.
func (s *Store) runConflict(p *preparedEvent) error {
	if p.ev.Run == nil || p.job == nil {
		return nil
	}
	return s.view(func(tx *bolt.Tx) error {
		r, err := getRun(tx, p.ev.Run.ID)
		if err != nil || r == nil || r.JobID == p.job.ID {
			return err
		}
		return errRunOfAnotherJob(p.ev.Run.ID)
	})
}

// SyncLineage waits until every lineage event accepted before the call has
// been applied.
func (s *Store) SyncLineage(ctx context.Context) error {
	s.lin.mu.Lock()
	target := s.lin.appended
	s.lin.mu.Unlock()
	for {
		s.lin.mu.Lock()
		applied, progress := s.lin.applied, s.lin.progress
		s.lin.mu.Unlock()
		if applied >= target {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.lin.done:
			return ErrClosed
		}
	}
}

// LineageBacklog is how many accepted lineage events wait to be applied.
func (s *Store) LineageBacklog() uint64 {
	s.lin.mu.Lock()
	defer s.lin.mu.Unlock()
	if s.lin.applied >= s.lin.appended { // the applier may run ahead of the bookkeeping of appends
		return 0
	}
	return s.lin.appended - s.lin.applied
}

func (s *Store) applier() {
	defer close(s.lin.done)
	for {
		select {
		case <-s.lin.wake:
		case <-s.closed:
			return
		}
		// Let a burst gather: one transaction for many events.
		select {
		case <-time.After(logGather):
		case <-s.closed:
			return
		}
		for {
			n, err := s.applyLog(s.chunk())
			if err != nil {
				s.log.Error("applying the lineage log", "err", err)
				select {
				case <-time.After(time.Second):
				case <-s.closed:
					return
				}
				continue
			}
			if n == 0 {
				break
			}
			// A backlog: yield between chunks so that accepting events
			// stays fast, unless the backlog grows too long.
			if s.LineageBacklog() < logHighWater {
				select {
				case <-time.After(logGather):
				case <-s.closed:
					return
				}
			}
		}
	}
}

type logEntry struct {
	key []byte
	ev  quarry.LineageEvent
	p   *preparedEvent
}

// chunk waits a little for the writers under way to finish (an applier
// chunk in their commit would make them wait), then says how many events
// to apply: fewer while writers keep coming, all it may when the backlog
// is long.
func (s *Store) chunk() int {
	if s.LineageBacklog() >= logHighWater {
		return logBatch
	}
	for deadline := time.Now().Add(logGather); s.writing.Load() > 0; {
		if time.Now().After(deadline) {
			return logBatch / 5
		}
		time.Sleep(100 * time.Microsecond)
	}
	if time.Since(time.Unix(0, s.lin.lastAccept.Load())) < 10*logGather {
		return logBatch / 5 // accepts keep coming: hold their commits up little
	}
	return logBatch
}

// applyLog applies up to limit log entries in one transaction. If that
// fails, each is applied alone, and one that fails alone is dropped.
func (s *Store) applyLog(limit int) (int, error) {
	var entries []logEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLineageLog).Cursor()
		for k, v := c.First(); k != nil && len(entries) < limit; k, v = c.Next() {
			e := logEntry{key: append([]byte(nil), k...)}
			raw, err := decodeLogEntry(v)
			if err == nil {
				err = json.Unmarshal(raw, &e.ev)
			}
			if err != nil {
				s.log.Error("lineage log entry is not an event; dropped", "seq", binary.BigEndian.Uint64(k), "err", err)
				e.ev = quarry.LineageEvent{} // not half of one either
			}
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil || len(entries) == 0 {
		return 0, err
	}
	for i := range entries {
		e := &entries[i]
		if e.ev.Digest == "" {
			continue // undecodable: dropped below
		}
		if e.p, err = s.prepareEvent(&e.ev); err != nil {
			s.log.Error("lineage event no longer valid; dropped", "seq", binary.BigEndian.Uint64(e.key), "err", err)
		}
	}
	// eventErr is the error an event itself caused (a conflict): only such
	// an event is dropped. Any other failure (I/O, a full disk) leaves the
	// log as it is, to be retried.
	var eventErr error
	apply := func(tx *bolt.Tx, es []logEntry) error {
		eventErr = nil
		now := s.now().UTC()
		b := tx.Bucket(bucketLineageLog)
		for _, e := range es {
			if e.p != nil {
				if _, err := applyEvent(tx, e.p, now); err != nil {
					if _, ok := errors.AsType[*quarry.Error](err); ok {
						eventErr = err
					}
					return fmt.Errorf("lineage event %d: %w", binary.BigEndian.Uint64(e.key), err)
				}
			}
			if err := b.Delete(e.key); err != nil {
				return err
			}
		}
		return nil
	}
	// Through the group commit: the chunk shares its transaction (and
	// fsync) with the appends waiting meanwhile, rather than holding
	// bbolt's one write lock against them.
	ctx := context.Background()
	if err := s.update(ctx, func(tx *bolt.Tx) error { return apply(tx, entries) }); err != nil {
		if eventErr == nil {
			return 0, err // not an event's fault: retried later, nothing dropped
		}
		for _, e := range entries {
			err := s.update(ctx, func(tx *bolt.Tx) error { return apply(tx, []logEntry{e}) })
			switch {
			case err == nil:
			case eventErr == nil:
				return 0, err
			default:
				s.log.Error("lineage event could not be applied; dropped", "seq", binary.BigEndian.Uint64(e.key), "digest", e.ev.Digest, "err", eventErr)
				if err := s.update(ctx, func(tx *bolt.Tx) error { return tx.Bucket(bucketLineageLog).Delete(e.key) }); err != nil {
					return 0, err
				}
			}
		}
	}
	last := binary.BigEndian.Uint64(entries[len(entries)-1].key)
	s.lin.mu.Lock()
	s.lin.applied = max(s.lin.applied, last)
	close(s.lin.progress)
	s.lin.progress = make(chan struct{})
	s.lin.mu.Unlock()
	return len(entries), nil
}

// A log entry is an event's JSON, snappy-compressed behind a marker byte:
// a 5 KB event with schema and column lineage facets fits in one page
// instead of spilling onto overflow pages, which makes its commit cheaper.
const logSnappy = 's'

func encodeLogEntry(raw []byte) []byte {
	buf := make([]byte, 1+snappy.MaxEncodedLen(len(raw)))
	buf[0] = logSnappy
	return buf[:1+len(snappy.Encode(buf[1:], raw))]
}

func decodeLogEntry(v []byte) ([]byte, error) {
	if len(v) > 0 && v[0] == logSnappy {
		return snappy.Decode(nil, v[1:])
	}
	return v, nil // plain JSON, as the first builds wrote
}

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
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
)

// The lineage log makes OpenLineage ingestion fast without making it less
// durable. Applying one event touches a dozen places in the file (its job,
// run, datasets, edges, changelog), scattered over as many pages; a
// transaction per event, even shared by a group commit, spends its time
// writing those pages. So AcceptLineage validates events and appends them
// to a log (a wal beside the bbolt file: one sequential write and one
// fdatasync per group of appends) and answers once that is on disk; a
// background applier folds the log into the catalog in transactions of up
// to a thousand events, in order, each transaction recording the sequence
// of the last event it applied (keyLineageApplied). A crash loses no
// accepted event: the applier resumes after that sequence when the store
// opens again.
// Segments of the log whose events are all applied are deleted.

const (
	// While accepts keep coming (one came within logIdle), the applier
	// lets up to logBatch events gather, for at most logMaxLag, and then
	// applies them in one transaction: a chunk makes the accepts that
	// arrive meanwhile wait for it, so few large chunks cost them less
	// than many small ones, and a large chunk shares its pages and fsync
	// among more events.
	logBatch  = 1000
	logBytes  = 4 << 20 // and about this much of the log (compressed): events may be large
	logIdle   = 10 * time.Millisecond
	logMaxLag = time.Second
	logGather = 5 * time.Millisecond // how long a chunk waits for the writers under way
	// Past logLimit, accepts are refused (retriable) until the applier
	// catches up, which bounds the log.
	logLimit = 100_000
	// Up to logMemory accepted events wait for the applier in memory too,
	// as AcceptLineage validated them, so that applying them does not
	// read, decode and validate them again; past that, and after a
	// restart, the applier reads them from the log.
	logMemory = 4 * logBatch
)

type lineageLog struct {
	wal      *wal
	mu       sync.Mutex
	appended uint64                       // highest sequence appended
	applied  uint64                       // highest sequence applied (or dropped)
	progress chan struct{}                // closed and replaced when applied moves
	wake     chan struct{}                // buffered(1): there is something to apply
	pending  map[uint64]*quarry.EventPlan // by sequence: events accepted by this process, not applied yet (at most logMemory)
	done     chan struct{}                // closed when the applier has exited

	// claims holds, by run id, the job of the runs that accepted events
	// not applied yet (and ApplyLineage calls under way) report: an event
	// naming such a run under another job is refused when it is accepted,
	// since it could only be dropped when applied. claimed says which
	// accepted event holds which claim, for the applier to release it.
	claims  map[string]runClaim
	claimed map[uint64]string // sequence -> run id
	// recovered is the last event a previous process accepted. Its events'
	// claims are unknown, so accepts and reportRun wait (while recovering)
	// until the applier has applied them.
	recovered  uint64
	recovering atomic.Bool

	lastAccept atomic.Int64 // unix nanoseconds of the last accepted append
	hurry      atomic.Int64 // SyncLineage calls waiting: apply without gathering
}

func (s *Store) startLineageLog(readOnly, noSync bool, reg prometheus.Registerer) error {
	s.lin.progress = make(chan struct{})
	s.lin.pending = map[uint64]*quarry.EventPlan{}
	s.lin.claims = map[string]runClaim{}
	s.lin.claimed = map[uint64]string{}
	s.lin.wake = make(chan struct{}, 1)
	s.lin.done = make(chan struct{})
	var applied uint64
	var old []walRecord // entries of the log when it was a bucket of the file
	err := s.db.View(func(tx kvTx) error {
		if v := tx.Bucket(bucketMeta).Get(s.keyApplied); len(v) == 8 {
			applied = binary.BigEndian.Uint64(v)
		}
		if b := tx.Bucket(bucketLineageLog); b != nil {
			return b.ForEach(func(k, v []byte) error {
				old = append(old, walRecord{seq: binary.BigEndian.Uint64(k), data: append([]byte(nil), v...)})
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	w, err := openWAL(s.path+".lineage", applied, readOnly, noSync, s.log, newWALMetrics(reg))
	if err != nil {
		return err
	}
	if reg != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "quarry_lineage_log_backlog",
			Help: "Lineage events accepted and not applied yet (on a replica, with the shared queue's).",
		}, s.backlogGauge))
	}
	s.lin.wal = w
	s.lin.applied = applied
	s.lin.appended = max(applied, w.Last())
	if readOnly {
		s.lin.appended += uint64(len(old))
		close(s.lin.done)
		return nil
	}
	if len(old) > 0 {
		// Moved to the wal, then deleted from the bucket: a crash between
		// the two applies them twice, which stores them once.
		recs := make([][]byte, len(old))
		for i, r := range old {
			recs[i] = r.data
		}
		first, err := w.Append(context.Background(), recs)
		if err == nil {
			err = s.bulk(context.Background(), func(tx kvTx) error {
				b := tx.Bucket(bucketLineageLog)
				for _, r := range old {
					if err := b.Delete(u64(r.seq)); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err != nil {
			w.Close()
			return fmt.Errorf("moving the lineage log out of the store file: %w", err)
		}
		s.lin.appended = first + uint64(len(old)) - 1
	}
	if s.lin.appended > s.lin.applied {
		s.lin.recovered = s.lin.appended
		s.lin.recovering.Store(true)
	}
	go s.applier()
	s.lin.wake <- struct{}{} // whatever a previous run left
	return nil
}

// AcceptLineage validates lineage events and appends the valid ones to the
// lineage log, in one write and fdatasync shared with concurrent callers;
// it returns each event's validation error (nil: accepted and on disk). Accepted
// events are applied in the background, in order: milliseconds after
// accepts pause, within about a second while they keep coming (see
// logMaxLag). SyncLineage waits for that. An event that could not be
// applied is refused here, not dropped later: one whose run id a run of
// another job has, in the store, in the events accepted and not applied
// yet, or earlier in evs, is a conflict on run.runId.
// The accepted events are kept until applied: the caller leaves evs as
// they are.
func (s *Store) AcceptLineage(ctx context.Context, evs []quarry.LineageEvent) []error {
	if s.Replicas() {
		return s.acceptShared(ctx, evs) // lineage_queue.go
	}
	errs := make([]error, len(evs))
	failAll := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	if err := s.refuseWhileFull(); err != nil {
		return failAll(err)
	}
	if n := s.LineageBacklog(); n > logLimit {
		return failAll(quarry.Errorf(quarry.EUNAVAILABLE, "%d lineage events wait to be applied; retry in a few seconds", n))
	}
	if err := s.awaitRecovered(ctx); err != nil {
		return failAll(err)
	}
	acc := make([]acceptedEvent, 0, len(evs))
	for i := range evs {
		p, err := s.prepareEvent(&evs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		acc = append(acc, acceptedEvent{i: i, p: p, run: claimOf(p)})
	}
	if len(acc) == 0 {
		return errs
	}
	// Claim the runs first, then look in the store: the claim and the
	// append are one step for the events that come after (they see the
	// claim), and an event the applier applied meanwhile is in the store
	// by the time its claim is released.
	s.lin.mu.Lock()
	for k, a := range acc {
		if a.run != "" && !s.lin.claim(a.run, a.p.Job.ID) {
			errs[a.i], acc[k].run = errRunOfAnotherJob(a.run), ""
		}
	}
	s.lin.mu.Unlock()
	s.runConflicts(acc, func(k int, err error) { errs[acc[k].i] = err })
	vals := make([][]byte, 0, len(acc))
	kept := acc[:0]
	for _, a := range acc {
		if errs[a.i] == nil {
			raw, err := json.Marshal(&evs[a.i])
			if err == nil {
				vals = append(vals, encodeLogEntry(raw))
				kept = append(kept, a)
				continue
			}
			errs[a.i] = err
		}
		s.releaseClaim(a.run) // refused: it claims nothing
	}
	if len(vals) == 0 {
		return errs
	}
	first, err := s.lin.wal.Append(ctx, vals)
	err = s.noteWrite("the lineage log", err, true)
	if err != nil {
		for _, a := range kept {
			errs[a.i] = err
			s.releaseClaim(a.run)
		}
		return errs
	}
	last := first + uint64(len(vals)) - 1
	s.lin.mu.Lock()
	s.lin.appended = max(s.lin.appended, last)
	keep := len(s.lin.pending)+len(kept) <= logMemory
	for k, a := range kept {
		seq := first + uint64(k)
		if seq <= s.lin.applied { // the applier read it from the log already
			if a.run != "" {
				s.lin.release(a.run)
			}
			continue
		}
		if keep {
			s.lin.pending[seq] = a.p
		}
		if a.run != "" {
			s.lin.claimed[seq] = a.run
		}
	}
	s.lin.mu.Unlock()
	s.lin.lastAccept.Store(time.Now().UnixNano())
	select {
	case s.lin.wake <- struct{}{}:
	default:
	}
	return errs
}

// acceptedEvent is evs[i] of an AcceptLineage call, prepared, and the run
// it claims (if any).
type acceptedEvent struct {
	i   int
	p   *quarry.EventPlan
	run string
}

// runClaim is the job whose events claim a run id, and how many of them do.
type runClaim struct {
	job string
	n   int
}

// claimOf is the run id an event claims: a run event's.
func claimOf(p *quarry.EventPlan) string {
	if p.Event.Run == nil || p.Job == nil {
		return ""
	}
	return p.Event.Run.ID
}

// claimOfPlan is claimOf of a plan that may be nil (an invalid event).
func claimOfPlan(p *quarry.EventPlan) string {
	if p == nil {
		return ""
	}
	return claimOf(p)
}

// claim claims run for job, unless another job claims it; the caller
// holds l.mu.
func (l *lineageLog) claim(run, job string) bool {
	c, ok := l.claims[run]
	if ok && c.job != job {
		return false
	}
	l.claims[run] = runClaim{job: job, n: c.n + 1}
	return true
}

// release releases one claim of run; the caller holds l.mu.
func (l *lineageLog) release(run string) {
	c := l.claims[run]
	if c.n <= 1 {
		delete(l.claims, run)
		return
	}
	c.n--
	l.claims[run] = c
}

func (s *Store) releaseClaim(run string) {
	if run == "" {
		return
	}
	s.lin.mu.Lock()
	s.lin.release(run)
	s.lin.mu.Unlock()
}

// runConflicts calls conflict for each event whose run a run of another
// job has in the store, releasing its claim, in one read transaction; an
// error reading the store is every claiming event's.
func (s *Store) runConflicts(acc []acceptedEvent, conflict func(k int, err error)) {
	claims := false
	for _, a := range acc {
		claims = claims || a.run != ""
	}
	if !claims {
		return
	}
	err := s.view(func(tx kvTx) error {
		for k, a := range acc {
			if a.run == "" {
				continue
			}
			r, err := getRun(tx, a.run)
			if err != nil {
				return err
			}
			if r != nil && r.JobID != a.p.Job.ID {
				conflict(k, errRunOfAnotherJob(a.run))
			}
		}
		return nil
	})
	if err != nil {
		for k, a := range acc {
			if a.run != "" {
				conflict(k, err)
			}
		}
	}
}

// awaitRecovered waits, after a restart, until the events the previous
// process accepted are applied (their claims are not known until then):
// about a second for a thousand of them. Past recoverWait it answers
// unavailable, to be retried.
func (s *Store) awaitRecovered(ctx context.Context) error {
	if !s.lin.recovering.Load() {
		return nil
	}
	s.lin.hurry.Add(1)
	defer s.lin.hurry.Add(-1)
	select {
	case s.lin.wake <- struct{}{}:
	default:
	}
	timeout := time.NewTimer(recoverWait)
	defer timeout.Stop()
	for {
		s.lin.mu.Lock()
		applied, progress := s.lin.applied, s.lin.progress
		s.lin.mu.Unlock()
		if applied >= s.lin.recovered {
			s.lin.recovering.Store(false)
			return nil
		}
		fills := s.spaceFillsChan()
		select {
		case <-progress:
		case <-fills: // they cannot be applied now
			if err := s.refuseWhileFull(); err != nil {
				return err
			}
		case <-timeout.C:
			return quarry.Errorf(quarry.EUNAVAILABLE, "%d lineage events accepted before the restart wait to be applied; retry in a few seconds", s.lin.recovered-applied)
		case <-ctx.Done():
			return ctx.Err()
		case <-s.lin.done:
			return ErrClosed
		}
	}
}

// recoverWait is how long an accept waits for the events of the previous
// process to be applied.
const recoverWait = 5 * time.Second

// SyncLineage waits until every lineage event accepted before the call has
// been applied. While the disk is full they cannot be: it returns the
// disk-full error then.
func (s *Store) SyncLineage(ctx context.Context) error {
	if s.Replicas() {
		if err := s.syncShared(ctx); err != nil {
			return err
		}
	}
	s.lin.mu.Lock()
	target := s.lin.appended
	s.lin.mu.Unlock()
	s.lin.hurry.Add(1)
	defer s.lin.hurry.Add(-1)
	select {
	case s.lin.wake <- struct{}{}:
	default:
	}
	for {
		s.lin.mu.Lock()
		applied, progress := s.lin.applied, s.lin.progress
		s.lin.mu.Unlock()
		if applied >= target {
			return nil
		}
		fills := s.spaceFillsChan()
		select {
		case <-progress:
		case <-fills:
			if err := s.refuseWhileFull(); err != nil {
				return err
			}
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
		for {
			if !s.gather() {
				return
			}
			n, err := s.applyLog(logBatch)
			if err != nil {
				// On a full disk, the events wait (in the log) until the
				// probe finds space again (space.go), rather than fail
				// against it every second.
				wait, freed := time.Second, s.spaceFreedChan()
				if freed != nil {
					wait = probeAnyway
				} else {
					s.log.Error("applying the lineage log", "err", err)
				}
				select {
				case <-time.After(wait):
				case <-freed:
				case <-s.closed:
					return
				}
				continue
			}
			if n == 0 {
				break
			}
		}
	}
}

// gather waits while accepts keep coming, until logBatch events wait, for
// at most logMaxLag, and then briefly for the other writes under way to
// finish (crawls, mutations: a chunk in their group commit would make them
// wait for it; accepts go to the log and do not). It reports false once
// the store is closing.
func (s *Store) gather() bool {
	deadline := time.Now().Add(logMaxLag)
	for s.lin.hurry.Load() == 0 && s.LineageBacklog() < logBatch && time.Now().Before(deadline) {
		// A pause: no accept for logIdle, and no write under way.
		idle := time.Since(time.Unix(0, s.lin.lastAccept.Load()))
		if idle >= logIdle && s.writing.Load() == 0 {
			break
		}
		select {
		case <-time.After(min(max(logIdle-idle, time.Millisecond), time.Until(deadline))):
		case <-s.lin.wake: // an accept, or SyncLineage hurrying
		case <-s.closed:
			return false
		}
	}
	for deadline := time.Now().Add(logGather); s.writing.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

type logEntry struct {
	seq uint64
	ev  quarry.LineageEvent
	p   *quarry.EventPlan
}

// applyLog applies up to limit log entries (and about logBytes) in one
// transaction, and says how many it applied or dropped.
func (s *Store) applyLog(limit int) (int, error) {
	var entries []logEntry
	s.lin.mu.Lock()
	from := s.lin.applied + 1
	for seq := from; len(entries) < limit; seq++ {
		p := s.lin.pending[seq]
		if p == nil {
			break
		}
		delete(s.lin.pending, seq)
		entries = append(entries, logEntry{seq: seq, ev: *p.Event, p: p})
	}
	s.lin.mu.Unlock()
	if len(entries) > 0 {
		return s.applyEntries(entries)
	}
	recs, err := s.lin.wal.Read(from, limit, logBytes)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	entries = make([]logEntry, len(recs))
	for i, r := range recs {
		e := &entries[i]
		e.seq = r.seq
		raw, err := decodeLogEntry(r.data)
		if err == nil {
			err = json.Unmarshal(raw, &e.ev)
		}
		if err != nil {
			s.log.Error("lineage log entry is not an event; dropped", "seq", e.seq, "err", err)
			e.ev = quarry.LineageEvent{} // not half of one either
		}
	}
	for i := range entries {
		e := &entries[i]
		if e.ev.Digest == "" {
			continue // undecodable: dropped below
		}
		if e.p, err = s.prepareEvent(&e.ev); err != nil {
			s.log.Error("lineage event no longer valid; dropped", "seq", e.seq, "err", err)
		}
	}
	return s.applyEntries(entries)
}

// applyEntries applies log entries, prepared (a nil p is dropped), in
// transactions through the group commit, and says how many it applied or
// dropped.
func (s *Store) applyEntries(entries []logEntry) (int, error) {
	// eventErr is the error an event itself caused (a conflict), failed
	// its index: only such an event is dropped. Any other failure (I/O, a
	// full disk) leaves the log as it is, to be retried.
	var eventErr error
	failed := -1
	apply := func(tx kvTx, es []logEntry) error {
		eventErr, failed = nil, -1
		now := s.now().UTC()
		for i, e := range es {
			if e.p != nil {
				if _, err := applyEvent(tx, e.p, now); err != nil {
					if _, ok := errors.AsType[*quarry.Error](err); ok {
						eventErr, failed = err, i
					}
					return fmt.Errorf("lineage event %d: %w", e.seq, err)
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(s.keyApplied, u64(es[len(es)-1].seq))
	}
	// Through the group commit: the chunk shares its transaction (and
	// fsync) with the appends waiting meanwhile, rather than holding
	// bbolt's one write lock against them. When an event fails, the ones
	// before it are applied together, it is dropped, and the rest follow.
	ctx := context.Background()
	n := 0 // entries applied or dropped
	for n < len(entries) {
		es := entries[n:]
		for {
			err := s.update(ctx, func(tx kvTx) error { return apply(tx, es) })
			if err == nil {
				break
			}
			if eventErr == nil {
				return n, err // not an event's fault: retried later, nothing dropped
			}
			if failed > 0 {
				es = es[:failed]
				continue
			}
			e := es[0] // it fails first, so it fails alone
			s.log.Error("lineage event could not be applied; dropped", "seq", e.seq, "digest", e.ev.Digest, "err", eventErr)
			if err := s.update(ctx, func(tx kvTx) error { return tx.Bucket(bucketMeta).Put(s.keyApplied, u64(e.seq)) }); err != nil {
				return n, err
			}
			es = es[:1]
			break
		}
		n += len(es)
		s.lin.mu.Lock()
		s.lin.applied = max(s.lin.applied, es[len(es)-1].seq)
		for _, e := range es { // in the store now (or dropped): the store answers for them
			if run, ok := s.lin.claimed[e.seq]; ok {
				delete(s.lin.claimed, e.seq)
				s.lin.release(run)
			}
		}
		for seq := range s.lin.pending {
			if seq <= s.lin.applied { // kept after the applier read it from the log
				delete(s.lin.pending, seq)
			}
		}
		close(s.lin.progress)
		s.lin.progress = make(chan struct{})
		s.lin.mu.Unlock()
	}
	s.lin.wal.Release(entries[n-1].seq)
	return n, nil
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

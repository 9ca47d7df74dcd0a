package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/quarrydata/quarry"
)

// Replicas (Options.Replicas) accept OpenLineage events into the shared
// database rather than a log of their own: AcceptLineage writes them to
// the lineage_queue bucket in a transaction through the group commit, and
// answers once it committed, so an event accepted by a replica that dies
// is applied by another. The replica that holds the "lineage applier"
// lease (RunSingleton) folds the queue into the catalog in order, each
// transaction applying events and deleting them from the queue together:
// what is applied leaves the queue in the same commit, and nothing is
// applied twice (an event applied again would be a duplicate by its
// digest anyway).
//
// Claims on run ids (an event naming a run of another job is refused when
// accepted, not dropped when applied) are in the store too, in
// lineage_queue_runs, written in the accepting transaction: every replica
// sees them, and the writer's lock orders them.

var (
	bucketLineageQueue  = []byte("lineage_queue")      // seq(8) -> an accepted event, encoded as in the lineage log
	bucketQueueClaims   = []byte("lineage_queue_runs") // run id -> queueClaim: the job the queued events of the run report
	keyLineageQueueDone = []byte("lineage_queue_applied")
)

type queueClaim struct {
	Job string `json:"job"`
	N   int    `json:"n"`
}

func getQueueClaim(b kvBucket, run string) (queueClaim, error) {
	var c queueClaim
	if v := b.Get([]byte(run)); v != nil {
		if err := json.Unmarshal(v, &c); err != nil {
			return c, fmt.Errorf("claim of run %s: %w", run, err)
		}
	}
	return c, nil
}

// releaseQueueClaim releases one queued event's claim of run.
func releaseQueueClaim(tx kvTx, run string) error {
	b := tx.Bucket(bucketQueueClaims)
	c, err := getQueueClaim(b, run)
	if err != nil {
		return err
	}
	if c.N <= 1 {
		return b.Delete([]byte(run))
	}
	c.N--
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return b.Put([]byte(run), v)
}

// unavailable makes an error of the store (PostgreSQL down, a connection
// lost) a retriable one, saying what could not be done.
func unavailable(what string, err error) error {
	if _, ok := errors.AsType[*quarry.Error](err); ok || errors.Is(err, context.Canceled) {
		return err
	}
	return quarry.Errorf(quarry.EUNAVAILABLE, "%s: the PostgreSQL store cannot be reached (%v); retry in a few seconds", what, err)
}

// acceptShared is AcceptLineage on a replica.
func (s *Store) acceptShared(ctx context.Context, evs []quarry.LineageEvent) []error {
	errs := make([]error, len(evs))
	type item struct {
		i        int
		run, job string
		val      []byte
	}
	var items []item
	for i := range evs {
		p, err := s.prepareEvent(&evs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		raw, err := json.Marshal(&evs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		it := item{i: i, val: encodeLogEntry(raw)}
		if run := claimOf(p); run != "" {
			it.run, it.job = run, p.Job.ID
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return errs
	}
	// The claim and the run of each event's run id, and how far the queue
	// is applied, are read for the whole group commit at once
	// (PostgreSQL: one statement, not round trips of each event inside
	// the writer's lock).
	var runs [][]byte
	for _, it := range items {
		if it.run != "" {
			runs = append(runs, []byte(it.run))
		}
	}
	reads := []kvRead{{bucket: bucketMeta, keys: [][]byte{keyLineageQueueDone}}}
	if len(runs) > 0 {
		reads = append(reads, kvRead{bucket: bucketQueueClaims, keys: runs}, kvRead{bucket: bucketRuns, keys: runs})
	}
	var refused []error
	err := s.updateReading(ctx, reads, func(tx kvTx) error {
		refused = make([]error, len(items))
		q, claims := tx.Bucket(bucketLineageQueue), tx.Bucket(bucketQueueClaims)
		var done uint64
		if v := tx.Bucket(bucketMeta).Get(keyLineageQueueDone); len(v) == 8 {
			done = binary.BigEndian.Uint64(v)
		}
		if n := q.Sequence() - min(done, q.Sequence()); n > logLimit {
			for k := range refused {
				refused[k] = quarry.Errorf(quarry.EUNAVAILABLE, "%d lineage events wait to be applied; retry in a few seconds", n)
			}
			return nil
		}
		for k, it := range items {
			if it.run != "" {
				c, err := getQueueClaim(claims, it.run)
				if err != nil {
					return err
				}
				if c.Job == "" {
					r, err := getRun(tx, it.run)
					if err != nil {
						return err
					}
					if r != nil && r.JobID != it.job {
						refused[k] = errRunOfAnotherJob(it.run)
						continue
					}
				} else if c.Job != it.job {
					refused[k] = errRunOfAnotherJob(it.run)
					continue
				}
				c.Job, c.N = it.job, c.N+1
				v, err := json.Marshal(c)
				if err != nil {
					return err
				}
				if err := claims.Put([]byte(it.run), v); err != nil {
					return err
				}
			}
			seq, err := q.NextSequence()
			if err != nil {
				return err
			}
			if err := q.Put(u64(seq), it.val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		err = unavailable("lineage events are not stored", err)
		for _, it := range items {
			errs[it.i] = err
		}
		return errs
	}
	for k, it := range items {
		errs[it.i] = refused[k]
	}
	s.kickQueue()
	return errs
}

func (s *Store) kickQueue() {
	select {
	case s.queueKick <- struct{}{}:
	default:
	}
}

// applyQueue applies the shared queue while ctx lasts (while this replica
// holds the applier's lease): at once, at each wake-up (an accept here, a
// commit heard of elsewhere), and every second.
func (s *Store) applyQueue(ctx context.Context) {
	wait := time.Second
	for {
		n, err := s.applyQueued(ctx, logBatch)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("applying the accepted lineage events", "err", err, "retry_in", wait)
		case n > 0:
			wait = time.Second
			if n == logBatch {
				continue // more wait, maybe
			}
			// The queue was drained when read: what was accepted since
			// kicked (here, or heard of from another replica), and a read
			// now would find nothing most often.
		}
		select {
		case <-ctx.Done():
			return
		case <-s.queueKick:
		case <-time.After(wait):
		}
		if err != nil {
			wait = min(2*wait, 30*time.Second)
		}
	}
}

// applyQueued applies up to limit queued events and says how many it
// applied or dropped.
func (s *Store) applyQueued(ctx context.Context, limit int) (int, error) {
	var entries []logEntry
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketLineageQueue).Cursor()
		for k, v := c.First(); k != nil && len(entries) < limit; k, v = c.Next() {
			e := logEntry{seq: binary.BigEndian.Uint64(k)}
			raw, err := decodeLogEntry(v)
			if err == nil {
				err = json.Unmarshal(raw, &e.ev)
			}
			if err != nil {
				s.log.Error("queued lineage event is not an event; dropped", "seq", e.seq, "err", err)
				e.ev = quarry.LineageEvent{}
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
			continue
		}
		if e.p, err = s.prepareEvent(&e.ev); err != nil {
			s.log.Error("lineage event no longer valid; dropped", "seq", e.seq, "err", err)
		}
	}
	// An event's own failure (a conflict) drops it; the ones before it are
	// applied first. Any other failure leaves the queue as it is.
	var eventErr error
	failed := -1
	apply := func(tx kvTx, es []logEntry, drop bool) error {
		eventErr, failed = nil, -1
		now := s.now().UTC()
		for i, e := range es {
			if e.p != nil && !drop {
				if _, err := applyEvent(tx, e.p, now); err != nil {
					if _, ok := errors.AsType[*quarry.Error](err); ok {
						eventErr, failed = err, i
					}
					return fmt.Errorf("lineage event %d: %w", e.seq, err)
				}
			}
			if err := tx.Bucket(bucketLineageQueue).Delete(u64(e.seq)); err != nil {
				return err
			}
			if run := claimOfPlan(e.p); run != "" {
				if err := releaseQueueClaim(tx, run); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(keyLineageQueueDone, u64(es[len(es)-1].seq))
	}
	n := 0
	for n < len(entries) {
		es := entries[n:]
		err := s.updateRiding(ctx, applyReads(es), func(tx kvTx) error { return apply(tx, es, false) })
		if err != nil {
			if eventErr == nil {
				return n, err
			}
			if failed > 0 {
				es = es[:failed]
				if err := s.updateReading(ctx, applyReads(es), func(tx kvTx) error { return apply(tx, es, false) }); err != nil {
					return n, err
				}
			} else {
				es = es[:1]
				s.log.Error("lineage event could not be applied; dropped", "seq", es[0].seq, "digest", es[0].ev.Digest, "err", eventErr)
				if err := s.update(ctx, func(tx kvTx) error { return apply(tx, es, true) }); err != nil {
					return n, err
				}
			}
		}
		n += len(es)
	}
	return n, nil
}

// applyReads says what applying es reads, to be read ahead in one
// statement with the group commit's other reads: an event's digest, run,
// job, datasets, and the datasets and edges of its job and run that
// cursors walk. On PostgreSQL each of those Gets and cursors was a round
// trip inside the writer's lock, during which the replicas' accepts wait;
// bbolt reads ahead nothing. Only reads move: applyEvent reads the same
// values, the transaction's own writes first.
func applyReads(es []logEntry) []kvRead {
	var events, runs, claims, jobs, datasets, names, runPrefixes, children [][]byte
	facets := map[string]bool{} // jobs an event says something of
	for i := range es {
		p := es[i].p
		if p == nil {
			continue
		}
		events = append(events, eventKey(es[i].ev.Digest))
		if run := claimOfPlan(p); run != "" {
			claims = append(claims, []byte(run))
		}
		if r := p.Event.Run; r != nil && r.ID != "" {
			runs = append(runs, []byte(r.ID))
			// addRunEdges reads its edges' keys, runEdges walks them all.
			runPrefixes = append(runPrefixes, []byte(r.ID))
			if r.ParentRunID != "" {
				children = append(children, []byte(r.ParentRunID+r.ID))
			}
		}
		for j := range p.Datasets {
			d := &p.Datasets[j].Dataset
			datasets = append(datasets, []byte(d.ID))
			names = append(names, nameKey(d.Namespace, d.Name))
		}
		if p.Job != nil {
			jobs = append(jobs, []byte(p.Job.ID))
			facets[p.Job.ID] = facets[p.Job.ID] || carriesFacets(p.Job)
		}
	}
	// A job's record (its SQL, up to a MiB) is read only if an event
	// says something of the job; the others only ask whether it exists.
	var read, exist [][]byte
	for _, j := range jobs {
		if facets[string(j)] {
			read = append(read, j)
		} else {
			exist = append(exist, j)
		}
	}
	return []kvRead{
		{bucket: bucketEvents, keys: events}, {bucket: bucketRuns, keys: runs}, {bucket: bucketQueueClaims, keys: claims},
		{bucket: bucketJobs, keys: read}, {bucket: bucketJobs, keys: exist, existsOnly: true},
		{bucket: bucketJobClaims, keys: jobs}, {bucket: bucketDatasets, keys: datasets},
		{bucket: bucketVolatile, keys: datasets}, {bucket: bucketDatasetNames, keys: names},
		{bucket: bucketCanBeLate, keys: datasets, existsOnly: true},
		{bucket: bucketMeta, keys: [][]byte{keyDatasetCount}},
		// A job's datasets and edges are walked (a completed run
		// replaces them), a run's edges too (its completion reads them).
		{bucket: bucketJobDatasets, prefixes: jobs}, {bucket: bucketJobEdges, prefixes: jobs},
		{bucket: bucketRunEdges, prefixes: runPrefixes},
		{bucket: bucketRunChildren, prefixes: children},
	}
}

// riderWait is how long the applier's write waits to join a group commit
// that other writes start before it starts its own.
const riderWait = 20 * time.Millisecond

// updateRiding is updateReading for the applier: while other writes are
// under way (a replica's accepts, while it serves ingest), its write joins
// the next group commit they start rather than start one of its own, so
// that accepting events and applying them share commits (with one client,
// an event cost two commits, each a round trip and an fsync, one after
// the other). When no group commit takes it within riderWait, or no other
// write is under way, it goes through the group commit as any write.
func (s *Store) updateRiding(ctx context.Context, reads []kvRead, fn func(kvTx) error) error {
	if s.writing.Load() == 0 {
		return s.updateReading(ctx, reads, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.refuseWhileFull(); err != nil {
		return err
	}
	freads, ffn := fenced(ctx, reads, fn) // the applier's lease (fence.go); updateReading fences its own
	r := &writeReq{fn: ffn, reads: freads, done: make(chan error, 1)}
	s.riderMu.Lock()
	if s.rider != nil {
		s.riderMu.Unlock()
		return s.updateReading(ctx, reads, fn)
	}
	s.rider = r
	s.riderMu.Unlock()
	s.writing.Add(1)
	t := time.NewTimer(riderWait)
	defer t.Stop()
	select {
	case err := <-r.done:
		s.writing.Add(-1)
		return err
	case <-t.C:
	case <-s.closed:
	}
	s.riderMu.Lock()
	mine := s.rider == r
	if mine {
		s.rider = nil
	}
	s.riderMu.Unlock()
	s.writing.Add(-1)
	if !mine { // taken meanwhile
		return <-r.done
	}
	return s.updateReading(ctx, reads, fn)
}

// takeRider returns the write waiting to join a group commit, if any, and
// takes it.
func (s *Store) takeRider() *writeReq {
	s.riderMu.Lock()
	defer s.riderMu.Unlock()
	r := s.rider
	s.rider = nil
	return r
}

// syncShared is SyncLineage on a replica: it waits until the events
// queued before the call are applied, by whichever replica applies them.
func (s *Store) syncShared(ctx context.Context) error {
	var target uint64
	read := func() (uint64, error) {
		var done uint64
		err := s.view(func(tx kvTx) error {
			if target == 0 {
				target = tx.Bucket(bucketLineageQueue).Sequence()
			}
			if v := tx.Bucket(bucketMeta).Get(keyLineageQueueDone); len(v) == 8 {
				done = binary.BigEndian.Uint64(v)
			}
			return nil
		})
		return done, err
	}
	for {
		done, err := read()
		if err != nil {
			return unavailable("wait for lineage events to be applied", err)
		}
		if done >= target {
			return nil
		}
		s.kickQueue()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// queueClaimConflict refuses, on a replica, an event applied at once
// (ApplyLineage: quarry run, reportRun) whose run id queued events of
// another job claim, as a claim in memory refuses it on one server: the
// queued events would be dropped when applied. It runs in the applying
// transaction, under the writer's lock that orders accepts too.
func queueClaimConflict(tx kvTx, p *quarry.EventPlan) error {
	run := claimOfPlan(p)
	if run == "" {
		return nil
	}
	c, err := getQueueClaim(tx.Bucket(bucketQueueClaims), run)
	if err != nil {
		return err
	}
	if c.Job != "" && c.Job != p.Job.ID {
		return errRunOfAnotherJob(run)
	}
	return nil
}

// LineageQueueBacklog is how many events the replicas' shared queue holds
// that are not applied yet (0 on a store that is not a replica): the
// queue's sequence past the last one applied or dropped, which the
// applier moves in the same commit as it deletes them.
func (s *Store) LineageQueueBacklog(ctx context.Context) (uint64, error) {
	if !s.Replicas() {
		return 0, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n uint64
	err := s.view(func(tx kvTx) error {
		seq := tx.Bucket(bucketLineageQueue).Sequence()
		var done uint64
		if v := tx.Bucket(bucketMeta).Get(keyLineageQueueDone); len(v) == 8 {
			done = binary.BigEndian.Uint64(v)
		}
		n = seq - min(done, seq)
		return nil
	})
	if err != nil {
		return 0, unavailable("count the queued lineage events", err)
	}
	return n, nil
}

// backlogGauge is quarry_lineage_log_backlog: the events of this
// process's lineage log not applied yet and, on a replica, the shared
// queue's (which every replica reports alike). When PostgreSQL cannot be
// read, the local count alone.
func (s *Store) backlogGauge() float64 {
	n := s.LineageBacklog()
	if s.Replicas() {
		q, err := s.LineageQueueBacklog(context.Background())
		if err != nil {
			s.log.Warn("store: count the queued lineage events for the backlog gauge", "err", err)
		}
		n += q
	}
	return float64(n)
}

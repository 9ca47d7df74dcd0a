package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry"
)

// Fencing: a lease (RunSingleton, TryLease) is a session-level advisory
// lock, and a holder cut off from PostgreSQL, or paused past the moment
// its connection was dropped, does not know at once that another replica
// took the lease over. Its writes must not land after the takeover. So a
// lease has a generation, kept in the meta bucket under
// "lease_gen/<task>": the replica that takes the lease bumps it in a write
// transaction (under the writer's lock) before it starts the work, and
// the work runs with a context that carries the generation it got. Every
// write made with that context (update, updateReading, bulk) reads the
// generation again inside its transaction, under the cluster-wide
// writer's lock, and fails without committing anything when it moved:
// since writers are serialized, a write either commits before the new
// holder's bump (and so before the new holder's work begins) or is
// refused. The read is one key added to a statement the write sends
// anyway (the group commit's prefetch, the applier's read-ahead), so the
// hot path pays no round trip for it; a write that prefetches nothing
// (an alert pass, a crawl's batch) pays one Get.
//
// Side effects outside the store (a webhook's POST) check the generation
// with CheckLease just before they happen: the window left is the time
// from that read to the POST, not the lease check's interval, and the
// outbox entry leaves the queue only by a fenced write.

// errLeaseLost refuses a write made for singleton work whose lease this
// replica no longer holds.
func errLeaseLost(task string) error {
	return quarry.Errorf(quarry.EUNAVAILABLE, "this replica no longer holds the lease of %s (another replica took it over): the write is refused", task)
}

// fence is the lease of singleton work as its writes carry it.
type fence struct {
	task string
	key  []byte // in bucketMeta
	gen  uint64
}

type fenceCtxKey struct{}

func leaseGenKey(task string) []byte { return []byte("lease_gen/" + task) }

func withFence(ctx context.Context, f *fence) context.Context {
	return context.WithValue(ctx, fenceCtxKey{}, f)
}

func fenceOf(ctx context.Context) *fence {
	f, _ := ctx.Value(fenceCtxKey{}).(*fence)
	return f
}

// check fails when another replica took the lease since f was taken.
func (f *fence) check(tx kvTx) error {
	var gen uint64
	if v := tx.Bucket(bucketMeta).Get(f.key); len(v) == 8 {
		gen = binary.BigEndian.Uint64(v)
	}
	if gen != f.gen {
		return errLeaseLost(f.task)
	}
	return nil
}

// fenced returns fn, and the keys it reads, guarded by ctx's fence if it
// carries one. The generation is checked after fn, before the commit (the
// writer's lock is held from the transaction's start, so it cannot move
// in between): its key goes with the keys the write prefetches (the
// lineage applier's read-ahead among them), in the same statement.
func fenced(ctx context.Context, reads []kvRead, fn func(kvTx) error) ([]kvRead, func(kvTx) error) {
	f := fenceOf(ctx)
	if f == nil {
		return reads, fn
	}
	if len(reads) > 0 {
		reads = append(reads[:len(reads):len(reads)], kvRead{bucket: bucketMeta, keys: [][]byte{f.key}})
	}
	return reads, func(tx kvTx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return f.check(tx)
	}
}

// takeFence bumps task's lease generation; the caller holds the lease.
// The write goes alone (solo): a group's other writes must not fail with
// it, nor it with them.
func (s *Store) takeFence(ctx context.Context, task string) (*fence, error) {
	f := &fence{task: task, key: leaseGenKey(task)}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err := s.solo(func(tx kvTx) error {
		m := tx.Bucket(bucketMeta)
		f.gen = 1
		if v := m.Get(f.key); len(v) == 8 {
			f.gen = binary.BigEndian.Uint64(v) + 1
		}
		return m.Put(f.key, u64(f.gen))
	})
	if err != nil {
		return nil, fmt.Errorf("take the lease of %s: %w", task, err)
	}
	return f, nil
}

// CheckLease fails when ctx is singleton work's (RunSingleton, TryLease)
// and another replica has taken its lease over; it is nil for any other
// context, and on a store that is not a replica. A side effect outside
// the store (a webhook's POST) calls it just before it happens.
func (s *Store) CheckLease(ctx context.Context) error {
	f := fenceOf(ctx)
	if f == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.view(func(tx kvTx) error { return f.check(tx) })
	if err != nil {
		return unavailable("check the lease of "+f.task, err)
	}
	return nil
}

// TryLease takes task's lease if no replica holds it, for work that
// begins on demand rather than waiting its turn (a source's crawl). It
// returns a context for the work, derived from ctx and cancelled when the
// lease is lost or release is called, whose writes are fenced (see
// above), and release,
// which lets the lease go; ok is false when another replica holds it. A
// store that is not a replica holds every lease: ctx comes back as it is.
func (s *Store) TryLease(ctx context.Context, task string) (lctx context.Context, release func(), ok bool, err error) {
	pg, isPG := s.db.(*pgDB)
	if !isPG || !s.Replicas() {
		return ctx, func() {}, true, nil
	}
	conn, held, err := pg.lease(ctx, nil, task)
	if err != nil {
		return nil, nil, false, unavailable("take the lease of "+task, err)
	}
	if !held {
		conn.Close(context.Background())
		return nil, nil, false, nil
	}
	s.armLease(ctx, conn, task)
	f, err := s.takeFence(ctx, task)
	if err != nil {
		conn.Close(context.Background())
		return nil, nil, false, unavailable("take the lease of "+task, err)
	}
	wctx, cancel := context.WithCancel(withFence(ctx, f))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.watchLease(stop, conn, task, cancel)
	}()
	var once bool
	release = func() {
		if once {
			return
		}
		once = true
		close(stop)
		<-done
		cancel()
	}
	return wctx, release, true, nil
}

// watchLease pings conn, which holds task's lease, every LeaseCheck until
// stop is closed or the ping fails (the lease is lost: lost is called),
// then closes conn, which lets the lease go.
func (s *Store) watchLease(stop <-chan struct{}, conn *pgx.Conn, task string, lost func()) {
	defer conn.Close(context.Background())
	t := time.NewTicker(s.leaseCheck)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			pctx, pcancel := context.WithTimeout(context.Background(), s.leaseCheck)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				select {
				case <-stop:
				default:
					s.log.Warn("store: lost the lease of "+task+"; stopping it here", "err", err)
				}
				lost()
				return
			}
		}
	}
}

// LeaseHeld reports whether a replica holds task's lease, by trying it
// and letting it go at once; a store that is not a replica answers false
// (it holds no leases for others to see).
func (s *Store) LeaseHeld(ctx context.Context, task string) (bool, error) {
	pg, isPG := s.db.(*pgDB)
	if !isPG || !s.Replicas() {
		return false, nil
	}
	held, err := pg.leaseHeld(ctx, task)
	if err != nil {
		return false, unavailable("look at the lease of "+task, err)
	}
	return held, nil
}

// leaseHeld tries task's lease and lets it go in the same statement: true
// when another session holds it.
func (d *pgDB) leaseHeld(ctx context.Context, task string) (bool, error) {
	var held bool
	err := d.pool.QueryRow(ctx, "SELECT CASE WHEN pg_try_advisory_lock("+pgLeaseLock+") THEN NOT pg_advisory_unlock("+pgLeaseLock+") ELSE true END", task).Scan(&held)
	return held, err
}

// armLease makes PostgreSQL end conn's session, and let the lease go,
// when it has been idle for leaseIdle: the holder pings it every
// LeaseCheck, so only a holder that stopped (a paused process, a frozen
// VM, whose kernel still answers for the socket) goes that long, and
// another replica takes over instead of waiting for it to come back.
// What the holder writes when it resumes is fenced. A server without
// idle_session_timeout (before PostgreSQL 14) keeps the lease until the
// connection drops.
func (s *Store) armLease(ctx context.Context, conn *pgx.Conn, task string) {
	idle := max(10*s.leaseCheck, 10*time.Second)
	if _, err := conn.Exec(ctx, fmt.Sprintf("SET idle_session_timeout = %d", idle.Milliseconds())); err != nil {
		s.log.Debug("store: a paused holder of the lease of "+task+" keeps it until its connection drops", "err", err)
	}
}

package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Several replicas on one PostgreSQL schema (Options.Replicas): each has
// its own derived state (search index, lineage graph), which follows the
// changelog through Changed. The local writer closes Changed after its own
// commits; otherCommits does it after the others', which the engine hears
// of by LISTEN/NOTIFY and by polling (kv_pg.go, pgDB.follow).

// replicaAppliedKey returns the meta key under which this replica's
// lineage log applier records the last event it applied. Each replica has
// a log of its own, in its data directory, numbered from 1: one shared key
// would make a replica skip its own events another had gone past (or
// apply again those it had). The replica's id is kept beside its store's
// path (path + ".replica") and made on first use.
func replicaAppliedKey(path string, readOnly bool) ([]byte, error) {
	idPath := path + ".replica"
	b, err := os.ReadFile(idPath)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrNotExist) && !readOnly:
		b = []byte(fmt.Sprintf("%016x\n", rand.Uint64()))
		if err := os.WriteFile(idPath, b, 0o600); err != nil {
			return nil, fmt.Errorf("replica id: %w", err)
		}
	case errors.Is(err, os.ErrNotExist):
		return keyLineageApplied, nil // read-only, and never a replica here: no log of its own
	default:
		return nil, fmt.Errorf("replica id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if len(id) != 16 {
		return nil, fmt.Errorf("replica id: %s holds %q, want 16 hex digits (remove it to make a new one)", idPath, id)
	}
	return []byte(string(keyLineageApplied) + "/" + id), nil
}

// DefaultFollowPoll is how often a replica reads the changelog's sequence
// when no notification woke it: the most a lost notification delays its
// followers.
const DefaultFollowPoll = time.Second

// otherCommits reads the changelog's sequence and, if another replica
// moved it, wakes the followers. It also reloads the sources' namespace
// aliases, which change without a changelog record.
func (s *Store) otherCommits() {
	seq, err := s.LastSeq(context.Background())
	if err != nil {
		s.log.Warn("store: read the changelog's sequence for the followers", "err", err)
		return
	}
	s.reached(seq, false)
	if s.queueKick != nil {
		s.kickQueue() // another replica may have queued lineage events
	}
	s.sourcesMu.Lock() // a registration's own reload must not be overwritten by an older one
	defer s.sourcesMu.Unlock()
	if err := s.loadAliases(); err != nil {
		s.log.Warn("store: reload the sources' namespace aliases", "err", err)
	}
}

// DefaultLeaseCheck is how often a replica tries to take over singleton
// work, and its holder checks that it still holds it (Options.LeaseCheck).
const DefaultLeaseCheck = time.Second

// Replicas reports whether the store is one of several replicas
// (Options.Replicas on PostgreSQL).
func (s *Store) Replicas() bool { return s.leaseCheck > 0 }

// RunSingleton runs fn on one replica at a time: the one that holds task's
// lease, a session-level advisory lock on a connection of its own.
// Another replica tries to take the lease every LeaseCheck, so when the
// holder dies (its connection drops and PostgreSQL lets the lock go), or
// stops answering (a paused process: PostgreSQL ends its lease session
// once idle for ten LeaseChecks, at least 10s: armLease), one of them
// takes over. The holder pings its connection every LeaseCheck
// and, when it is lost, cancels fn's context and competes for the lease
// again. A holder cut off from PostgreSQL (or paused) may go on running
// fn for up to LeaseCheck after another took over, or longer if paused,
// but its writes cannot land: fn's context carries the lease's
// generation, which the taker bumps, and every write made with it checks
// the generation under the writer's lock (fence.go). Effects outside the
// store check it first with CheckLease.
//
// A store that is not a replica (bbolt, or PostgreSQL opened alone) is
// the only process on its data: fn runs at once with ctx. RunSingleton
// returns when ctx ends and fn has returned.
func (s *Store) RunSingleton(ctx context.Context, task string, fn func(context.Context)) {
	pg, ok := s.db.(*pgDB)
	if !ok || !s.Replicas() {
		fn(ctx)
		return
	}
	t := time.NewTicker(s.leaseCheck)
	defer t.Stop()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		var held bool
		var err error
		conn, held, err = pg.lease(ctx, conn, task)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("store: take the lease of "+task, "err", err, "retry_in", s.leaseCheck)
		}
		if held {
			// fn's writes are fenced by the lease's new generation
			// (fence.go): a holder that lost the lease without knowing it
			// yet cannot write after this replica's work begins.
			s.armLease(ctx, conn, task)
			if f, err := s.takeFence(ctx, task); err != nil {
				if ctx.Err() == nil {
					s.log.Warn("store: take the lease of "+task, "err", err, "retry_in", s.leaseCheck)
				}
				conn.Close(context.Background())
			} else {
				s.log.Info("store: this replica holds the lease of " + task)
				s.holdLease(withFence(ctx, f), conn, task, fn)
			}
			conn = nil // closed, and the lease with it
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// holdLease runs fn while conn, which holds task's lease, answers pings;
// then it closes conn, which lets the lease go.
func (s *Store) holdLease(ctx context.Context, conn *pgx.Conn, task string, fn func(context.Context)) {
	defer conn.Close(context.Background())
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(fctx)
	}()
	t := time.NewTicker(s.leaseCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			<-done
			return
		case <-done: // fn gave up of itself
			return
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, s.leaseCheck)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil && ctx.Err() == nil {
				s.log.Warn("store: lost the lease of "+task+"; stopping it here", "err", err)
				cancel()
				<-done
				return
			}
		}
	}
}

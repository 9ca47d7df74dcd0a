package store

import (
	"context"
	"time"
)

// Several replicas on one PostgreSQL schema (Options.Replicas): each has
// its own derived state (search index, lineage graph), which follows the
// changelog through Changed. The local writer closes Changed after its own
// commits; otherCommits does it after the others', which the engine hears
// of by LISTEN/NOTIFY and by polling (kv_pg.go, pgDB.follow).

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
	s.mu.Lock()
	if seq > s.seq {
		s.seq = seq
		s.m.lastSeq.Set(float64(seq))
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.mu.Unlock()
	s.sourcesMu.Lock() // a registration's own reload must not be overwritten by an older one
	defer s.sourcesMu.Unlock()
	if err := s.loadAliases(); err != nil {
		s.log.Warn("store: reload the sources' namespace aliases", "err", err)
	}
}

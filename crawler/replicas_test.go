package crawler_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// stuckSource is a database server that accepts connections and never
// answers: a crawl of it runs until its connect timeout, or until the
// test hangs up (hangUp), when it fails.
type stuckSource struct {
	ln       net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	accepted chan struct{} // one per connection
}

func newStuckSource(t *testing.T) *stuckSource {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stuckSource{ln: ln, accepted: make(chan struct{}, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.accepted <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.hangUp()
	})
	return s
}

func (s *stuckSource) dsn() string {
	return fmt.Sprintf("postgres://quarry@%s/stuck?sslmode=disable", s.ln.Addr())
}

func (s *stuckSource) hangUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *stuckSource) awaitCrawl(t *testing.T) {
	t.Helper()
	select {
	case <-s.accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the crawl never connected to the source")
	}
}

// replicaService opens a store in replicas mode on schema, its lease
// checked every check, and a crawl service on it as the server wires one.
func replicaService(t *testing.T, schema string, check time.Duration) (*store.Store, *crawler.Service) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "quarry.db"), &store.Options{
		Postgres: schema, Replicas: true, LeaseCheck: check, NoSync: true,
		Timeout: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler), Leases: st,
		Policy: crawler.SourcePolicy{ConnectTimeout: time.Minute}})
	t.Cleanup(func() {
		svc.Wait()
		st.Close()
	})
	return st, svc
}

// Two replicas crawl one store: a crawl started on A shows as running on
// B, and a second crawl of the source on B is a conflict while A's runs.
// When A is cut off (its lease's connection terminated; A has not noticed:
// its lease check is an hour away, as for a paused process), B no longer
// shows the run as running but closes it as abandoned; what A records
// when its crawl ends is refused; and B may crawl the source again.
func TestReplicasShareCrawlsInProgress(t *testing.T) {
	ctx := context.Background()
	schema := storetest.Schema(t, pg.DSN("postgres"))
	src := newStuckSource(t)
	defer src.hangUp() // before the services wait for their crawls
	_, a := replicaService(t, schema, time.Hour)
	b2, b := replicaService(t, schema, 50*time.Millisecond)
	if _, err := a.Register(ctx, quarry.Source{Name: "stuck", Kind: quarry.SourcePostgres, DSN: src.dsn()}); err != nil {
		t.Fatal(err)
	}
	run, doneA, err := a.Start(ctx, "stuck")
	if err != nil {
		t.Fatal(err)
	}
	src.awaitCrawl(t)
	if r := b.Running("stuck"); r == nil || !r.StartedAt.Equal(run.StartedAt) || r.Status != quarry.CrawlRunning {
		t.Fatalf("the other replica's Running = %+v, want A's run %+v", r, run)
	}
	if _, _, err := b.Start(ctx, "stuck"); quarry.ErrorCode(err) != quarry.ECONFLICT {
		t.Fatalf("a second crawl of the source on the other replica: %v, want a conflict", err)
	}
	if _, err := b.Crawl(ctx, "stuck"); quarry.ErrorCode(err) != quarry.ECONFLICT {
		t.Fatalf("a second crawl (waited for) on the other replica: %v, want a conflict", err)
	}

	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'quarry lease crawl stuck'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d crawl leases, want A's", killed)
	}
	// PostgreSQL lets the lock go once the terminated backend has exited.
	for deadline := time.Now().Add(10 * time.Second); b.Running("stuck") != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a run whose replica is gone shows as running 10s on: %+v", b.Running("stuck"))
		}
	}
	runs, err := b2.CrawlRuns(ctx, "stuck", 5)
	if err != nil || len(runs) != 1 || runs[0].Status != quarry.CrawlFailed || !strings.Contains(runs[0].Error, "abandoned") {
		t.Fatalf("runs after A was cut off: %+v %v, want A's closed as abandoned", runs, err)
	}

	src.hangUp() // A's crawl fails now; its run is closed already
	select {
	case <-doneA:
	case <-time.After(30 * time.Second):
		t.Fatal("A's crawl did not end")
	}
	runs, err = b2.CrawlRuns(ctx, "stuck", 5)
	if err != nil || len(runs) != 1 || !strings.Contains(runs[0].Error, "abandoned") {
		t.Fatalf("runs after A's crawl ended: %+v %v, want A's record of it refused", runs, err)
	}

	if _, _, err := b.Start(ctx, "stuck"); err != nil {
		t.Fatalf("a crawl on B once A's is gone: %v", err)
	}
	src.awaitCrawl(t)
	if r := a.Running("stuck"); r == nil {
		t.Fatal("B's crawl does not show as running on A")
	}
	if _, _, err := a.Start(ctx, "stuck"); quarry.ErrorCode(err) != quarry.ECONFLICT {
		t.Fatalf("a crawl on A while B's runs: %v, want a conflict", err)
	}
	src.hangUp()
	b.Wait()
	runs, err = b2.CrawlRuns(ctx, "stuck", 5)
	if err != nil || len(runs) != 2 || runs[0].Status != quarry.CrawlFailed || strings.Contains(runs[0].Error, "abandoned") {
		t.Fatalf("B's run: %+v %v, want it failed by the hang-up", runs, err)
	}
}

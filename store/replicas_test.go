package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// replica opens a store in replicas mode on schema, polling every poll.
func replica(t *testing.T, schema string, poll time.Duration) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "quarry.db"), &store.Options{
		Postgres: schema, Replicas: true, FollowPoll: poll, LeaseCheck: 50 * time.Millisecond, NoSync: true,
		Timeout: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// awaitChange waits for s.Changed to fire after a write elsewhere, then
// returns how long it took and the changes after seq.
func awaitChange(t *testing.T, s *store.Store, changed <-chan struct{}, seq uint64, start time.Time) (time.Duration, []quarry.Change) {
	t.Helper()
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the other replica's commit never woke this one's followers")
	}
	d := time.Since(start)
	ch, err := s.Changes(context.Background(), seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	return d, ch
}

// Two replicas on one schema: a commit through one wakes the other's
// followers (Changed) by notification, well before the poll would; with
// the listening connections killed, the poll still brings the change and
// the listeners come back. A store opened alone is refused while replicas
// hold the schema, and a replica while a store holds it alone.
func TestReplicasFollowEachOther(t *testing.T) {
	dsn := os.Getenv(storetest.EnvDSN)
	if dsn == "" {
		t.Skip("runs on the suite's PostgreSQL pass")
	}
	ctx := context.Background()
	schema := storetest.Schema(t, dsn)
	a := replica(t, schema, time.Hour) // the poll never fires: a wake-up is a notification
	b := replica(t, schema, time.Hour)

	seq, _ := b.LastSeq(ctx)
	changed := b.Changed()
	start := time.Now()
	if _, err := a.UpsertDatasets(ctx, []quarry.Dataset{orders(1)}); err != nil {
		t.Fatal(err)
	}
	d, ch := awaitChange(t, b, changed, seq, start)
	if len(ch) != 1 || ch[0].Entity != quarry.EntityDataset {
		t.Fatalf("changes seen by the other replica = %+v, want the dataset's upsert", ch)
	}
	t.Logf("notified: the other replica's followers woke %s after the write began", d)
	if got, err := b.Dataset(ctx, ch[0].ID); err != nil || got.Name != orders(1).Name {
		t.Fatalf("read on the other replica: %v %v", got, err)
	}

	// A store alone is refused while replicas run, whichever comes first.
	alone := &store.Options{Postgres: schema, Timeout: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
	if s, err := store.Open(filepath.Join(t.TempDir(), "quarry.db"), alone); err == nil {
		s.Close()
		t.Fatal("a store opened alone on a schema that replicas hold")
	} else if !strings.Contains(err.Error(), "another process") {
		t.Fatalf("opened alone: %v", err)
	}
	other := storetest.Schema(t, dsn)
	s, err := store.Open(filepath.Join(t.TempDir(), "quarry.db"), &store.Options{Postgres: other, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(filepath.Join(t.TempDir(), "quarry.db"), &store.Options{Postgres: other, Replicas: true, Timeout: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}); err == nil || !strings.Contains(err.Error(), "alone") {
		t.Fatalf("a replica on a schema a store holds alone: %v, want it refused", err)
	}
	s.Close()

	// Polling: replicas whose listening connections are cut still see each
	// other's commits, within the poll.
	c := replica(t, schema, 100*time.Millisecond)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	seq, _ = c.LastSeq(ctx)
	changed = c.Changed()
	var killed int
	if err := conn.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'").Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed < 3 {
		t.Fatalf("terminated %d listening connections, want the 3 replicas'", killed)
	}
	start = time.Now()
	if _, err := a.UpsertDatasets(ctx, []quarry.Dataset{orders(2)}); err != nil {
		t.Fatal(err)
	}
	d, ch = awaitChange(t, c, changed, seq, start)
	if len(ch) != 1 {
		t.Fatalf("changes after the listeners were cut = %+v", ch)
	}
	t.Logf("after the listeners were cut: woken %s after the write began", d)

	// And they listen again: b (which never polls) hears the next commit.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d replicas listen again, want 3", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	seq, _ = b.LastSeq(ctx)
	changed = b.Changed()
	start = time.Now()
	if _, err := c.UpsertDatasets(ctx, []quarry.Dataset{orders(3)}); err != nil {
		t.Fatal(err)
	}
	if _, ch = awaitChange(t, b, changed, seq, start); len(ch) != 1 {
		t.Fatalf("changes after the listeners came back = %+v", ch)
	}
}

// Singleton work runs on one replica at a time. When the holder's
// connection is cut, it stops the work and the replicas compete for the
// lease again; when the holder stops (as when its process dies: its
// connection closes), the other takes over. A store not in replicas mode
// runs the work at once.
func TestRunSingletonTakesOver(t *testing.T) {
	bg := context.Background()
	if storetest.Engine() != "postgres" {
		s := storetest.MustOpen(t, nil)
		ran := make(chan struct{})
		ctx, cancel := context.WithCancel(bg)
		defer cancel()
		go s.RunSingleton(ctx, "work", func(context.Context) { close(ran) })
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatal("a store alone did not run its singleton work")
		}
		return
	}
	dsn := os.Getenv(storetest.EnvDSN)
	schema := storetest.Schema(t, dsn)
	var running [2]atomic.Bool
	// While the holder's connection is cut and it has not noticed yet
	// (up to a lease check), the other may run the work too: its writes
	// are fenced (TestFencedSingletonWrites), not its running.
	var cut atomic.Bool
	var starts atomic.Int32
	var stops [2]func()
	for i := range 2 {
		s, err := store.Open(filepath.Join(t.TempDir(), "quarry.db"), &store.Options{
			Postgres: schema, Replicas: true, LeaseCheck: 50 * time.Millisecond, NoSync: true,
			Timeout: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(bg)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.RunSingleton(ctx, "work", func(ctx context.Context) {
				if running[1-i].Load() && !cut.Load() {
					t.Errorf("replica %d runs the work while replica %d does", i, 1-i)
				}
				starts.Add(1)
				running[i].Store(true)
				<-ctx.Done()
				running[i].Store(false)
			})
		}()
		stops[i] = func() {
			cancel()
			<-done
			s.Close()
		}
		t.Cleanup(stops[i])
	}
	// holder waits for exactly one replica to run the work and returns it.
	holder := func() int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			a, b := running[0].Load(), running[1].Load()
			if a != b {
				if a {
					return 0
				}
				return 1
			}
			if time.Now().After(deadline) {
				t.Fatalf("running: %v %v, want one replica", a, b)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	first := holder()
	time.Sleep(200 * time.Millisecond) // several of the other's attempts
	if holder() != first || starts.Load() != 1 {
		t.Fatalf("the lease moved (%d starts) without its holder losing it", starts.Load())
	}

	conn, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(bg)
	// The holder's lease connection is the one whose session holds the
	// advisory lock; the other's only tries it.
	var killed int
	cut.Store(true)
	if err := conn.QueryRow(bg, `SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'quarry lease work'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d lease holders, want 1", killed)
	}
	for deadline := time.Now().Add(10 * time.Second); starts.Load() < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the work did not start again after its holder's connection was cut")
		}
	}
	second := holder()
	cut.Store(false)

	start := time.Now()
	stops[second]()
	for deadline := time.Now().Add(10 * time.Second); !running[1-second].Load(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the other replica did not take the work over")
		}
	}
	t.Logf("taken over %s after the holder stopped (LeaseCheck 50ms)", time.Since(start))
}

// Replicas accept into the shared queue; the lineage log in a replica's
// data directory holds only what it accepted before it ran as a replica,
// and its applier records its progress under the replica's own key (one
// key for all would make a replica skip what is left in its log below
// another's mark). Events accepted through two replicas, one of them
// reopened in between, are all applied.
func TestReplicasApplyTheirOwnLineageLogs(t *testing.T) {
	dsn := os.Getenv(storetest.EnvDSN)
	if dsn == "" {
		t.Skip("runs on the suite's PostgreSQL pass")
	}
	ctx := context.Background()
	schema := storetest.Schema(t, dsn)
	open := func(path string) *store.Store {
		s, err := store.Open(path, &store.Options{Postgres: schema, Replicas: true, NoSync: true, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var runs []string
	accept := func(s *store.Store, n int) {
		t.Helper()
		for range n {
			id := fmt.Sprintf("0193a4d2-7b1e-7c3a-9d2e-%012x", len(runs)+1)
			runs = append(runs, id)
			ev := runEvent("load", id, quarry.RunComplete, time.Date(2026, 12, 1, 0, 0, len(runs), 0, time.UTC), nil, []string{"shop.public.orders"})
			digest(&ev)
			if err := s.AcceptLineage(ctx, []quarry.LineageEvent{ev})[0]; err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SyncLineage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pa, pb := filepath.Join(t.TempDir(), "quarry.db"), filepath.Join(t.TempDir(), "quarry.db")
	a := open(pa)
	accept(a, 2)
	a.Close()
	b := open(pb)
	defer b.Close()
	accept(b, 5)
	a = open(pa)
	defer a.Close()
	accept(a, 2)
	for _, id := range runs {
		if _, err := b.Run(ctx, id); err != nil {
			t.Errorf("run %s: %v", id, err)
		}
	}
}

// Replicas accept lineage events into the shared database: the events a
// replica accepted are applied when it is gone (by the replica that takes
// the applier's lease over), and a run id claimed by an event that one
// replica queued is refused to another job on another replica before it
// is applied.
func TestReplicasShareAcceptedLineage(t *testing.T) {
	dsn := os.Getenv(storetest.EnvDSN)
	if dsn == "" {
		t.Skip("runs on the suite's PostgreSQL pass")
	}
	ctx := context.Background()
	schema := storetest.Schema(t, dsn)
	a := replica(t, schema, time.Second) // opened first: it holds the applier's lease
	b := replica(t, schema, time.Second)
	var runs []string
	accept := func(s *store.Store, job string, n int) []error {
		var evs []quarry.LineageEvent
		for range n {
			id := fmt.Sprintf("0193a4d2-7b1e-7c3a-9d2e-%012x", len(runs)+1)
			runs = append(runs, id)
			ev := runEvent(job, id, quarry.RunComplete, time.Date(2026, 12, 1, 0, 0, len(runs), 0, time.UTC), nil, []string{"shop.public.orders"})
			digest(&ev)
			evs = append(evs, ev)
		}
		return s.AcceptLineage(ctx, evs)
	}
	for _, s := range []*store.Store{a, b, a, b} {
		for _, err := range accept(s, "load", 25) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	a.Close() // with events queued, most likely: b takes them over
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := b.SyncLineage(sctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range runs {
		if _, err := b.Run(ctx, id); err != nil {
			t.Errorf("run %s accepted by a replica: %v", id, err)
		}
	}

	// A claim queued through one replica holds on another.
	c := replica(t, schema, time.Second)
	if errs := accept(b, "load", 1); errs[0] != nil {
		t.Fatal(errs[0])
	}
	run := runs[len(runs)-1]
	ev := runEvent("other", run, quarry.RunComplete, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), nil, []string{"shop.public.other"})
	digest(&ev)
	if err := c.AcceptLineage(ctx, []quarry.LineageEvent{ev})[0]; quarry.ErrorCode(err) != quarry.ECONFLICT {
		t.Fatalf("another job's event for run %s on another replica: %v, want a conflict", run, err)
	}
	if err := c.SyncLineage(sctx); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Run(ctx, run); err != nil || r.JobID == "" {
		t.Fatalf("run %s: %+v %v", run, r, err)
	}
}

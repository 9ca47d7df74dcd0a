package store_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
		Postgres: schema, Replicas: true, FollowPoll: poll, NoSync: true,
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

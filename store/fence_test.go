package store_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// replicaChecking is replica with the lease checked every check.
func replicaChecking(t *testing.T, schema string, check time.Duration) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "quarry.db"), &store.Options{
		Postgres: schema, Replicas: true, LeaseCheck: check, NoSync: true,
		Timeout: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// holdSingleton runs task on s as RunSingleton does and returns the
// context its work got once it runs.
func holdSingleton(t *testing.T, s *store.Store, task string) <-chan context.Context {
	t.Helper()
	got := make(chan context.Context, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunSingleton(ctx, task, func(ctx context.Context) {
			got <- ctx
			<-ctx.Done()
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return got
}

func awaitCtx(t *testing.T, c <-chan context.Context, what string) context.Context {
	t.Helper()
	select {
	case ctx := <-c:
		return ctx
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never began", what)
		return nil
	}
}

// terminateLease cuts the connection that holds task's lease.
func terminateLease(t *testing.T, dsn, task string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`, "quarry lease "+task).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d holders of the lease of %s, want 1", killed, task)
	}
}

// A lease holder cut off from PostgreSQL that has not noticed yet (its
// lease check is an hour away: a paused process is the same) goes on
// running its singleton work after another replica took the lease over.
// Its writes are refused from the takeover on and nothing of them is
// stored, a bulk write's included; its webhook deliveries send nothing,
// and the event waiting in the outbox is delivered once, by the new
// holder.
func TestFencedSingletonWrites(t *testing.T) {
	dsn := os.Getenv(storetest.EnvDSN)
	if dsn == "" {
		t.Skip("runs on the suite's PostgreSQL pass")
	}
	bg := context.Background()
	schema := storetest.Schema(t, dsn)
	a := replicaChecking(t, schema, time.Hour)
	ids := mustUpsert(t, a, orders(1))
	now := time.Now().UTC().Truncate(time.Second)
	opened := quarry.AlertEvent{Transition: quarry.AlertOpened, At: now, Alert: quarry.Alert{
		Key: quarry.CheckAlertKey(ids[0], "", "row_count"), Kind: quarry.AlertCheck, DatasetID: ids[0], Dataset: "d",
		Check: "row_count", Level: quarry.LevelError, OpenedAt: now, ChangedAt: now}}
	if err := a.RecordAlerts(bg, now, []quarry.AlertEvent{opened}, nil, []string{"ops"}); err != nil {
		t.Fatal(err)
	}

	actx := awaitCtx(t, holdSingleton(t, a, "alerts"), "the first replica's work")
	b := replicaChecking(t, schema, 50*time.Millisecond)
	bWork := holdSingleton(t, b, "alerts")
	select {
	case <-bWork:
		t.Fatal("the second replica runs the work while the first holds its lease")
	case <-time.After(200 * time.Millisecond):
	}
	// Before the takeover the holder's writes land.
	if _, err := a.UpsertDatasets(actx, []quarry.Dataset{orders(2)}); err != nil {
		t.Fatalf("the holder's write: %v", err)
	}
	terminateLease(t, dsn, "alerts")
	bctx := awaitCtx(t, bWork, "the second replica's work")
	if actx.Err() != nil {
		t.Fatal("the first replica noticed: the test wants it not to have yet")
	}

	seq, err := b.LastSeq(bg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpsertDatasets(actx, []quarry.Dataset{orders(3)}); quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Fatalf("the old holder's write after the takeover: %v, want it refused (unavailable)", err)
	}
	late := opened
	late.Alert.Key, late.Alert.DatasetID = quarry.CheckAlertKey(ids[0], "", "late"), ids[0]
	if err := a.RecordAlerts(actx, now, []quarry.AlertEvent{late}, nil, []string{"ops"}); quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Fatalf("the old holder's bulk write after the takeover: %v, want it refused", err)
	}
	if err := a.CheckLease(actx); quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Fatalf("CheckLease of the old holder: %v", err)
	}
	if after, err := b.LastSeq(bg); err != nil || after != seq {
		t.Fatalf("the changelog moved from %d to %d (%v) by refused writes", seq, after, err)
	}
	if _, err := a.UpsertDatasets(bg, []quarry.Dataset{orders(4)}); err != nil {
		t.Fatalf("the old holder's write for anything else: %v", err)
	}

	var posts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { posts.Add(1) }))
	defer hook.Close()
	o := &alert.Options{Webhooks: []quarry.Webhook{{Name: "ops", URL: hook.URL, Format: quarry.WebhookJSON}}, Logger: slog.New(slog.DiscardHandler)}
	if d, _, err := alert.New(a, o).Deliver(actx); d != 0 || err == nil {
		t.Fatalf("the old holder delivered %d (%v), want none", d, err)
	}
	if d, _, err := alert.New(b, o).Deliver(bctx); d != 1 || err != nil {
		t.Fatalf("the new holder delivered %d (%v), want the one event", d, err)
	}
	alert.New(a, o).Deliver(actx)
	alert.New(b, o).Deliver(bctx)
	if n := posts.Load(); n != 1 {
		t.Fatalf("the webhook got %d posts, want 1", n)
	}
	if _, err := b.UpsertDatasets(bctx, []quarry.Dataset{orders(5)}); err != nil {
		t.Fatalf("the new holder's write: %v", err)
	}
}

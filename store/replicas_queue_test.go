package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// stallApplier holds the shared queue's applier lease on a connection of
// the test's own, which applies nothing: accepted events stay queued until
// the returned func lets it go.
func stallApplier(t *testing.T, schema string) func() {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, schema)
	if err != nil {
		t.Fatal(err)
	}
	var ok bool
	// As store's pgLeaseLock keys the lease of "lineage applier".
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(1903520372, hashtext(current_schema() || '/' || $1))", "lineage applier").Scan(&ok); err != nil || !ok {
		conn.Close(ctx)
		t.Fatalf("hold the applier's lease: %v %v", ok, err)
	}
	var once bool
	release := func() {
		if !once {
			once = true
			conn.Close(ctx)
		}
	}
	t.Cleanup(release)
	return release
}

// replicaMetrics is replica with its metrics registered.
func replicaMetrics(t *testing.T, schema string) (*store.Store, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := store.Open(filepath.Join(t.TempDir(), "quarry.db"), &store.Options{
		Postgres: schema, Replicas: true, LeaseCheck: 50 * time.Millisecond, NoSync: true,
		Timeout: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler), Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, reg
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// On replicas, an event applied at once (ApplyLineage, ApplyLineageBatch:
// quarry run, reportRun) whose run id an event of another job queued
// through another replica claims is a conflict, as on one server, and
// changes nothing; the queued event is applied afterwards, its run its
// job's.
func TestReplicaApplyRespectsQueuedClaims(t *testing.T) {
	dsn := os.Getenv(storetest.EnvDSN)
	if dsn == "" {
		t.Skip("runs on the suite's PostgreSQL pass")
	}
	ctx := context.Background()
	schema := storetest.Schema(t, dsn)
	release := stallApplier(t, schema)
	a := replica(t, schema, time.Second)
	b := replica(t, schema, time.Second)
	run := "0193a4d2-7b1e-7c3a-9d2e-00000000c1a1"
	at := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	queued := runEvent("load", run, quarry.RunComplete, at, nil, []string{"shop.public.orders"})
	digest(&queued)
	if err := a.AcceptLineage(ctx, []quarry.LineageEvent{queued})[0]; err != nil {
		t.Fatal(err)
	}
	seq, err := b.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := runEvent("other", run, quarry.RunComplete, at.Add(time.Second), nil, []string{"shop.public.other"})
	digest(&other)
	if _, err := b.ApplyLineage(ctx, &other); quarry.ErrorCode(err) != quarry.ECONFLICT {
		t.Fatalf("ApplyLineage of another job's event for a run queued on another replica: %v, want a conflict", err)
	}
	other2 := runEvent("other", run, quarry.RunStart, at.Add(2*time.Second), nil, []string{"shop.public.other"})
	digest(&other2)
	fine := runEvent("other", "0193a4d2-7b1e-7c3a-9d2e-00000000c1a2", quarry.RunComplete, at.Add(3*time.Second), nil, []string{"shop.public.other"})
	digest(&fine)
	_, errs := b.ApplyLineageBatch(ctx, []quarry.LineageEvent{other2, fine})
	if quarry.ErrorCode(errs[0]) != quarry.ECONFLICT || errs[1] != nil {
		t.Fatalf("ApplyLineageBatch: %v, want a conflict for the claimed run only", errs)
	}
	if r, err := b.Run(ctx, run); err == nil {
		t.Fatalf("the claimed run was stored before its queued event was applied: %+v", r)
	}
	if after, _ := b.LastSeq(ctx); after == seq {
		t.Fatal("the batch's other event was not applied")
	}
	release()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := b.SyncLineage(sctx); err != nil {
		t.Fatal(err)
	}
	r, err := b.Run(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	j, err := b.Job(ctx, r.JobID)
	if err != nil || j.Name != "load" {
		t.Fatalf("the run's job: %+v %v, want load's", j, err)
	}
}

// On a replica, quarry_lineage_log_backlog counts the shared queue's
// events not applied yet, whichever replica accepted them, and falls to
// zero once they are applied.
func TestReplicaBacklogCountsTheSharedQueue(t *testing.T) {
	dsn := os.Getenv(storetest.EnvDSN)
	if dsn == "" {
		t.Skip("runs on the suite's PostgreSQL pass")
	}
	ctx := context.Background()
	schema := storetest.Schema(t, dsn)
	release := stallApplier(t, schema)
	a, regA := replicaMetrics(t, schema)
	b, regB := replicaMetrics(t, schema)
	var evs []quarry.LineageEvent
	for i := range 7 {
		ev := runEvent("load", fmt.Sprintf("0193a4d2-7b1e-7c3a-9d2e-%012x", 0xb00+i), quarry.RunComplete,
			time.Date(2026, 12, 3, 0, 0, i, 0, time.UTC), nil, []string{"shop.public.orders"})
		digest(&ev)
		evs = append(evs, ev)
	}
	for _, err := range a.AcceptLineage(ctx, evs[:4]) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range b.AcceptLineage(ctx, evs[4:]) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, reg := range []*prometheus.Registry{regA, regB} {
		if n := gauge(t, reg, "quarry_lineage_log_backlog"); n != 7 {
			t.Fatalf("quarry_lineage_log_backlog = %v with 7 events queued, want 7", n)
		}
	}
	if n, err := a.LineageQueueBacklog(ctx); err != nil || n != 7 {
		t.Fatalf("LineageQueueBacklog = %d %v", n, err)
	}
	release()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := a.SyncLineage(sctx); err != nil {
		t.Fatal(err)
	}
	for _, reg := range []*prometheus.Registry{regA, regB} {
		if n := gauge(t, reg, "quarry_lineage_log_backlog"); n != 0 {
			t.Fatalf("quarry_lineage_log_backlog = %v once applied, want 0", n)
		}
	}
}

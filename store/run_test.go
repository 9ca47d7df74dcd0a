package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

const etlNS = "airflow://etl"

// runEvent builds a run event of job etl.<job> reading ins and writing outs
// of the shop database; its digest covers all of it, as a parser's does.
func runEvent(job, runID string, state quarry.RunState, at time.Time, ins, outs []string) quarry.LineageEvent {
	ev := quarry.LineageEvent{
		Kind:      quarry.RunEvent,
		EventTime: at,
		Job:       &quarry.Job{Namespace: etlNS, Name: job},
		Run:       &quarry.RunReport{ID: runID, State: state},
	}
	for _, n := range ins {
		ev.Inputs = append(ev.Inputs, quarry.DatasetReport{Namespace: shopNS, Name: n})
	}
	for _, n := range outs {
		ev.Outputs = append(ev.Outputs, quarry.DatasetReport{Namespace: shopNS, Name: n})
	}
	return ev
}

func digest(ev *quarry.LineageEvent) {
	ev.Digest = ""
	raw, _ := json.Marshal(ev) // as reportRun digests its events
	ev.Digest = quarry.EventDigest(raw)
}

func mustApply(tb testing.TB, s *store.Store, ev quarry.LineageEvent) store.LineageResult {
	tb.Helper()
	digest(&ev)
	res, err := s.ApplyLineage(context.Background(), &ev)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func jid(name string) string { return quarry.NewID(quarry.EntityJob, etlNS, name) }

const (
	run1 = "0190b5c1-2f2a-7d3e-8a1b-000000000001" // UUIDv7, as Airflow sends
	run2 = "0190b5c1-2f2a-7d3e-8a1b-000000000002"
)

func TestApplyLineageRun(t *testing.T) {
	ctx := context.Background()
	s, clock := openClocked(t)
	t0 := shT0.Add(-time.Hour)

	res := mustApply(t, s, runEvent("load_orders", run1, quarry.RunStart, t0, []string{"shop.public.orders", "shop.public.customers"}, []string{"shop.staging.orders"}))
	if res.Duplicate || res.State != quarry.RunStart || res.JobID != jid("load_orders") || res.RunID != run1 {
		t.Fatalf("START: %+v", res)
	}
	// Unknown datasets were created, uncrawled.
	out := mustDataset(t, s, lid("shop.staging.orders"))
	if out.Source != "" || out.Kind != quarry.KindTable || out.LastUpdatedAt != nil {
		t.Fatalf("created output: %+v", out)
	}
	// Running: the edges are there already, through the job.
	assertEdges(t, s, lid("shop.staging.orders"), true,
		quarry.Edge{From: lid("shop.public.customers"), To: lid("shop.staging.orders"), JobID: jid("load_orders"), Origin: quarry.OriginRun},
		quarry.Edge{From: lid("shop.public.orders"), To: lid("shop.staging.orders"), JobID: jid("load_orders"), Origin: quarry.OriginRun})

	clock.Advance(time.Minute)
	done := runEvent("load_orders", run1, quarry.RunComplete, t0.Add(90*time.Second), []string{"shop.public.orders"}, []string{"shop.staging.orders"})
	res = mustApply(t, s, done)
	if res.State != quarry.RunComplete {
		t.Fatalf("COMPLETE: %+v", res)
	}
	r, err := s.Run(ctx, run1)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != quarry.RunComplete || r.StartedAt == nil || !r.StartedAt.Equal(t0) || r.EndedAt == nil || r.Duration() != 90*time.Second || r.Events != 2 {
		t.Fatalf("run: %+v", r)
	}
	if len(r.Inputs) != 2 || len(r.Outputs) != 1 {
		t.Fatalf("run datasets accumulate: %+v", r)
	}
	// The output's data changed when the run completed.
	out = mustDataset(t, s, lid("shop.staging.orders"))
	if out.LastUpdatedAt == nil || !out.LastUpdatedAt.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("lastUpdatedAt %v", out.LastUpdatedAt)
	}
	if dc := mustDataChanges(t, s, out.ID, 10); len(dc) != 1 || dc[0].Signal != quarry.SignalRun {
		t.Fatalf("data changes %+v", dc)
	}

	// A retried delivery changes nothing.
	seq, _ := s.LastSeq(ctx)
	if res := mustApply(t, s, done); !res.Duplicate || res.State != quarry.RunComplete {
		t.Fatalf("retry: %+v", res)
	}
	if after, _ := s.LastSeq(ctx); after != seq {
		t.Fatalf("a retried event wrote %d changelog records", after-seq)
	}

	// The next run completes reading only orders: customers is no longer
	// an input of the job.
	clock.Advance(time.Hour)
	mustApply(t, s, runEvent("load_orders", run2, quarry.RunComplete, t0.Add(time.Hour), []string{"shop.public.orders"}, []string{"shop.staging.orders"}))
	assertEdges(t, s, lid("shop.staging.orders"), true,
		quarry.Edge{From: lid("shop.public.orders"), To: lid("shop.staging.orders"), JobID: jid("load_orders"), Origin: quarry.OriginRun})

	page, err := s.Runs(ctx, jid("load_orders"), 1, "")
	if err != nil || len(page.Runs) != 1 || page.Runs[0].ID != run2 || !page.More {
		t.Fatalf("first page: %+v %v", page, err)
	}
	page, err = s.Runs(ctx, jid("load_orders"), 5, page.Cursors[0])
	if err != nil || len(page.Runs) != 1 || page.Runs[0].ID != run1 || page.More {
		t.Fatalf("second page: %+v %v", page, err)
	}
	ins, outs, err := s.JobDatasets(ctx, jid("load_orders"))
	if err != nil || !slices.Equal(ins, []string{lid("shop.public.orders")}) || !slices.Equal(outs, []string{lid("shop.staging.orders")}) {
		t.Fatalf("job datasets %v %v %v", ins, outs, err)
	}
	writers, readers, err := s.DatasetJobs(ctx, lid("shop.staging.orders"))
	if err != nil || !slices.Equal(writers, []string{jid("load_orders")}) || len(readers) != 0 {
		t.Fatalf("dataset jobs %v %v %v", writers, readers, err)
	}
}

func TestApplyLineageOutOfOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := openClocked(t)
	t0 := shT0.Add(-time.Hour)
	mustApply(t, s, runEvent("j", run1, quarry.RunComplete, t0.Add(time.Minute), nil, []string{"shop.public.a"}))
	mustApply(t, s, runEvent("j", run1, quarry.RunRunning, t0.Add(30*time.Second), nil, nil))
	mustApply(t, s, runEvent("j", run1, quarry.RunStart, t0, nil, nil))
	mustApply(t, s, runEvent("j", run1, quarry.RunOther, t0.Add(2*time.Minute), nil, nil))
	r, err := s.Run(ctx, run1)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != quarry.RunComplete || !r.StartedAt.Equal(t0) || !r.EndedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("late START reopened or mistimed the run: %+v", r)
	}
	// FAIL after COMPLETE with a later time: the later terminal event wins.
	fail := runEvent("j", run1, quarry.RunFail, t0.Add(3*time.Minute), nil, nil)
	fail.Run.ErrorMessage = "relation does not exist"
	mustApply(t, s, fail)
	if r, _ = s.Run(ctx, run1); r.State != quarry.RunFail || r.ErrorMessage != "relation does not exist" || !r.EndedAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("fail: %+v", r)
	}
}

func TestApplyLineageAliasesAndFacets(t *testing.T) {
	ctx := context.Background()
	s, _ := openClocked(t)
	if _, err := s.PutSource(ctx, quarry.Source{Name: "shop", Kind: quarry.SourcePostgres, Namespace: shopNS, DSN: "postgres://x@shop-db/shop", Aliases: []string{"postgres://10.0.0.5:5432"}}); err != nil {
		t.Fatal(err)
	}
	crawled := quarry.Dataset{Namespace: shopNS, Name: "shop.public.orders", Source: "shop", Columns: []quarry.Column{{Name: "id", Type: "integer"}}}
	mustUpsertResult(t, s, crawled)

	ev := runEvent("j", run1, quarry.RunComplete, shT0, nil, nil)
	ev.Inputs = []quarry.DatasetReport{{Namespace: "postgresql://10.0.0.5", Name: "shop.public.orders", Description: "Orders.", Owners: []string{"team:shop"},
		Columns: []quarry.Column{{Name: "id", Type: "bigint"}, {Name: "extra", Type: "text"}}}}
	ev.Outputs = []quarry.DatasetReport{{Namespace: "postgres://10.0.0.5:5432", Name: "shop.mart.orders",
		Columns: []quarry.Column{{Name: "order_id", Type: "bigint"}},
		Checks:  []quarry.Check{{Name: "not_null", Column: "order_id", Status: quarry.CheckFail}, {Name: "row_count", Status: quarry.CheckPass}},
		Metrics: &quarry.DatasetMetrics{RowCount: i64(42)}}}
	ev.Outputs[0].ColumnLineage = []quarry.ColumnLineage{{Column: "order_id", Inputs: []quarry.ColumnSource{{Namespace: "postgres://10.0.0.5", Name: "shop.public.orders", Field: "id", Transformation: "DIRECT/IDENTITY"}}}}
	mustApply(t, s, ev)

	// The alias landed on the crawled node; the schema facet did not touch
	// its columns, the documentation and ownership facets filled the blanks
	// as edits a crawl keeps.
	d := mustDataset(t, s, lid("shop.public.orders"))
	if len(d.Columns) != 1 || d.Columns[0].Type != "integer" || d.Description() != "Orders." || !slices.Equal(d.Owners(), []string{"team:shop"}) {
		t.Fatalf("crawled dataset: %+v", d)
	}
	mustUpsertResult(t, s, crawled)
	if d = mustDataset(t, s, lid("shop.public.orders")); d.Description() != "Orders." {
		t.Fatalf("a recrawl dropped the facet's description: %+v", d)
	}
	// The uncrawled output took the schema facet.
	out := mustDataset(t, s, lid("shop.mart.orders"))
	if len(out.Columns) != 1 || out.Columns[0].Name != "order_id" {
		t.Fatalf("output columns: %+v", out.Columns)
	}
	assertEdges(t, s, out.ID, true,
		quarry.Edge{From: d.ID, To: out.ID, JobID: jid("j"), Origin: quarry.OriginRun},
		quarry.Edge{From: d.ID, To: out.ID, JobID: jid("j"), FromColumn: "id", ToColumn: "order_id", Transformation: "DIRECT/IDENTITY", Origin: quarry.OriginRun})
	checks, err := s.Checks(ctx, out.ID)
	if err != nil || len(checks) != 2 || checks[0].Name != "row_count" || checks[1].Status != quarry.CheckFail || checks[1].RunID != run1 {
		t.Fatalf("checks %+v %v", checks, err)
	}
	if h, _ := s.CheckHistory(ctx, out.ID, "order_id", "not_null", 5); len(h) != 1 {
		t.Fatalf("check history %+v", h)
	}
	if m, err := s.Metrics(ctx, out.ID); err != nil || m == nil || *m.RowCount != 42 || m.RunID != run1 {
		t.Fatalf("metrics %+v %v", m, err)
	}
}

func TestApplyLineageLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := openClocked(t)
	mustApply(t, s, runEvent("j", run1, quarry.RunComplete, shT0, nil, []string{"shop.public.old"}))
	rename := runEvent("j", run2, quarry.RunComplete, shT0, nil, nil)
	rename.Outputs = []quarry.DatasetReport{{Namespace: shopNS, Name: "shop.public.new", Lifecycle: "RENAME", PreviousName: "shop.public.old"}}
	mustApply(t, s, rename)
	if h := mustSchemaHistory(t, s, lid("shop.public.new")); h[0].Kind != quarry.DatasetRenamed || h[0].Old != shopNS+"/shop.public.old" {
		t.Fatalf("rename history %+v", h)
	}
	drop := runEvent("drop", "0190b5c1-2f2a-7d3e-8a1b-000000000003", quarry.RunComplete, shT0, nil, nil)
	drop.Outputs = []quarry.DatasetReport{{Namespace: shopNS, Name: "shop.public.new", Lifecycle: "DROP"}}
	mustApply(t, s, drop)
	if d := mustDataset(t, s, lid("shop.public.new")); !d.Removed() {
		t.Fatal("DROP did not mark the dataset removed")
	}
	// A later run writing it brings it back.
	mustApply(t, s, runEvent("j", "0190b5c1-2f2a-7d3e-8a1b-000000000004", quarry.RunComplete, shT0.Add(time.Hour), nil, []string{"shop.public.new"}))
	if d := mustDataset(t, s, lid("shop.public.new")); d.Removed() {
		t.Fatal("a completed write did not restore the dataset")
	}
	_ = ctx
}

func TestApplyLineageInvalid(t *testing.T) {
	ctx := context.Background()
	s, _ := openClocked(t)
	for _, tc := range []struct {
		name  string
		edit  func(*quarry.LineageEvent)
		field string
	}{
		{"BadRunID", func(ev *quarry.LineageEvent) { ev.Run.ID = "not-a-uuid" }, "run.runId"},
		{"BadNamespace", func(ev *quarry.LineageEvent) { ev.Outputs[0].Namespace = "postgres://db:99999" }, "outputs[0].namespace"},
		{"NoName", func(ev *quarry.LineageEvent) { ev.Inputs[0].Name = " " }, "inputs[0].name"},
		{"NoJob", func(ev *quarry.LineageEvent) { ev.Job.Name = "" }, "job.name"},
		{"BadCheck", func(ev *quarry.LineageEvent) {
			ev.Outputs[0].Checks = []quarry.Check{{Name: "x", Status: "MAYBE"}}
		}, "outputs[0].facets.dataQualityAssertions.assertions[0].success"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := runEvent("j", run1, quarry.RunComplete, shT0, []string{"shop.public.a"}, []string{"shop.public.b"})
			tc.edit(&ev)
			digest(&ev)
			seq, _ := s.LastSeq(ctx)
			_, err := s.ApplyLineage(ctx, &ev)
			if quarry.ErrorCode(err) != quarry.EINVALID || fieldOf(err) != tc.field {
				t.Fatalf("got %v (field %q), want invalid %s", err, fieldOf(err), tc.field)
			}
			if after, _ := s.LastSeq(ctx); after != seq {
				t.Fatal("an invalid event wrote")
			}
		})
	}

	// In a batch an invalid event fails alone.
	good := runEvent("j", run1, quarry.RunComplete, shT0, []string{"shop.public.a"}, []string{"shop.public.b"})
	bad := runEvent("j", "nope", quarry.RunComplete, shT0, nil, nil)
	digest(&good)
	digest(&bad)
	res, errs := s.ApplyLineageBatch(ctx, []quarry.LineageEvent{good, bad})
	if errs[0] != nil || res[0].State != quarry.RunComplete || quarry.ErrorCode(errs[1]) != quarry.EINVALID {
		t.Fatalf("batch: %+v %v", res, errs)
	}
}

func fieldOf(err error) string {
	var e *quarry.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Accepted events are applied in the background, in order; those a store
// closed before applying are applied when it opens again; one that fails
// when applied is dropped without holding back the rest.
func TestLineageLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quarry.db")
	quiet := &store.Options{Logger: slog.New(slog.DiscardHandler), NoSync: true}
	s, err := store.Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	var evs []quarry.LineageEvent
	for i := range 300 {
		ev := runEvent(fmt.Sprintf("job_%d", i%7), quarry.NewID("run", "log", fmt.Sprint(i)), quarry.RunComplete, shT0, []string{"shop.public.a"}, []string{fmt.Sprintf("shop.public.b%d", i%7)})
		digest(&ev)
		evs = append(evs, ev)
	}
	// The same run id under another job: refused, as it could only be
	// dropped when applied.
	clash := runEvent("other", evs[0].Run.ID, quarry.RunComplete, shT0, nil, nil)
	digest(&clash)
	evs = append(evs[:1], append([]quarry.LineageEvent{clash}, evs[1:]...)...)
	bad := runEvent("j", "not-a-uuid", quarry.RunStart, shT0, nil, nil)
	digest(&bad)
	evs = append(evs, bad)
	errs := s.AcceptLineage(ctx, evs)
	for i, err := range errs[:len(errs)-1] {
		if i == 1 {
			if quarry.ErrorCode(err) != quarry.ECONFLICT || fieldOf(err) != "run.runId" {
				t.Fatalf("the clashing event: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if fieldOf(errs[len(errs)-1]) != "run.runId" {
		t.Fatalf("an invalid event was accepted: %v", errs[len(errs)-1])
	}
	if err := s.Close(); err != nil { // maybe before the applier got to them
		t.Fatal(err)
	}
	if s, err = store.Open(path, quiet); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	if n := s.LineageBacklog(); n != 0 {
		t.Fatalf("backlog %d after sync", n)
	}
	for i := range 300 {
		r, err := s.Run(ctx, quarry.NewID("run", "log", fmt.Sprint(i)))
		if err != nil || r.State != quarry.RunComplete || r.JobID != jid(fmt.Sprintf("job_%d", i%7)) {
			t.Fatalf("run %d: %+v %v", i, r, err)
		}
	}
	if _, err := s.JobByName(ctx, etlNS, "other"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
		t.Fatalf("the clashing event left its job: %v", err)
	}
}

// While one writer keeps accepting, the applier lets events gather; a
// SyncLineage call does not wait for the writer to stop: it sees every
// event accepted before it applied.
func TestLineageLogSyncWhileAccepting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := storetest.MustOpen(t, &store.Options{NoSync: true})
	event := func(i int) quarry.LineageEvent {
		ev := runEvent(fmt.Sprintf("job_%d", i%7), quarry.NewID("run", "sync", fmt.Sprint(i)), quarry.RunComplete, shT0, []string{"shop.public.a"}, []string{"shop.public.b"})
		digest(&ev)
		return ev
	}
	var accepted atomic.Int64 // events accepted so far
	stop := make(chan struct{})
	done := make(chan error)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := s.AcceptLineage(ctx, []quarry.LineageEvent{event(i)})[0]; err != nil {
				done <- err
				return
			}
			accepted.Store(int64(i + 1))
			// Not faster than an applier can follow: each sync waits for
			// what was accepted before it, and an unthrottled writer
			// accepted ten times more meanwhile on PostgreSQL (an applied
			// event there costs ~20 round trips), so that three syncs took
			// 17 s of the test's 30.
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for range 3 {
		n := accepted.Load()
		if err := s.SyncLineage(ctx); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			if r, err := s.Run(ctx, quarry.NewID("run", "sync", fmt.Sprint(n-1))); err != nil || r.State != quarry.RunComplete {
				t.Fatalf("event %d, accepted before the sync, not applied after it: %+v %v", n-1, r, err)
			}
		}
		time.Sleep(20 * time.Millisecond) // more accepts
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A late event of a run that completed before does not take the job's
// lineage back from a newer run, nor bring back a dataset dropped since;
// a job that only writes still lists what it writes.
func TestApplyLineageLateEvents(t *testing.T) {
	ctx := context.Background()
	s, _ := openClocked(t)
	const run3 = "0190b5c1-2f2a-7d3e-8a1b-000000000003"
	mustApply(t, s, runEvent("j", run1, quarry.RunComplete, shT0, []string{"shop.public.a"}, []string{"shop.public.old_out"}))
	mustApply(t, s, runEvent("j", run2, quarry.RunComplete, shT0.Add(time.Hour), []string{"shop.public.a"}, []string{"shop.public.new_out"}))
	late := runEvent("j", run1, quarry.RunRunning, shT0.Add(-time.Minute), []string{"shop.public.a"}, []string{"shop.public.old_out"})
	mustApply(t, s, late)
	if _, outs, _ := s.JobDatasets(ctx, jid("j")); !slices.Equal(outs, []string{lid("shop.public.new_out")}) {
		t.Fatalf("a late event of an older run took the job's lineage back: %v", outs)
	}
	// run1 completing again later than run2 (a retried, re-timed COMPLETE)
	// is not a new completion either.
	mustApply(t, s, runEvent("j", run1, quarry.RunComplete, shT0.Add(2*time.Hour), []string{"shop.public.a"}, []string{"shop.public.old_out"}))
	if _, outs, _ := s.JobDatasets(ctx, jid("j")); !slices.Equal(outs, []string{lid("shop.public.new_out")}) {
		t.Fatalf("a repeated completion took the job's lineage back: %v", outs)
	}

	drop := quarry.LineageEvent{Kind: quarry.DatasetEvent, EventTime: shT0.Add(3 * time.Hour), Outputs: []quarry.DatasetReport{{Namespace: shopNS, Name: "shop.public.new_out", Lifecycle: "DROP"}}}
	mustApply(t, s, drop)
	mustApply(t, s, runEvent("j", run2, quarry.RunStart, shT0.Add(30*time.Minute), []string{"shop.public.a"}, []string{"shop.public.new_out"}))
	if d := mustDataset(t, s, lid("shop.public.new_out")); !d.Removed() {
		t.Fatal("a late START of a completed run restored a dropped dataset")
	}

	mustApply(t, s, runEvent("seed", run3, quarry.RunComplete, shT0, nil, []string{"shop.public.seeded"}))
	if _, outs, _ := s.JobDatasets(ctx, jid("seed")); !slices.Equal(outs, []string{lid("shop.public.seeded")}) {
		t.Fatalf("a job without inputs lists no outputs: %v", outs)
	}
}

// Log entries written before they were compressed still apply.
func TestLineageLogPlainEntries(t *testing.T) {
	raw := []byte(`{"Kind":"RUN"}`)
	for _, v := range [][]byte{raw, store.EncodeLogEntry(raw)} {
		got, err := store.DecodeLogEntry(v)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("%q: %q %v", v, got, err)
		}
	}
}

// Events left in the lineage log by a server that stopped before applying
// them, and events in the log bucket of the store file (where builds
// before the log had a file of its own kept them), are counted by a
// read-only open and applied by the next read-write one; the applied log
// segments are deleted.
func TestLineageLogLeftOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	quiet := &store.Options{Logger: slog.New(slog.DiscardHandler)}
	path := filepath.Join(t.TempDir(), "quarry.db")
	s, err := store.Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	event := func(i int) quarry.LineageEvent {
		ev := runEvent("left", quarry.NewID("run", "left", fmt.Sprint(i)), quarry.RunComplete, shT0, []string{"shop.public.a"}, []string{"shop.public.b"})
		digest(&ev)
		return ev
	}
	var inFile, inLog []quarry.LineageEvent
	for i := range 10 {
		inFile = append(inFile, event(i))
		inLog = append(inLog, event(10+i))
	}
	if err := store.PutOldLogEntries(path, inFile); err != nil {
		t.Fatal(err)
	}
	if err := store.AppendLogEntries(path, inLog); err != nil {
		t.Fatal(err)
	}

	ro, err := store.Open(path, &store.Options{ReadOnly: true, Logger: quiet.Logger})
	if err != nil {
		t.Fatal(err)
	}
	if n := ro.LineageBacklog(); n != 20 {
		t.Fatalf("read-only open: backlog %d, want 20", n)
	}
	if _, err := ro.Run(ctx, inLog[0].Run.ID); quarry.ErrorCode(err) != quarry.ENOTFOUND {
		t.Fatalf("a read-only open applied the log: %v", err)
	}
	ro.Close()

	s, err = store.Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ev := range append(inFile, inLog...) {
		if r, err := s.Run(ctx, ev.Run.ID); err != nil || r.State != quarry.RunComplete {
			t.Fatalf("run %s after reopening: %+v %v", ev.Run.ID, r, err)
		}
	}
	if n := s.LineageBacklog(); n != 0 {
		t.Fatalf("backlog %d after sync", n)
	}
	// Accepting more goes on from there, and once applied, only the
	// segment being written is left.
	if errs := s.AcceptLineage(ctx, []quarry.LineageEvent{event(99)}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if err := s.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(path + ".lineage/*.log")
	if len(segs) != 1 {
		t.Fatalf("segments left after applying everything: %v", segs)
	}
}

// Accepted events wait for the applier in memory, up to a bound; past it
// they are read back from the log. Either way every one is applied, once,
// in order.
func TestLineageLogBeyondMemory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := storetest.MustOpen(t, &store.Options{NoSync: true})
	const n = 6000 // more than logMemory, accepted faster than applied
	var evs []quarry.LineageEvent
	for i := range n {
		// Each run starts, then completes: applied out of order, a run
		// would not have both.
		state := quarry.RunStart
		if i%2 == 1 {
			state = quarry.RunComplete
		}
		ev := runEvent(fmt.Sprintf("job_%d", i/2%5), quarry.NewID("run", "mem", fmt.Sprint(i/2)), state, shT0.Add(time.Duration(i)*time.Second), []string{"shop.public.a"}, []string{"shop.public.b"})
		digest(&ev)
		evs = append(evs, ev)
	}
	// In two calls: the first's events wait in memory, the second's do
	// not fit beside them.
	for i := 0; i < n; i += n / 2 {
		for j, err := range s.AcceptLineage(ctx, evs[i:i+n/2]) {
			if err != nil {
				t.Fatalf("event %d: %v", i+j, err)
			}
		}
	}
	if err := s.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 2 {
		r, err := s.Run(ctx, quarry.NewID("run", "mem", fmt.Sprint(i/2)))
		if err != nil || r.State != quarry.RunComplete || r.Events != 2 || r.StartedAt == nil || !r.StartedAt.Equal(shT0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("run %d: %+v %v", i/2, r, err)
		}
	}
	if b := s.LineageBacklog(); b != 0 {
		t.Fatalf("backlog %d", b)
	}
}

// Lists of jobs leave their SQL out (up to a MiB each, and few queries
// show it); JobSQL and Job read it.
func TestJobSQLReadWhenAsked(t *testing.T) {
	ctx := context.Background()
	s, _ := openClocked(t)
	ev := runEvent("j", run1, quarry.RunComplete, shT0, []string{"shop.public.a"}, []string{"shop.public.b"})
	ev.Job.SQL, ev.Job.Description = "INSERT INTO b SELECT * FROM a", "Copies a."
	mustApply(t, s, ev)
	jobs, err := s.Jobs(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].SQL != "" || jobs[0].Description != "Copies a." || jobs[0].ID != jid("j") {
		t.Fatalf("jobs = %+v, %v", jobs, err)
	}
	byID, err := s.JobsByID(ctx, []string{jid("j")})
	if err != nil || len(byID) != 1 || byID[0].SQL != "" || byID[0].Name != "j" {
		t.Fatalf("jobs by id = %+v, %v", byID, err)
	}
	if sql, err := s.JobSQL(ctx, jid("j")); err != nil || sql != ev.Job.SQL {
		t.Fatalf("JobSQL = %q, %v", sql, err)
	}
	if j, err := s.Job(ctx, jid("j")); err != nil || j.SQL != ev.Job.SQL {
		t.Fatalf("Job = %+v, %v", j, err)
	}
	if _, err := s.JobSQL(ctx, jid("none")); quarry.ErrorCode(err) != quarry.ENOTFOUND {
		t.Fatalf("JobSQL of no job: %v", err)
	}
}

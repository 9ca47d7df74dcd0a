package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// An accepted lineage event is applied, never dropped: an event whose run
// id another job's events claim is refused when it is accepted (409
// conflict on run.runId), whether that job's run is in the store, in the
// log waiting to be applied, earlier in the same batch, accepted
// concurrently, or reported through ApplyLineage (reportRun).
func TestAcceptLineageRunConflict(t *testing.T) {
	ctx := context.Background()
	event := func(job, run string) quarry.LineageEvent {
		ev := runEvent(job, run, quarry.RunStart, shT0, []string{"shop.public.a"}, []string{"shop.public.b"})
		digest(&ev)
		return ev
	}
	isConflict := func(t *testing.T, err error) {
		t.Helper()
		if quarry.ErrorCode(err) != quarry.ECONFLICT || fieldOf(err) != "run.runId" {
			t.Fatalf("want a conflict on run.runId, got %v", err)
		}
	}
	// owner checks, once everything is applied, that run belongs to job
	// and that the refused jobs left nothing.
	owner := func(t *testing.T, s *store.Store, run, job string, refused ...string) {
		t.Helper()
		if err := s.SyncLineage(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := s.Run(ctx, run)
		if err != nil || r.JobID != jid(job) {
			t.Fatalf("run %s: %+v %v, want job %s", run, r, err, job)
		}
		for _, j := range refused {
			if _, err := s.JobByName(ctx, etlNS, j); quarry.ErrorCode(err) != quarry.ENOTFOUND {
				t.Fatalf("refused job %s was stored: %v", j, err)
			}
		}
	}

	t.Run("WaitingInTheLog", func(t *testing.T) {
		s := storetest.MustOpen(t, &store.Options{NoSync: true})
		if err := s.AcceptLineage(ctx, []quarry.LineageEvent{event("a", run1)})[0]; err != nil {
			t.Fatal(err)
		}
		// The applier waits for accepts to pause: the first is not applied yet.
		isConflict(t, s.AcceptLineage(ctx, []quarry.LineageEvent{event("b", run1)})[0])
		if err := s.AcceptLineage(ctx, []quarry.LineageEvent{event("a", run1)})[0]; err != nil {
			t.Fatalf("the same job again: %v", err)
		}
		owner(t, s, run1, "a", "b")
		isConflict(t, s.AcceptLineage(ctx, []quarry.LineageEvent{event("b", run1)})[0]) // and once applied
	})

	t.Run("InOneBatch", func(t *testing.T) {
		s := storetest.MustOpen(t, &store.Options{NoSync: true})
		errs := s.AcceptLineage(ctx, []quarry.LineageEvent{event("a", run1), event("b", run1), event("b", run2)})
		if errs[0] != nil || errs[2] != nil {
			t.Fatalf("per event: %v", errs)
		}
		isConflict(t, errs[1])
		owner(t, s, run1, "a")
		owner(t, s, run2, "b")
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := storetest.MustOpen(t, &store.Options{NoSync: true})
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				ev := event(fmt.Sprintf("j%d", i), run1)
				<-start
				errs[i] = s.AcceptLineage(ctx, []quarry.LineageEvent{ev})[0]
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("jobs j%d and j%d both got run %s accepted", winner, i, run1)
				}
				winner = i
				continue
			}
			isConflict(t, err)
		}
		if winner < 0 {
			t.Fatal("no job got the run")
		}
		owner(t, s, run1, fmt.Sprintf("j%d", winner))
	})

	t.Run("ReportRun", func(t *testing.T) {
		s := storetest.MustOpen(t, &store.Options{NoSync: true})
		if err := s.AcceptLineage(ctx, []quarry.LineageEvent{event("a", run1)})[0]; err != nil {
			t.Fatal(err)
		}
		ev := event("b", run1)
		_, err := s.ApplyLineage(ctx, &ev)
		isConflict(t, err)
		_, errs := s.ApplyLineageBatch(ctx, []quarry.LineageEvent{event("b", run1)})
		isConflict(t, errs[0])
		ev = event("a", run2)
		if _, err := s.ApplyLineage(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		isConflict(t, s.AcceptLineage(ctx, []quarry.LineageEvent{event("b", run2)})[0])
		owner(t, s, run1, "a", "b")
		owner(t, s, run2, "a")
	})

	t.Run("AfterRestart", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "quarry.db")
		quiet := &store.Options{Logger: slog.New(slog.DiscardHandler), NoSync: true}
		s, err := store.Open(path, quiet)
		if err != nil {
			t.Fatal(err)
		}
		evs := make([]quarry.LineageEvent, 0, 500)
		for i := range 500 {
			evs = append(evs, event("a", quarry.NewID("run", "restart", fmt.Sprint(i))))
		}
		for _, err := range s.AcceptLineage(ctx, evs) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if s, err = store.Open(path, quiet); err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		last := evs[len(evs)-1].Run.ID
		isConflict(t, s.AcceptLineage(ctx, []quarry.LineageEvent{event("b", last)})[0])
		owner(t, s, last, "a", "b")
	})
}

// The nil UUID names no run: it is refused.
func TestAcceptLineageNilRunID(t *testing.T) {
	s := storetest.MustOpen(t, &store.Options{NoSync: true})
	ev := runEvent("a", "00000000-0000-0000-0000-000000000000", quarry.RunStart, shT0, nil, nil)
	digest(&ev)
	err := s.AcceptLineage(context.Background(), []quarry.LineageEvent{ev})[0]
	if quarry.ErrorCode(err) != quarry.EINVALID || fieldOf(err) != "run.runId" {
		t.Fatalf("want invalid run.runId, got %v", err)
	}
}

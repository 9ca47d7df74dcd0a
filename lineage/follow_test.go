package lineage_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// flakyEdges is a real store whose Edges reads fail while failures are
// left: a store that fails for a moment, then recovers.
type flakyEdges struct {
	*store.Store
	failures atomic.Int32
}

func (s *flakyEdges) Edges(ctx context.Context, id string, upstream bool) ([]quarry.Edge, error) {
	if s.failures.Add(-1) >= 0 {
		return nil, errors.New("transient read failure")
	}
	return s.Store.Edges(ctx, id, upstream)
}

// TestRunRetriesAFailedCatchUp: a catch-up that fails is tried again
// after a backoff, although nothing else is committed; the backoff doubles
// while the failures go on.
func TestRunRetriesAFailedCatchUp(t *testing.T) {
	t.Run("Once", func(t *testing.T) { runRetries(t, 1, quarry.DefaultFollowBackoff) })
	t.Run("ThreeTimes", func(t *testing.T) { runRetries(t, 3, 7*quarry.DefaultFollowBackoff) }) // 1 + 2 + 4
}

// runRetries fails the reads of the edges failures times after a commit,
// and checks that the graph holds the edge after the backoffs, recover,
// and not before.
func runRetries(t *testing.T, failures int32, recover time.Duration) {
	synctest.Test(t, func(t *testing.T) {
		st := storetest.MustOpen(t, &store.Options{NoSync: true})
		ctx, cancel := context.WithCancel(t.Context())
		if _, err := st.UpsertDatasets(ctx, []quarry.Dataset{{Namespace: ns, Name: "a", Kind: quarry.KindTable}, {Namespace: ns, Name: "b", Kind: quarry.KindTable}}); err != nil {
			t.Fatal(err)
		}
		flaky := &flakyEdges{Store: st}
		g := lineage.NewGraph(flaky, st, &lineage.GraphOptions{Logger: slog.New(slog.DiscardHandler)})
		if err := g.Load(ctx); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { g.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		synctest.Wait() // Run waits for a commit

		flaky.failures.Store(failures)
		edge := quarry.Edge{From: dsID("a"), To: dsID("b"), Origin: quarry.OriginManual}
		if err := st.ReplaceEdges(ctx, quarry.OriginManual, map[string][]quarry.Edge{dsID("b"): {edge}}); err != nil {
			t.Fatal(err)
		}
		linked := func() bool {
			res, err := g.Traverse(ctx, lineage.Query{Start: dsID("a")})
			if err != nil {
				t.Fatal(err)
			}
			return len(res.Edges) == 1
		}
		synctest.Wait() // the commit woke Run, whose catch-up failed
		if left := flaky.failures.Load(); left != failures-1 {
			t.Fatalf("%d reads of the edges failed, want the first alone", failures-left)
		}
		if linked() {
			t.Fatal("the graph holds the edge despite the failure")
		}

		// Nothing else is committed: the retries catch up.
		time.Sleep(recover - time.Millisecond)
		synctest.Wait()
		if linked() {
			t.Fatalf("the graph holds the edge before %v", recover)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if !linked() {
			t.Fatalf("the graph lacks the edge after %v", recover)
		}
		if seq, _ := st.LastSeq(ctx); g.Applied() != seq {
			t.Fatalf("applied %d, the store is at %d", g.Applied(), seq)
		}
	})
}

package search_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// flakyStore is a real store whose Dataset reads fail while failures are
// left: a store that fails for a moment, then recovers.
type flakyStore struct {
	*store.Store
	failures atomic.Int32
}

func (s *flakyStore) Dataset(ctx context.Context, id string) (*quarry.Dataset, error) {
	if s.failures.Add(-1) >= 0 {
		return nil, errors.New("transient read failure")
	}
	return s.Store.Dataset(ctx, id)
}

// clock hands each wait Run asks for to the test, which ends it. (bleve
// analyzes documents in goroutines started when it is imported, so an
// index cannot live in a testing/synctest bubble.)
type clock struct{ waits chan wait }

type wait struct {
	d   time.Duration
	end chan time.Time
}

func (c *clock) After(d time.Duration) <-chan time.Time {
	w := wait{d, make(chan time.Time, 1)}
	c.waits <- w
	return w.end
}

// next returns the next wait Run asks for.
func (c *clock) next(t *testing.T) wait {
	t.Helper()
	select {
	case w := <-c.waits:
		return w
	case <-time.After(10 * time.Second):
		t.Fatal("Run asked for no wait")
		return wait{}
	}
}

// TestRunRetriesAFailedCatchUp: a catch-up that fails is tried again
// after a backoff, although nothing else is committed. Run used to retry
// only at the next commit, so the last write before a quiet spell stayed
// unsearchable.
func TestRunRetriesAFailedCatchUp(t *testing.T) {
	c := newCatalog(t)
	c.idx.Close()
	flaky := &flakyStore{Store: c.st}
	clk := &clock{waits: make(chan wait)}
	idx, err := search.Open(t.Context(), c.dir, flaky, &search.Options{Logger: quiet, Follow: quarry.FollowOptions{After: clk.After}})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { idx.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	flaky.failures.Store(1)
	id := mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: "crm.public.prospects"})
	last, err := c.st.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := func() bool {
		res, err := idx.Search(ctx, search.Query{Text: "prospects"})
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(res.Hits, func(h search.Hit) bool { return h.ID == id })
	}

	// The commit wakes Run, which lets commits gather (unless it was
	// reading already), then fails and backs off.
	backoff := clk.next(t)
	for backoff.d != quarry.DefaultFollowBackoff {
		backoff.end <- time.Now()
		backoff = clk.next(t)
	}
	if flaky.failures.Load() > 0 {
		t.Fatal("the catch-up did not read the dataset")
	}
	if idx.Applied() >= last || found() {
		t.Fatalf("the index applied %d of %d despite the failure", idx.Applied(), last)
	}

	// Nothing else is committed: the retry after the backoff catches up.
	backoff.end <- time.Now()
	waitFor(t, 10*time.Second, func() bool { return idx.Applied() == last })
	if !found() {
		t.Fatal("the dataset is not searchable after the retry")
	}
}

// failingRead is a real store whose nth dataset read fails.
type failingRead struct {
	*store.Store
	reads, n atomic.Int32
}

func (s *failingRead) Dataset(ctx context.Context, id string) (*quarry.Dataset, error) {
	if s.reads.Add(1) == s.n.Load() {
		return nil, errors.New("transient read failure")
	}
	return s.Store.Dataset(ctx, id)
}

// Records read at once beyond a batch (a rebuild's, or a follower's with
// a Follow.Limit above it) are indexed in several batches at once, and the
// sequence after them: a batch that fails leaves the sequence where it
// was, whatever the others wrote, and the next catch-up indexes the whole
// backlog, each dataset in its newest state.
func TestCatchUpWritesABacklogInBatches(t *testing.T) {
	ctx := t.Context()
	st := &failingRead{Store: storetest.MustOpen(t, &store.Options{Logger: quiet, NoSync: true})}
	const n = 2500 // three batches
	var ds []quarry.Dataset
	for i := range n {
		ds = append(ds, quarry.Dataset{Namespace: "postgres://db:5432", Name: fmt.Sprintf("crm.public.backlog_%04d", i), Provided: quarry.Metadata{Description: "As first written."}})
	}
	for i := 0; i < n; i += 500 {
		mustUpsert(t, st.Store, ds[i:i+500]...)
	}
	edited := ds[1234]
	edited.Provided.Description = "Written over at the end."
	mustUpsert(t, st.Store, edited)
	dir := t.TempDir()
	opts := &search.Options{Logger: quiet, Follow: quarry.FollowOptions{Limit: 4000}}
	idx, err := search.Open(ctx, dir, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	st.n.Store(n / 2)
	if err := idx.CatchUp(ctx); err == nil || !strings.Contains(err.Error(), "transient read failure") {
		t.Fatalf("a catch-up whose read failed: %v", err)
	}
	idx.Close()
	if idx, err = search.Open(ctx, dir, st, opts); err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if idx.Applied() != 0 {
		t.Fatalf("after a failed catch-up the index claims the changelog up to %d", idx.Applied())
	}
	if err := idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if seq, _ := st.LastSeq(ctx); idx.Applied() != seq {
		t.Errorf("applied up to %d, the store is at %d", idx.Applied(), seq)
	}
	res, err := idx.Search(ctx, search.Query{})
	if err != nil || res.Total != n {
		t.Fatalf("the index holds %d datasets (%v), want %d", res.Total, err, n)
	}
	for text, want := range map[string]int{`"written over at the end"`: 1, `"as first written"`: n - 1} {
		res, err := idx.Search(ctx, search.Query{Text: text})
		if err != nil || res.Total != want {
			t.Errorf("%s: %d datasets (%v), want %d", text, res.Total, err, want)
		}
	}
}

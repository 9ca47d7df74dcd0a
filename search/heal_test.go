package search_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/demo"
	"github.com/quarrydata/quarry/search"
)

// damageSegments overwrites bytes in the middle of every segment file of
// the index in dir, in place, and reports how many it damaged.
func damageSegments(t *testing.T, dir string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		mid := b[len(b)/2-32 : len(b)/2+32]
		for i := range mid {
			mid[i] ^= 0x5a
		}
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(mid, int64(len(b)/2-32)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return len(files)
}

// TestDamagedSegmentIsRebuilt: a segment file with bytes overwritten
// inside is noticed on open (its checksum fails); searches answer
// unavailable, never a 200 with nonsense, until the index rebuilt from the
// store by itself answers as before. bleve used to open it without a
// word, and searches panicked.
func TestDamagedSegmentIsRebuilt(t *testing.T) {
	c := newCatalog(t)
	want := c.names(t, search.Query{Text: "revenue"})
	c.idx.Close()
	if damageSegments(t, c.dir) == 0 {
		t.Fatal("no segment files")
	}
	reg := prometheus.NewRegistry()
	idx, err := search.Open(t.Context(), c.dir, c.st, &search.Options{Logger: quiet, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if _, err := idx.Search(t.Context(), search.Query{Text: "revenue"}); quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Fatalf("a search before the rebuild: %v, want unavailable", err)
	}
	if got := idx.Status(); got != "rebuilding" {
		t.Fatalf("status %q, want rebuilding", got)
	}
	if n := counter(t, reg, "quarry_search_index_faults_total", "checksum"); n != 1 {
		t.Fatalf("checksum faults counted: %v", n)
	}
	done := make(chan struct{})
	rctx, stop := contextWithCancel(t.Context())
	go func() { idx.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()
	waitFor(t, 10*time.Second, func() bool { return idx.Status() == "ok" })
	c.idx = idx
	if got := c.names(t, search.Query{Text: "revenue"}); !slices.Equal(got, want) {
		t.Fatalf("after the rebuild: %v, want %v", got, want)
	}
}

// TestPanicInWriteIsRecovered: a panic inside bleve while the follower
// writes (zapx's, on a full disk) becomes an error: the process lives, the
// old index keeps serving, and once writes succeed again the index is
// rebuilt by itself and holds the write.
func TestPanicInWriteIsRecovered(t *testing.T) {
	c := newCatalog(t)
	c.idx.Close()
	reg := prometheus.NewRegistry()
	idx, err := search.Open(t.Context(), c.dir, c.st, &search.Options{Logger: quiet, Registerer: reg, Follow: quarry.FollowOptions{Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	var full atomic.Bool
	full.Store(true)
	idx.SetWriteForTest(func() error {
		if full.Load() {
			panic("assignment to entry in nil map")
		}
		return nil
	})
	rctx, stop := contextWithCancel(t.Context())
	done := make(chan struct{})
	go func() { idx.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()

	mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: "crm.public.prospects"})
	waitFor(t, 10*time.Second, func() bool {
		return counter(t, reg, "quarry_search_index_faults_total", "write_panic") > 1
	})
	if idx.Status() != "rebuilding" {
		t.Fatalf("status %q while writes panic", idx.Status())
	}
	c.idx = idx
	if got := c.names(t, search.Query{Text: "daily_revenue"}); len(got) == 0 {
		t.Fatal("the old index stopped serving")
	}
	full.Store(false)
	waitFor(t, 10*time.Second, func() bool { return idx.Status() == "ok" })
	if got := c.names(t, search.Query{Text: "prospects"}); !slices.Contains(got, "crm.public.prospects") {
		t.Fatalf("after space came back: %v", got)
	}
	if n := counter(t, reg, "quarry_search_index_rebuilds_total", "suspect"); n != 1 {
		t.Fatalf("rebuilds counted: %v", n)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestFirstBuildAnswersUnavailable: an index built from nothing answers
// unavailable until it has caught up, where it answered 200 with total 0.
func TestFirstBuildAnswersUnavailable(t *testing.T) {
	c := newCatalog(t)
	c.idx.Close()
	os.RemoveAll(c.dir)
	idx, err := search.Open(t.Context(), c.dir, c.st, &search.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if res, err := idx.Search(t.Context(), search.Query{Text: "revenue"}); quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Fatalf("before the build: %+v %v, want unavailable", res, err)
	}
	if idx.Status() != "rebuilding" {
		t.Fatalf("status %q", idx.Status())
	}
	if err := idx.CatchUp(t.Context()); err != nil {
		t.Fatal(err)
	}
	if res, err := idx.Search(t.Context(), search.Query{Text: "revenue"}); err != nil || res.Total == 0 {
		t.Fatalf("after the build: %+v %v", res, err)
	}
	if idx.Status() != "ok" {
		t.Fatalf("status %q after the build", idx.Status())
	}
}

// A rebuild builds in batches, each a segment, and merges them into one
// before it serves: the index it swaps in does not merge for minutes after.
func TestRebuildSettles(t *testing.T) {
	c := newCatalog(t)
	ctx := context.Background()
	for i := range 40 {
		mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: fmt.Sprintf("crm.public.settled_%02d", i)})
	}
	for i := range 40 { // each dataset's changes in different batches
		mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: fmt.Sprintf("crm.public.settled_%02d", i),
			Provided: quarry.Metadata{Description: fmt.Sprintf("Settled as %02d.", i)}})
	}
	if err := c.idx.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	c.idx.SetRebuildBatchForTest(4) // tens of segments, built in lanes
	if err := c.idx.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if seq, _ := c.st.LastSeq(ctx); c.idx.Applied() != seq {
		t.Errorf("the rebuilt index applied up to %d, the store is at %d", c.idx.Applied(), seq)
	}
	if got := c.names(t, search.Query{Text: "settled as 07"}); len(got) == 0 || got[0] != "crm.public.settled_07" {
		t.Errorf("settled as 07: %v", got)
	}
	if n := c.idx.SegmentsForTest(); n != 1 {
		t.Errorf("the rebuilt index serves %d segments, want 1", n)
	}
	res, err := c.idx.Search(ctx, search.Query{})
	if want := len(demo.Datasets()) + 40; err != nil || res.Total != want {
		t.Fatalf("the rebuilt index holds %d datasets (%v), want %d", res.Total, err, want)
	}
	if got := c.names(t, search.Query{Text: "settled_17"}); len(got) == 0 || got[0] != "crm.public.settled_17" {
		t.Fatalf("settled_17: %v", got)
	}
	// Reopened, it is as it was merged (the merge was persisted).
	c.idx.Close()
	c.open(t)
	if n := c.idx.SegmentsForTest(); n != 1 {
		t.Errorf("reopened, the rebuilt index has %d segments, want 1", n)
	}
}

// TestDamagedAtRestIsFoundAtStart: an index closed cleanly opens without
// its segment files read through (they are as it closed them), and Run
// verifies them at once: a file damaged at rest, its size and time kept,
// is found a moment after the start and the index rebuilt.
func TestDamagedAtRestIsFoundAtStart(t *testing.T) {
	c := newCatalog(t)
	want := c.names(t, search.Query{Text: "revenue"})
	c.idx.Close()
	files, err := filepath.Glob(filepath.Join(c.dir, "store", "*.zap"))
	if err != nil || len(files) == 0 {
		t.Fatalf("segment files: %v %v", files, err)
	}
	stamps := map[string]os.FileInfo{}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		stamps[f] = fi
	}
	damageSegments(t, c.dir)
	for f, fi := range stamps {
		if err := os.Chtimes(f, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	idx, err := search.Open(t.Context(), c.dir, c.st, &search.Options{Logger: quiet, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	if n := counter(t, reg, "quarry_search_index_faults_total", "checksum"); n != 0 {
		t.Fatalf("checksum faults counted at open: %v, want 0 (the files were trusted as closed)", n)
	}
	done := make(chan struct{})
	rctx, stop := contextWithCancel(t.Context())
	go func() { idx.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()
	waitFor(t, 10*time.Second, func() bool {
		return counter(t, reg, "quarry_search_index_faults_total", "checksum") == 1
	})
	waitFor(t, 10*time.Second, func() bool { return idx.Status() == "ok" })
	c.idx = idx
	if got := c.names(t, search.Query{Text: "revenue"}); !slices.Equal(got, want) {
		t.Fatalf("after the rebuild: %v, want %v", got, want)
	}
	// A clean close again lists the rebuilt files; a crash (no close)
	// leaves no listing, and the next open verifies every file.
	if err := idx.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "closed-segments")); err != nil {
		t.Fatalf("no listing after a clean close: %v", err)
	}
}

package search_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/internal/disktest"
	"github.com/quarrydata/quarry/search"
)

// Defect 4 of issue 15: on a full disk, bleve's failed persist left an
// in-memory segment whose caches were gone, so the next batch and every
// search panicked, and its persister retried the write without pause. The
// index lives on a small tmpfs here (the store beside it on the ordinary
// disk): once it is full, the follower stops applying, searches answer
// from what was persisted, nothing spins, and once the ballast is gone the
// follower catches up by itself.
func TestFullDiskStopsAndResumes(t *testing.T) {
	c := newCatalog(t)
	idx, disk, ctx := onSmallDisk(t, c)
	search := func(text string) []string {
		t.Helper()
		res, err := idx.Search(ctx, search.Query{Text: text})
		if err != nil {
			t.Fatalf("search %q: %v", text, err)
		}
		var names []string
		for _, h := range res.Hits {
			names = append(names, h.Dataset.Name)
		}
		return names
	}
	before := len(search("orders"))

	// Write until the index finds the disk full. A merge of its segments
	// can free a little space that the next small segment fits in: the
	// ballast takes back whatever is freed each round.
	ballast := disktest.Fill(t, disk, 0)
	n := 0
	waitFor(t, 20*time.Second, func() bool {
		if n < 10 {
			mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: fmt.Sprintf("crm.public.full_%d", n)})
			n++
		}
		disktest.Fill(t, disk, 0)
		return n == 10 && idx.Degraded() != ""
	})
	for range 3 { // searches and the follower's retries meet no poisoned segment
		if got := len(search("orders")); got != before {
			t.Fatalf("on the full disk, orders finds %d datasets, %d before", got, before)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if cpu := cpuDuring(t, 2*time.Second); cpu > 500*time.Millisecond {
		t.Errorf("the process used %v of CPU in 2 s on the full disk, idle: something retries without pause", cpu)
	}
	if idx.Status() != "ok" {
		t.Errorf("status %q: a full disk needs no rebuild", idx.Status())
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	last, err := c.st.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() bool { return idx.Applied() == last && idx.Degraded() == "" })
	if got := search("full_9"); !slices.Contains(got, "crm.public.full_9") {
		t.Fatalf("after space was freed, full_9 finds %v", got)
	}
}

// With room for the follower's small batches but not for bleve's merges,
// the merger retried its merge without pause (a core busy for as long as
// no batch failed) while the follower noticed nothing. As the disk fills
// step by step, a write at each step, nothing spins at any step: the index
// stops for the full disk, answers searches, and resumes once there is
// space.
func TestFullDiskMergerStops(t *testing.T) {
	c := newCatalog(t)
	idx, disk, ctx := onSmallDisk(t, c)
	var ballast string
	for i, leave := range []int64{48 << 10, 32 << 10, 16 << 10, 0} {
		ballast = disktest.Fill(t, disk, leave)
		mustUpsert(t, c.st, quarry.Dataset{Namespace: "postgres://db:5432", Name: fmt.Sprintf("crm.public.merge_%d", i)})
		time.Sleep(2500 * time.Millisecond) // the follower's batch, then a merge, a failure, a check
		if cpu := cpuDuring(t, 1500*time.Millisecond); cpu > 400*time.Millisecond {
			t.Errorf("with %d KiB left, the process used %v of CPU in 1.5 s, idle: something retries without pause", leave>>10, cpu)
		}
		if res, err := idx.Search(ctx, search.Query{Text: "orders"}); err != nil || res.Total == 0 {
			t.Fatalf("a search with %d KiB left: %v %v", leave>>10, res, err)
		}
	}
	if idx.Degraded() == "" {
		t.Fatal("on the full disk the index does not say so")
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	last, err := c.st.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() bool { return idx.Applied() == last && idx.Degraded() == "" })
	res, err := idx.Search(ctx, search.Query{Text: "merge_3"})
	if err != nil || res.Total == 0 {
		t.Fatalf("after space was freed, merge_3: %v %v", res, err)
	}
}

// cpuDuring returns the CPU time the process uses during d.
func cpuDuring(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	used := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := used()
	time.Sleep(d)
	return used() - start
}

// Opened on a disk too full to create an index in, the index comes up
// (it did not: search.Open failed, and so did the server's start), answers
// unavailable rather than nothing, says why, and is built once there is
// space.
func TestFullDiskOpenWithoutIndex(t *testing.T) {
	c := newCatalog(t)
	c.idx.Close()
	disk := disktest.Mount(t, 1<<20)
	ballast := disktest.Fill(t, disk, 0)
	idx, err := search.Open(t.Context(), filepath.Join(disk, "index"), c.st, &search.Options{Logger: quiet,
		Follow: quarry.FollowOptions{Backoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}})
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	defer idx.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { idx.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if _, err := idx.Search(ctx, search.Query{Text: "orders"}); quarry.ErrorCode(err) != quarry.EUNAVAILABLE {
		t.Fatalf("a search with no index: %v", err)
	}
	if idx.Degraded() == "" || idx.Status() != "rebuilding" {
		t.Fatalf("degraded %q, status %q", idx.Degraded(), idx.Status())
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return idx.Status() == "ok" && idx.Degraded() == "" })
	res, err := idx.Search(ctx, search.Query{Text: "orders"})
	if err != nil || res.Total == 0 {
		t.Fatalf("after space was freed: %v %v", res, err)
	}
}

// onSmallDisk moves c's index to a 4 MiB tmpfs and runs its follower
// there until the test ends; it returns the index once it is caught up,
// the tmpfs, and the follower's context.
func onSmallDisk(t *testing.T, c *catalog) (*search.Index, string, context.Context) {
	t.Helper()
	c.idx.Close()
	disk := disktest.Mount(t, 4<<20)
	idx, err := search.Open(t.Context(), filepath.Join(disk, "index"), c.st, &search.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { idx.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; idx.Close() })
	waitFor(t, 30*time.Second, func() bool { return idx.Status() == "ok" })
	return idx, disk, ctx
}

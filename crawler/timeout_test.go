package crawler_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/store"
)

// TestFrozenSource: a crawl of a PostgreSQL server stopped by SIGSTOP (it
// keeps its connections open, the kernel still accepts new ones, nothing
// answers) fails within its deadline, with a *TimeoutError saying what ran
// out of time, and removes nothing; the source's next crawl is accepted.
// The server is the test's own: freezing the shared one would stall the
// package's other tests.
func TestFrozenSource(t *testing.T) {
	pgs := pgtest.New(t)
	t.Cleanup(func() { pgs.Thaw() }) // before Stop: cleanups run last first
	dsn := pgs.Database(t, "shop", "CREATE TABLE orders (id int, total numeric); CREATE VIEW big_orders AS SELECT id FROM orders WHERE total > 100")
	ctx := context.Background()
	st := openStore(t)
	if res := crawl(t, st, dsn, crawler.Options{}); res.Datasets != 2 {
		t.Fatalf("the first crawl: %+v", res)
	}

	// frozenCrawl crawls, freezing the server once the crawl has read
	// `after` catalog queries, and thaws it when the crawl has ended.
	frozenCrawl := func(t *testing.T, after int, o crawler.Options) (time.Duration, error) {
		t.Helper()
		o.Progress = func(p crawler.Progress) {
			if p.Phase == "catalog" && p.Done == after {
				if err := pgs.Freeze(); err != nil {
					t.Errorf("freeze: %v", err)
				}
			}
		}
		defer pgs.Thaw()
		return crawlWithin(t, 30*time.Second, func() error {
			_, err := crawler.CrawlPostgres(ctx, st, dsn, o)
			return err
		})
	}
	check := func(t *testing.T, took time.Duration, err error, what string, limit time.Duration) {
		t.Helper()
		te, ok := errors.AsType[*crawler.TimeoutError](err)
		if !ok || !strings.Contains(te.What, what) || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("the crawl of a frozen server: %v, want a timeout of %s", err, what)
		}
		if took > limit {
			t.Fatalf("the crawl of a frozen server took %s, want at most %s", took, limit)
		}
		page, err := st.ListDatasets(ctx, store.ListOptions{})
		if err != nil || page.Total != 2 {
			t.Fatalf("after a timed-out crawl, %d datasets (%v), want the 2 it had: it removed some", page.Total, err)
		}
	}

	t.Run("Query", func(t *testing.T) {
		took, err := frozenCrawl(t, 2, crawler.Options{QueryTimeout: time.Second})
		check(t, took, err, "catalog query", 10*time.Second)
	})
	t.Run("Crawl", func(t *testing.T) {
		took, err := frozenCrawl(t, 2, crawler.Options{Timeout: 3 * time.Second})
		check(t, took, err, "the crawl", 12*time.Second)
	})
	t.Run("Connect", func(t *testing.T) {
		if err := pgs.Freeze(); err != nil {
			t.Fatal(err)
		}
		took, err := frozenCrawl(t, -1, crawler.Options{ConnectTimeout: time.Second})
		check(t, took, err, "connecting", 10*time.Second)
	})

	// Through the service: the run is FAILED saying it timed out, and the
	// source's next crawl is accepted (a hung one refused them all).
	t.Run("Service", func(t *testing.T) {
		svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler),
			Policy: crawler.SourcePolicy{ConnectTimeout: 2 * time.Second, QueryTimeout: 2 * time.Second, Timeout: 10 * time.Second}})
		if _, err := svc.Register(ctx, quarry.Source{Name: "shop", Kind: quarry.SourcePostgres, DSN: dsn}); err != nil {
			t.Fatal(err)
		}
		if err := pgs.Freeze(); err != nil {
			t.Fatal(err)
		}
		var run *quarry.CrawlRun
		took, err := crawlWithin(t, 30*time.Second, func() (err error) {
			run, err = svc.Crawl(ctx, "shop")
			return err
		})
		pgs.Thaw()
		if err != nil || run.Status != quarry.CrawlFailed || !strings.Contains(run.Error, "timed out") || took > 10*time.Second {
			t.Fatalf("the crawl of a frozen source: %+v %v after %s, want FAILED, timed out", run, err, took)
		}
		if runs, _ := st.CrawlRuns(ctx, "shop", 1); len(runs) != 1 || runs[0].Status != quarry.CrawlFailed {
			t.Fatalf("the recorded run: %+v", runs)
		}
		// The thawed server first works off what queued while it was
		// frozen; on a busy machine that can take longer than the test's
		// short connect timeout.
		if err := pgs.Exec(ctx, "shop", "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		run, err = svc.Crawl(ctx, "shop")
		if err != nil || run.Status != quarry.CrawlSucceeded {
			t.Fatalf("the crawl after the server thawed: %+v %v", run, err)
		}
	})
}

// crawlWithin runs f and returns how long it took, failing the test
// (instead of hanging it) when f has not returned within limit.
func crawlWithin(t *testing.T, limit time.Duration, f func() error) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(limit):
		t.Fatalf("the crawl still runs after %s", limit)
		return 0, nil
	}
}

package crawler_test

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
)

// TestServiceSchedulesCrawls: an @every source is crawled each time it is
// due, and Run stops when its context ends. The schedule runs on the fake
// clock of a synctest bubble; the crawls are real.
func TestServiceSchedulesCrawls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		st := openStore(t)
		svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
		if _, err := svc.Register(ctx, quarry.Source{Name: "chinook", Kind: quarry.SourcePostgres, DSN: pg.DSN("chinook"), Schedule: "@every 1h"}); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { svc.Run(ctx); close(done) }()

		crawled := func(want int) {
			t.Helper()
			runs, err := st.CrawlRuns(ctx, "chinook", 10)
			if err != nil || len(runs) != want {
				t.Fatalf("at %s, %d runs (%v), want %d: %+v", time.Now().Format(time.TimeOnly), len(runs), err, want, runs)
			}
			if want > 0 && (runs[0].Status != quarry.CrawlSucceeded || runs[0].Counts.Datasets != 11) {
				t.Fatalf("the scheduled crawl did not succeed: %+v", runs[0])
			}
		}
		time.Sleep(time.Hour - time.Second)
		synctest.Wait()
		crawled(0)
		time.Sleep(2 * time.Second) // due: the crawl runs (real I/O) until every goroutine waits again
		synctest.Wait()
		crawled(1)
		time.Sleep(time.Hour)
		synctest.Wait()
		crawled(2)

		cancel()
		<-done
	})
}

func TestServiceOneCrawlPerSource(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	if _, err := svc.Register(ctx, quarry.Source{Name: "adventureworks", Kind: quarry.SourcePostgres, DSN: pg.DSN("adventureworks")}); err != nil {
		t.Fatal(err)
	}
	run, done, err := svc.Start(ctx, "adventureworks")
	if err != nil || run.Status != quarry.CrawlRunning {
		t.Fatalf("start: %+v %v", run, err)
	}
	if _, _, err := svc.Start(ctx, "adventureworks"); quarry.ErrorCode(err) != quarry.ECONFLICT {
		t.Fatalf("a second crawl of a source being crawled: %v", err)
	}
	<-done
	runs, _ := st.CrawlRuns(ctx, "adventureworks", 5)
	if len(runs) != 1 || runs[0].Status != quarry.CrawlSucceeded || runs[0].FinishedAt == nil {
		t.Fatalf("runs: %+v", runs)
	}
	if _, _, err := svc.Start(ctx, "adventureworks"); err != nil {
		t.Fatalf("a crawl after the first ended: %v", err)
	}
	svc.Wait()
}

func TestServiceClosesInterruptedRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st := openStore(t)
	if _, err := st.PutSource(ctx, quarry.Source{Name: "n", Kind: quarry.SourcePostgres, DSN: pg.DSN("northwind"), Namespace: "postgres://x:5432"}); err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	if err := st.PutCrawlRun(ctx, quarry.CrawlRun{Source: "n", StartedAt: started, Status: quarry.CrawlRunning}); err != nil {
		t.Fatal(err)
	}
	svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	cancel() // it must work with a cancelled context too
	svc.CloseInterrupted(ctx)
	runs, _ := st.CrawlRuns(context.Background(), "n", 5)
	if len(runs) != 1 || runs[0].Status != quarry.CrawlFailed || runs[0].Error == "" {
		t.Fatalf("interrupted run: %+v", runs)
	}
}

// TestScheduleSurvivesOtherRegistrations: registering or editing another
// source must not restart every schedule (an @every source would starve).
func TestScheduleSurvivesOtherRegistrations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		st := openStore(t)
		svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
		if _, err := svc.Register(ctx, quarry.Source{Name: "chinook", Kind: quarry.SourcePostgres, DSN: pg.DSN("chinook"), Schedule: "@every 1m"}); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { svc.Run(ctx); close(done) }()
		for range 6 { // 90 s; the first crawl is due after 60 s
			time.Sleep(15 * time.Second)
			if _, err := svc.Register(ctx, quarry.Source{Name: "other", Kind: quarry.SourcePostgres, DSN: pg.DSN("northwind")}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		runs, _ := st.CrawlRuns(ctx, "chinook", 10)
		cancel()
		<-done
		if len(runs) == 0 {
			t.Fatal("an @every 1m source was never crawled while another source was being registered every 15 s")
		}
	})
}

// TestServiceStartFirst: a source never crawled is crawled at once;
// once it has a run, and while one runs, StartFirst starts none.
func TestServiceStartFirst(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := crawler.NewService(st, &crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	if _, err := svc.Register(ctx, quarry.Source{Name: "chinook", Kind: quarry.SourcePostgres, DSN: pg.DSN("chinook"), Schedule: "@every 6h"}); err != nil {
		t.Fatal(err)
	}
	run, err := svc.StartFirst(ctx, "chinook")
	if err != nil || run == nil || run.Status != quarry.CrawlRunning {
		t.Fatalf("the first crawl: %+v %v", run, err)
	}
	if run, err := svc.StartFirst(ctx, "chinook"); err != nil || run != nil {
		t.Fatalf("StartFirst while the first crawl runs: %+v %v, want none", run, err)
	}
	svc.Wait()
	if run, err := svc.StartFirst(ctx, "chinook"); err != nil || run != nil {
		t.Fatalf("StartFirst after the first crawl: %+v %v, want none", run, err)
	}
	if runs, _ := st.CrawlRuns(ctx, "chinook", 5); len(runs) != 1 || runs[0].Status != quarry.CrawlSucceeded {
		t.Fatalf("runs: %+v", runs)
	}
	if _, err := svc.StartFirst(ctx, "nope"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
		t.Fatalf("StartFirst of an unknown source: %v, want not_found", err)
	}
}

package crawler_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
)

func TestServiceSchedulesCrawls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openStore(t)
	svc := crawler.NewService(st, crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	if _, err := svc.Register(ctx, quarry.Source{Name: "chinook", Kind: quarry.SourcePostgres, DSN: pg.DSN("chinook"), Schedule: "@every 1s"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()

	deadline := time.Now().Add(20 * time.Second)
	var runs []quarry.CrawlRun
	for time.Now().Before(deadline) {
		runs, _ = st.CrawlRuns(ctx, "chinook", 10)
		if len(runs) > 0 && runs[0].Status == quarry.CrawlSucceeded {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(runs) == 0 || runs[0].Status != quarry.CrawlSucceeded || runs[0].Counts.Datasets != 11 {
		t.Fatalf("no scheduled crawl succeeded: %+v", runs)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the scheduler did not stop")
	}
}

func TestServiceOneCrawlPerSource(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	svc := crawler.NewService(st, crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
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
	svc := crawler.NewService(st, crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := openStore(t)
	svc := crawler.NewService(st, crawler.ServiceOptions{Logger: slog.New(slog.DiscardHandler)})
	if _, err := svc.Register(ctx, quarry.Source{Name: "chinook", Kind: quarry.SourcePostgres, DSN: pg.DSN("chinook"), Schedule: "@every 2s"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	var runs []quarry.CrawlRun
	for i := 0; i < 40 && len(runs) == 0; i++ { // up to 20 s; the first crawl is due after 2 s
		time.Sleep(500 * time.Millisecond)
		if _, err := svc.Register(ctx, quarry.Source{Name: "other", Kind: quarry.SourcePostgres, DSN: pg.DSN("northwind")}); err != nil {
			t.Fatal(err)
		}
		runs, _ = st.CrawlRuns(ctx, "chinook", 10)
	}
	cancel()
	<-done
	if len(runs) == 0 {
		t.Fatal("an @every 2s source was never crawled while another source was being registered every 0.5 s")
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/ui"
)

// Files in the data directory.
const (
	storeFile  = "quarry.db"
	indexDir   = "index"       // the search index, derived from the store
	serverFile = "server.json" // where a running server listens, for `quarry backup`
)

type serverInfo struct {
	Addr string `json:"addr"`
	PID  int    `json:"pid"`
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	configPath := fs.String("config", "", "YAML config file")
	addr := fs.String("addr", "", "listen address (default 127.0.0.1:8080)")
	data := fs.String("data", "", "data directory (default ./quarry-data)")
	demo := fs.Bool("demo", false, "load the demo catalog")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", fs.Args())}
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			cfg.Addr = *addr
		case "data":
			cfg.Data = *data
		case "demo":
			cfg.Demo = *demo
		}
	})
	return serve(ctx, cfg, stderr)
}

// serve runs the server until ctx is cancelled, then shuts down: in-flight
// requests finish, queued writes commit, the store closes cleanly.
func serve(ctx context.Context, cfg Config, stderr io.Writer) error {
	log := newLogger(cfg.Log, stderr)
	graph.SetServingGC() // collections 4x rarer: search's tail latency (see there)
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	st, err := store.Open(filepath.Join(cfg.Data, storeFile), &store.Options{Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	if cfg.Demo {
		if err := seedDemo(ctx, st, log); err != nil {
			return err
		}
	}

	// Crawls live until shutdown begins; serve waits for them (they stop at
	// once when cancelled) before the store closes.
	crawlCtx, stopCrawls := context.WithCancel(ctx)
	crawls := crawler.NewService(st, crawler.ServiceOptions{Context: crawlCtx, Logger: log})
	crawls.CloseInterrupted(ctx)
	for i, sc := range cfg.Sources {
		if _, err := crawls.Register(ctx, sc.source()); err != nil {
			stopCrawls()
			return fmt.Errorf("config: sources[%d] (%s): %w", i, sc.Name, err)
		}
	}
	defer background(crawlCtx, stopCrawls, crawls.Run)()

	// The search index follows the store; Run catches it up (or rebuilds
	// it, while the old one serves) and stops before the store closes.
	idx, err := search.Open(ctx, filepath.Join(cfg.Data, indexDir), st, &search.Options{Logger: log})
	if err != nil {
		return err
	}
	defer idx.Close()
	indexCtx, stopIndex := context.WithCancel(context.Background())
	defer background(indexCtx, stopIndex, idx.Run)()

	// The lineage graph lives in memory: built from the store now, then
	// following it as writes commit.
	lin := lineage.NewGraph(st, st, &lineage.GraphOptions{MaxDepth: cfg.Lineage.MaxDepth, MaxLimit: cfg.Lineage.MaxNodes, Logger: log})
	if err := lin.Load(ctx); err != nil {
		return fmt.Errorf("lineage graph: %w", err)
	}
	graphCtx, stopGraph := context.WithCancel(context.Background())
	defer background(graphCtx, stopGraph, lin.Run)()

	defaults, err := cfg.freshnessDefaults()
	if err != nil {
		return err
	}
	interval, hooks, err := cfg.alerts(os.Getenv)
	if err != nil {
		return err
	}
	alerter := alert.New(st, alert.Options{Defaults: defaults, Webhooks: hooks, Interval: interval, Logger: log})
	alertCtx, stopAlerts := context.WithCancel(context.Background())
	defer background(alertCtx, stopAlerts, alerter.Run)()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: graph.NewHandler(graph.HandlerConfig{
			Backend:           st,
			Crawls:            crawls,
			Search:            idx,
			Lineage:           lin,
			FreshnessDefaults: defaults,
			Reindex:           idx.Rebuild,
			Logger:            log,
			Registerer:        reg,
			Gatherer:          reg,
			UI:                ui.Handler(),
			Limits:            cfg.limits(),
			Version:           buildVersion(),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	info := filepath.Join(cfg.Data, serverFile)
	if err := writeServerInfo(info, ln.Addr().String()); err != nil {
		log.Warn("could not record the listen address; `quarry backup` will need --server", "err", err)
	}
	defer os.Remove(info)

	log.Info("quarry listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/", "data", cfg.Data, "version", buildVersion())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// A second Ctrl-C or SIGTERM ends the process at once.
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown did not finish in time; closing connections", "err", err)
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// seedDemo loads the demo catalog through the same store API as real data.
// It is idempotent: loading it again changes nothing but adding the ETL
// runs that happened since the last load.
func seedDemo(ctx context.Context, st *store.Store, log *slog.Logger) error {
	ctx = quarry.WithActor(ctx, "demo")
	// Earlier versions go in first, once, so the demo has schema history.
	var earlier []quarry.Dataset
	for _, d := range quarry.DemoEarlierVersions() {
		if _, err := st.DatasetByName(ctx, d.Namespace, d.Name); quarry.ErrorCode(err) == quarry.ENOTFOUND {
			earlier = append(earlier, d)
		}
	}
	if len(earlier) > 0 {
		if _, err := st.UpsertDatasets(ctx, earlier); err != nil {
			return fmt.Errorf("demo catalog: %w", err)
		}
	}
	res, err := st.UpsertDatasets(ctx, quarry.DemoDatasets())
	if err != nil {
		return fmt.Errorf("demo catalog: %w", err)
	}
	if err := st.ReplaceEdges(ctx, quarry.OriginCatalog, quarry.DemoCatalogEdges()); err != nil {
		return fmt.Errorf("demo lineage: %w", err)
	}
	// Runs already loaded keep their outcome: which runs fail is relative
	// to now, and a run must not change its story between restarts.
	var evs []quarry.LineageEvent
	for _, ev := range quarry.DemoLineageEvents(time.Now()) {
		if _, err := st.Run(ctx, ev.Run.ID); quarry.ErrorCode(err) == quarry.ENOTFOUND {
			evs = append(evs, ev)
		}
	}
	results, errs := st.ApplyLineageBatch(ctx, evs)
	stored := 0
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("demo runs: %w", err)
		}
		if !results[i].Duplicate {
			stored++
		}
	}
	for _, p := range quarry.DemoFreshnessPolicies() {
		d, err := st.DatasetByName(ctx, p.Namespace, p.Name)
		var cur *quarry.FreshnessPolicy
		if err == nil {
			cur, err = st.FreshnessPolicy(ctx, d.ID)
		}
		if err == nil && (cur == nil || *cur != p.Policy) {
			err = st.SetFreshnessPolicy(ctx, d.ID, &p.Policy)
		}
		if err != nil {
			return fmt.Errorf("demo freshness policy of %s: %w", p.Name, err)
		}
	}
	log.Info("demo catalog loaded", "datasets", len(res.IDs), "changed", res.Changed, "lineage events", len(evs), "new", stored)
	return nil
}

func writeServerInfo(path, addr string) error {
	b, err := json.Marshal(serverInfo{Addr: addr, PID: os.Getpid()})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// background runs loop(ctx) in a goroutine and returns a function that
// stops it (cancel) and waits for it to return: defer it, so the loop ends
// before what it uses closes.
func background(ctx context.Context, cancel context.CancelFunc, loop func(context.Context)) (stop func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Package server is Quarry's HTTP edge and the wiring behind it. It owns
// the routes (the GraphQL endpoint that package graph provides, the MCP
// endpoint that package mcpserver provides, the OpenLineage endpoints,
// healthz, metrics, backup, reindex, the UI), who
// makes each request and the one table of the role each route needs
// (access.go), the limits on request bodies, the one table from a quarry error code to an
// HTTP status with the one shape of an error answer, and Server, which opens
// the store and what derives from it (the search index, the lineage graph,
// the crawl service), runs their background loops, serves, and closes them
// in order. `quarry serve` and the tests wire a server through it, so they
// run the same one.
//
// It must not hold business logic: a handler reads the request, calls the
// store or another package, and writes the answer. Process concerns (flags,
// config files, signals, the garbage collector) belong to cmd/quarry.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
)

// Files in a data directory.
const (
	StoreFile = "quarry.db" // the store: the source of truth
	IndexDir  = "index"     // the search index, derived from the store
)

// Options configure Open. Nil means defaults; so do zero fields.
type Options struct {
	// Logger receives operational messages. Nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics of the store and of the HTTP API;
	// nil exports none. Gatherer serves /metrics; nil serves none.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Now is the clock of the store and of the resolvers. Nil means
	// time.Now; tests inject one.
	Now func() time.Time
	// Getenv reads the environment variables sources name for their DSNs.
	// Nil means os.Getenv.
	Getenv func(string) string
	// Crawl bounds the crawls of registered sources; zero fields take
	// the crawler's defaults.
	Crawl crawler.SourcePolicy

	// LineageMaxDepth and LineageMaxNodes bound a lineage traversal; zero
	// means lineage's defaults.
	LineageMaxDepth, LineageMaxNodes int
	// SearchSynonyms are the search index's synonyms (search.Options).
	SearchSynonyms [][]string
	// FreshnessDefaults are the config's default freshness policies.
	FreshnessDefaults []quarry.PolicyDefault
	// Alerts configure the alert evaluator and webhook delivery that Start
	// runs; their Defaults are FreshnessDefaults, and their Logger and Now
	// the server's unless set. Nil runs none (tests that drive an Alerter
	// of their own: two on one store would not know each other's alerts).
	Alerts *alert.Options

	// Access is who may do what without credentials; nil is open mode: a
	// request without credentials is a local admin and X-Quarry-User names
	// the actor (cmd/quarry allows it on a loopback address only).
	Access *Access
	// Authenticators are tried after the server's API tokens, in order:
	// e.g. a signed-in session.
	Authenticators []auth.Authenticator

	Limits      Limits       // request bodies
	QueryLimits graph.Limits // what one GraphQL operation may cost
	UI          http.Handler // served at /; nil serves nothing there
	GraphiQL    http.Handler // GET /graphql in a browser; nil: gqlgen's page (from a CDN)
	Version     string       // shown by /healthz

	// SignIn serves /auth/ (single sign-on). See Config.
	SignIn http.Handler

	// StorePostgres, when set, keeps the store in that PostgreSQL
	// database instead of dir's file (store.Options.Postgres).
	StorePostgres string
	// StoreReplicas makes this server one of several on StorePostgres
	// (store.Options.Replicas): its search index and lineage graph follow
	// the others' writes too.
	StoreReplicas bool
}

// Server is a data directory served over HTTP. Open opens its store;
// Start opens what derives from the store and runs the background loops;
// Serve answers requests; Close stops and closes everything in order. The
// fields are set by Open (Store) and Start (the rest), for the callers that
// wire more to them (a demo catalog, configured sources).
type Server struct {
	Store      *store.Store
	Crawls     *crawler.Service
	Index      *search.Index
	Popularity *search.Popularity
	Lineage    *lineage.Graph
	Alerter    *alert.Alerter // nil unless Options.Alerts
	Tokens     *auth.Tokens   // the API tokens, loaded by Start

	dir     string
	opts    Options
	log     *slog.Logger
	stops   []func() // the background loops' stops, in the order they started
	handler http.Handler

	beforeLineageLoad func(context.Context) // a test's hook: runs before the graph loads
}

// Open opens the store in dir (which must exist).
func Open(dir string, o *Options) (*Server, error) {
	s := &Server{dir: dir}
	if o != nil {
		s.opts = *o
	}
	if s.opts.Logger == nil {
		s.opts.Logger = slog.Default()
	}
	s.log = s.opts.Logger
	st, err := store.Open(filepath.Join(dir, StoreFile), &store.Options{Logger: s.log, Registerer: s.opts.Registerer, Now: s.opts.Now, Postgres: s.opts.StorePostgres, Replicas: s.opts.StoreReplicas})
	if err != nil {
		return nil, err
	}
	s.Store = st
	return s, nil
}

// Start opens what follows the store (the crawl service, the search index
// in dir/index and the lineage graph, which loads from the store in the
// background: traversals wait for it, nothing else does) and starts their
// background loops; Close stops them, and the crawls also stop when ctx is
// done. Writes before Start (the demo catalog) and after it alike are in
// the graph once it has loaded.
func (s *Server) Start(ctx context.Context) error {
	// Crawls live until ctx is done (shutdown begins) or Close; Close waits
	// for them (they stop at once when cancelled) before the store closes.
	crawlCtx, stopCrawls := context.WithCancel(ctx)
	// Replicas: the schedule runs on the one that holds its lease (a store
	// alone runs it at once); a crawl a request starts runs where it
	// arrived.
	co := &crawler.ServiceOptions{Logger: s.log, Getenv: s.opts.Getenv, Policy: s.opts.Crawl, Singleton: s.Store.RunSingleton}
	if s.Store.Replicas() {
		// A crawl holds its source's lease on any replica: one crawl per
		// source across them, and a run whose replica died is closed as
		// abandoned once its lease is free (crawler.Leases).
		co.Leases = s.Store
	}
	s.Crawls = crawler.NewService(s.Store, co)
	if !s.Store.Replicas() {
		// A replica cannot tell at start a run another replica has under
		// way from one a dead replica left: the leases do, later.
		s.Crawls.CloseInterrupted(ctx)
	}
	s.background(crawlCtx, stopCrawls, s.Crawls.Run)

	// API tokens: held in memory, their last use written every minute.
	toks, err := auth.NewTokens(ctx, s.Store, &auth.TokensOptions{Logger: s.log, Now: s.opts.Now})
	if err != nil {
		return fmt.Errorf("api tokens: %w", err)
	}
	s.Tokens = toks
	tokCtx, stopTokens := context.WithCancel(context.Background())
	s.background(tokCtx, stopTokens, toks.Run)

	// The search index follows the store; Run catches it up (or rebuilds
	// it, while the old one serves).
	idx, err := search.Open(ctx, filepath.Join(s.dir, IndexDir), s.Store, &search.Options{Logger: s.log, Registerer: s.opts.Registerer, Synonyms: s.opts.SearchSynonyms})
	if err != nil {
		return err
	}
	s.Index = idx
	// Popularity ranks searches and answers Dataset.usage (from the store).
	s.Popularity = search.NewPopularity(s.Store, s.opts.Now)
	idx.UsePopularity(s.Popularity)
	indexCtx, stopIndex := context.WithCancel(context.Background())
	s.background(indexCtx, stopIndex, idx.Run)

	// The lineage graph lives in memory: built from the store in the
	// background (seconds at a million datasets, which searches and reads
	// need not wait for; traversals do), then following it as writes
	// commit. Its load begins once the search index has warmed up (or
	// after graphLoadDelay): at a million datasets the load's 1-2 s of CPU
	// and the warm-up's shared the two cores with the first searches.
	lin := lineage.NewGraph(s.Store, s.Store, &lineage.GraphOptions{MaxDepth: s.opts.LineageMaxDepth, MaxLimit: s.opts.LineageMaxNodes, Logger: s.log})
	s.Lineage = lin
	graphCtx, stopGraph := context.WithCancel(context.Background())
	s.background(graphCtx, stopGraph, func(ctx context.Context) {
		select {
		case <-ctx.Done():
			return
		case <-idx.Warmed():
		case <-time.After(graphLoadDelay):
		}
		if s.beforeLineageLoad != nil {
			s.beforeLineageLoad(ctx)
		}
		lin.Run(ctx)
	})

	// Alerts: an evaluator pass now and at each interval, and the webhook
	// deliveries.
	if s.opts.Alerts != nil {
		o := *s.opts.Alerts
		o.Defaults = s.opts.FreshnessDefaults
		if o.Logger == nil {
			o.Logger = s.log
		}
		if o.Now == nil {
			o.Now = s.opts.Now
		}
		s.Alerter = alert.New(s.Store, &o)
		alertCtx, stopAlerts := context.WithCancel(context.Background())
		// On one replica at a time, the holder of its lease: two
		// evaluators would not know each other's alerts.
		s.background(alertCtx, stopAlerts, func(ctx context.Context) { s.Store.RunSingleton(ctx, "alerts", s.Alerter.Run) })
	}
	return nil
}

// graphLoadDelay is the longest the lineage graph's load waits for the
// search index's warm-up (Start).
const graphLoadDelay = 2 * time.Second

// background runs loop(ctx) in a goroutine until Close cancels it and
// waits for it to return.
func (s *Server) background(ctx context.Context, cancel context.CancelFunc, loop func(context.Context)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop(ctx)
	}()
	s.stops = append(s.stops, func() {
		cancel()
		<-done
	})
}

// Config is the handler's configuration as Start wired it: tests change a
// part of it (a spy for a dependency) and pass it to NewHandler.
func (s *Server) Config() Config {
	c := Config{
		Store:             s.Store,
		FreshnessDefaults: s.opts.FreshnessDefaults,
		Logger:            s.log,
		Registerer:        s.opts.Registerer,
		Gatherer:          s.opts.Gatherer,
		UI:                s.opts.UI,
		GraphiQL:          s.opts.GraphiQL,
		Limits:            s.opts.Limits,
		QueryLimits:       s.opts.QueryLimits,
		Version:           s.opts.Version,
		Now:               s.opts.Now,
		Access:            s.opts.Access,
		SignIn:            s.opts.SignIn,
	}
	if s.Tokens != nil {
		c.Tokens = s.Tokens
		c.Authenticators = append(c.Authenticators, s.Tokens)
	}
	c.Authenticators = append(c.Authenticators, s.opts.Authenticators...)
	// Typed nils would not be nil interfaces.
	if s.Crawls != nil {
		c.Crawls = s.Crawls
	}
	if s.Index != nil {
		c.Search = s.Index
		c.Reindex = s.Index.Rebuild
	}
	if s.Popularity != nil {
		c.Popularity = s.Popularity
	}
	if s.Lineage != nil {
		c.Lineage = s.Lineage
	}
	return c
}

// Handler returns the HTTP API over what Start opened. It is built once
// (its metrics register once).
func (s *Server) Handler() http.Handler {
	if s.handler == nil {
		s.handler = NewHandler(s.Config())
	}
	return s.handler
}

// Serve answers requests on ln until ctx is done, then shuts down: requests
// in flight get 30 seconds to finish before their connections close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		s.log.Warn("shutdown did not finish in time; closing connections", "err", err)
		hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops the background loops (the lineage graph's, the index's, the
// crawls'), then closes the index and the store: queued writes commit and
// the file closes cleanly. It may follow a failed Start.
func (s *Server) Close() error {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
	var errs []error
	if s.Index != nil {
		errs = append(errs, s.Index.Close())
	}
	errs = append(errs, s.Store.Close())
	return errors.Join(errs...)
}

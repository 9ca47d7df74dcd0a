// Package servertest runs Quarry's real server for tests: a server.Server
// on a store and search index in a temporary directory, behind an
// httptest.Server, closed when the test ends.
package servertest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/graph/graphtest"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/ui"
)

// Server is a running server and what it opened.
type Server struct {
	*httptest.Server
	Store   *store.Store
	Index   *search.Index
	Lineage *lineage.Graph
	Crawls  *crawler.Service
	Tokens  *auth.Tokens      // the server's API tokens (Options.Access says whether they are needed)
	GraphQL *graphtest.Client // posts to the server's /graphql
}

// New opens, starts and serves a server.Server in a temporary directory.
// Options left nil or zero get a test's defaults: a discarding logger, a
// registry of the server's own (so /metrics serves), the web UI, version
// "test". When the test ends the server is closed and its store file
// verified (store.Verify), as storetest.MustOpen does. Each wrap changes the handler's configuration before the handler
// is built (a spy around a dependency).
func New(tb testing.TB, o *server.Options, wrap ...func(*server.Config)) *Server {
	tb.Helper()
	var opts server.Options
	if o != nil {
		opts = *o
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil && opts.Gatherer == nil {
		reg := prometheus.NewRegistry()
		opts.Registerer, opts.Gatherer = reg, reg
	}
	if opts.UI == nil {
		opts.UI = ui.Handler()
	}
	if opts.GraphiQL == nil {
		opts.GraphiQL = ui.GraphiQL()
	}
	if opts.Version == "" {
		opts.Version = "test"
	}
	ctx := context.Background()
	dir := tb.TempDir()
	srv, err := server.Open(dir, &opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		srv.Close()
		tb.Fatal(err)
	}
	var h http.Handler
	if len(wrap) == 0 {
		h = srv.Handler()
	} else {
		cfg := srv.Config()
		for _, w := range wrap {
			w(&cfg)
		}
		h = server.NewHandler(cfg) // instead of srv.Handler(): the metrics register once
	}
	hs := httptest.NewServer(h)
	tb.Cleanup(func() {
		hs.Close()
		srv.Close() // a test may have closed the store already
		if opts.StorePostgres != "" {
			return // no file: the store is in PostgreSQL
		}
		if err := store.Verify(filepath.Join(dir, server.StoreFile)); err != nil {
			tb.Errorf("the store file is damaged: %v", err)
		}
	})
	return &Server{
		Server: hs, Store: srv.Store, Index: srv.Index, Lineage: srv.Lineage, Crawls: srv.Crawls, Tokens: srv.Tokens,
		GraphQL: &graphtest.Client{URL: hs.URL + "/graphql", HTTP: hs.Client()},
	}
}

// ServingGC sets the garbage collector as `quarry serve` does (cmd/quarry's
// setServingGC, which says why), for benchmarks that measure what a server
// does: keep the two alike.
func ServingGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// Request sends a request to the server with the given header pairs (name,
// value, ...) and returns the response, its body read, and the body.
func (s *Server) Request(tb testing.TB, method, path string, body []byte, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, raw
}

// PostEvents posts OpenLineage events one by one to POST /api/v1/lineage,
// fails the test unless each is accepted (201), and waits until the store
// has applied them.
func (s *Server) PostEvents(tb testing.TB, events ...[]byte) {
	tb.Helper()
	for _, ev := range events {
		if resp, body := s.Request(tb, http.MethodPost, "/api/v1/lineage", ev, "Content-Type", "application/json"); resp.StatusCode != http.StatusCreated {
			tb.Fatalf("status %d %s for %.300s", resp.StatusCode, body, ev)
		}
	}
	if err := s.Store.SyncLineage(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

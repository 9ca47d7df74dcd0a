package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// Backend is what the HTTP surface needs beyond the resolvers' Store.
type Backend interface {
	Store
	Snapshot(ctx context.Context) (*os.File, int64, error)
	Stats(ctx context.Context) (store.Stats, error)
}

// HandlerConfig wires a Handler. A nil Logger means slog.Default(); a nil
// Registerer registers no metrics; a nil Gatherer serves no /metrics; a nil
// UI serves nothing at /.
type HandlerConfig struct {
	Backend Backend
	Crawls  Crawls
	Search  Search
	Lineage Lineage
	// FreshnessDefaults are the config's default freshness policies.
	FreshnessDefaults []quarry.PolicyDefault
	Reindex           func(context.Context) error // rebuilds the search index
	Logger            *slog.Logger
	Registerer        prometheus.Registerer
	Gatherer          prometheus.Gatherer
	UI                http.Handler
	Limits            Limits
	Version           string
	Now               func() time.Time
}

// servingGCPercent is the garbage collector's target for a server (Go's
// default is 100).
const servingGCPercent = 400

// SetServingGC sets the garbage collector for serving, unless the GOGC
// environment variable sets it: a heap may grow to five times what is live
// between collections instead of twice. A server's live heap is small (about
// 12 MB at 100k datasets: the search index is mapped, not on the heap)
// while a search allocates about 0.6 MB, so at Go's default the collector
// ran every 20 searches or so, and on two cores each 4-7 ms cycle slowed the
// searches it overlapped; its p99 latency was 10-40% lower at 400 in
// BenchmarkSearch100k. A large catalog's lineage graph and caches make the
// live heap larger; GOGC or GOMEMLIMIT bound what that costs. The search
// benchmarks call this too, to measure what a server does.
func SetServingGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(servingGCPercent)
	}
}

// ActorHeader names the person or tool making a change; it is recorded in
// metadata history. (Tokens will name the actor once auth exists.)
const ActorHeader = "X-Quarry-User"

// NewHandler returns Quarry's HTTP API: /graphql (POST; GET serves GraphiQL
// to browsers), OpenLineage's /api/v1/lineage and /api/v1/lineage/batch,
// /healthz, /metrics, /api/v1/admin/backup and the UI at /.
func NewHandler(cfg HandlerConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	lim := cfg.Limits.withDefaults()
	log := cfg.Logger

	res := &Resolver{Store: cfg.Backend, Crawls: cfg.Crawls, Index: cfg.Search, Graph: cfg.Lineage, FreshnessDefaults: cfg.FreshnessDefaults, Log: log, Now: cfg.Now}
	srv := handler.New(NewExecutableSchema(Config{Resolvers: res}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(costLimit{depth: lim.Depth, fields: lim.Complexity}) // first: it bounds the work of the next
	srv.Use(extension.FixedComplexityLimit(lim.Complexity))
	srv.SetErrorPresenter(errorPresenter(log))
	srv.SetRecoverFunc(recoverFunc(log))
	srv.AroundResponses(newGQLMetrics(cfg.Registerer).observe)
	srv.AroundResponses(rawAnswer)
	srv.AroundResponses(res.lineageFastPath) // innermost: it may answer instead of executing

	graphiql := playground.Handler("Quarry GraphQL", "/graphql")
	mux := http.NewServeMux()
	mux.Handle("POST /graphql", readBody(lim.BodyBytes, true, withRawData(srv)))
	mux.HandleFunc("GET /graphql", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" && strings.Contains(r.Header.Get("Accept"), "text/html") {
			graphiql(w, r)
			return
		}
		srv.ServeHTTP(w, r)
	})
	ol := newOpenLineage(cfg.Backend, log, lim.LineageBodyBytes, cfg.Registerer)
	mux.HandleFunc("POST /api/v1/lineage", ol.post)
	mux.HandleFunc("POST /api/v1/lineage/batch", ol.postBatch)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		st, err := cfg.Backend.Stats(r.Context())
		if err != nil {
			log.ErrorContext(r.Context(), "health check", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": cfg.Version, "store": st})
	})
	if cfg.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	}
	mux.HandleFunc("GET /api/v1/admin/backup", func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopback(r) {
			writeError(w, http.StatusForbidden, quarry.Errorf(quarry.EUNAUTHORIZED, "backups are served to this machine only"))
			return
		}
		f, size, err := cfg.Backend.Snapshot(r.Context())
		if err != nil {
			log.ErrorContext(r.Context(), "backup snapshot", "err", err)
			writeError(w, http.StatusInternalServerError, quarry.Errorf(quarry.EINTERNAL, "internal error"))
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="quarry.db"`)
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		if n, err := io.Copy(w, f); err != nil {
			// The client sees a body shorter than Content-Length.
			log.WarnContext(r.Context(), "backup not delivered", "err", err, "bytes", n)
			return
		}
		log.InfoContext(r.Context(), "backup streamed", "bytes", size)
	})
	mux.HandleFunc("POST /api/v1/admin/reindex", func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopback(r) {
			writeError(w, http.StatusForbidden, quarry.Errorf(quarry.EUNAUTHORIZED, "reindexing is for this machine only"))
			return
		}
		if cfg.Reindex == nil {
			writeError(w, http.StatusNotFound, quarry.Errorf(quarry.ENOTFOUND, "this server has no search index"))
			return
		}
		// The rebuild outlives the request; the old index serves meanwhile.
		go func() {
			if err := cfg.Reindex(context.WithoutCancel(r.Context())); err != nil {
				log.Error("search index rebuild", "err", err)
			}
		}()
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "rebuilding"})
	})
	if cfg.UI != nil {
		mux.Handle("/", cfg.UI)
	}
	return withActor(mux)
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func withActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor := strings.TrimSpace(r.Header.Get(ActorHeader))
		if actor == "" || len(actor) > 256 {
			actor = "anonymous"
		}
		next.ServeHTTP(w, r.WithContext(quarry.WithActor(r.Context(), actor)))
	})
}

// readBody reads the whole body under a limit before the handler sees it,
// so an oversized body is answered 413 whether or not it declared its
// length, and (when jsonOnly) a body that is not JSON is answered 400 with
// the parser's reason.
func readBody(max int64, jsonOnly bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeError(w, http.StatusRequestEntityTooLarge, quarry.Errorf(quarry.ETOOLARGE, "the request body is %d bytes; the limit is %d", r.ContentLength, max))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				writeError(w, http.StatusRequestEntityTooLarge, quarry.Errorf(quarry.ETOOLARGE, "the request body exceeds the limit of %d bytes", max))
				return
			}
			writeError(w, http.StatusBadRequest, quarry.Errorf(quarry.EINVALID, "reading the request body: %v", err))
			return
		}
		if jsonOnly && !json.Valid(body) {
			var v any
			err := json.Unmarshal(body, &v)
			writeError(w, http.StatusBadRequest, quarry.Errorf(quarry.EINVALID, "the request body is not valid JSON: %v", err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// writeError answers with a GraphQL-shaped error body, which REST clients
// can read as well: {"errors":[{"message":..,"extensions":{"code":..}}]}.
func writeError(w http.ResponseWriter, status int, e *quarry.Error) {
	ext := map[string]any{"code": e.Code}
	if e.Field != "" {
		ext["field"] = e.Field
	}
	writeJSON(w, status, map[string]any{"errors": []any{map[string]any{"message": e.Error(), "extensions": ext}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

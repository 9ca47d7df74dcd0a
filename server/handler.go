package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/mcpserver"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
)

// Limits bound the request bodies and the searches run at once. Zero
// fields take the defaults.
type Limits struct {
	BodyBytes int64 // a /graphql body; default 8 MiB (a 1000-dataset upsert is ~2 MiB)
	// LineageBodyBytes bounds an OpenLineage request body after gunzip;
	// default 16 MiB (Spark's column lineage of wide tables is large).
	LineageBodyBytes int64
	// DBTBodyBytes bounds a dbt import's body (POST /api/v1/dbt) after
	// gunzip; default 256 MiB (a large project's manifest is 100 MB and
	// more). It is decoded as it arrives, never held whole.
	DBTBodyBytes int64
	// Searches is how many searches run at once (search.Limiter); the
	// others wait their turn within their request's time. Zero or less
	// means one a core (GOMAXPROCS).
	Searches int
}

func (l Limits) withDefaults() Limits {
	if l.BodyBytes <= 0 {
		l.BodyBytes = 8 << 20
	}
	if l.LineageBodyBytes <= 0 {
		l.LineageBodyBytes = 16 << 20
	}
	if l.DBTBodyBytes <= 0 {
		l.DBTBodyBytes = 256 << 20
	}
	return l
}

// Config is what NewHandler serves. Store is required. A nil Logger means
// slog.Default(); a nil Registerer registers no metrics; a nil Gatherer
// serves no /metrics; a nil Reindex answers reindexing 404; a nil UI serves
// nothing at /. Search, Lineage and Crawls may be nil for a handler whose
// callers ask nothing of them (benchmarks).
type Config struct {
	Store   *store.Store
	Crawls  graph.Crawls
	Search  graph.Search
	Lineage graph.Lineage
	// Popularity is the datasets' popularity (search.Popularity); nil: 0.
	Popularity graph.Popularity
	// FreshnessDefaults are the config's default freshness policies.
	FreshnessDefaults []quarry.PolicyDefault
	Reindex           func(context.Context) error // rebuilds the search index
	Logger            *slog.Logger
	Registerer        prometheus.Registerer
	Gatherer          prometheus.Gatherer
	UI                http.Handler
	// GraphiQL serves GET /graphql to a browser (ui.GraphiQL); nil serves
	// gqlgen's page, which needs the internet.
	GraphiQL    http.Handler
	Limits      Limits
	QueryLimits graph.Limits
	Version     string
	Now         func() time.Time
	// Access is who may do what without credentials; nil is open mode
	// (see Access).
	Access *Access
	// Authenticators find a request's principal from its credentials, in
	// order (the API tokens', then e.g. a session's).
	Authenticators []auth.Authenticator
	// Tokens serves the token mutations; nil answers them not found.
	Tokens graph.TokenService
	// SignIn serves /auth/ (single sign-on); nil answers 404 there, which
	// the UI reads as "no sign-in here".
	SignIn http.Handler
}

// ActorHeader names the person or tool making a change; it is recorded in
// metadata history, in open mode only: otherwise the actor is the
// authenticated principal.
const ActorHeader = "X-Quarry-User"

// reindexAnswerWait is how long POST /api/v1/admin/reindex waits for the
// rebuild before it answers 202: long enough to answer a conflict (a
// rebuild runs already), or a small catalog's whole rebuild, itself.
const reindexAnswerWait = 250 * time.Millisecond

// NewHandler returns Quarry's HTTP API: /graphql (POST; GET serves GraphiQL
// to browsers), the MCP server at /mcp (POST: streamable HTTP, stateless), OpenLineage's /api/v1/lineage and /api/v1/lineage/batch,
// dbt artifacts' /api/v1/dbt,
// /healthz, /metrics, /api/v1/admin/backup and /api/v1/admin/reindex, and
// the UI at /.
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	lim := cfg.Limits.withDefaults()
	log := cfg.Logger

	res := graph.StoreResolver(cfg.Store)
	res.Crawls, res.Index, res.Graph = cfg.Crawls, cfg.Search, cfg.Lineage
	var limited *search.Limiter // the searches of GraphQL and MCP share its slots
	if cfg.Search != nil {
		limited = search.NewLimiter(cfg.Search, &search.LimiterOptions{Slots: lim.Searches, Registerer: cfg.Registerer})
		res.Index = limited
	}
	res.FreshnessDefaults, res.Log, res.Now = cfg.FreshnessDefaults, log, cfg.Now
	res.Tokens, res.Audit = cfg.Tokens, cfg.Store
	res.Popular = cfg.Popularity
	gql := graph.NewHandler(res, &graph.HandlerOptions{Limits: cfg.QueryLimits, Registerer: cfg.Registerer, Authorize: true, GraphiQL: cfg.GraphiQL})
	mux := http.NewServeMux()
	rt := &routes{mux: mux, allow: map[string][]string{}, audit: cfg.Store, log: log}
	rt.handle("POST /graphql", readBody(log, lim.BodyBytes, true, gql))
	rt.handle("GET /graphql", gql)
	if cfg.Search != nil && cfg.Lineage != nil {
		// The tools check each one's role against the principal that
		// authenticate put in the request's context.
		m := mcpserver.New(mcpserver.Options{
			Store: cfg.Store, Search: limited, Lineage: cfg.Lineage, Popularity: cfg.Popularity, FreshnessDefaults: cfg.FreshnessDefaults,
			PageMax: cfg.QueryLimits.PageMax, Timeout: cfg.QueryLimits.Timeout, Registerer: cfg.Registerer,
			Logger: log, Now: cfg.Now, Version: cfg.Version, OpenMode: cfg.Access == nil,
		})
		rt.handle("POST /mcp", m.Handler())
	}
	ol := newOpenLineage(cfg.Store, log, lim.LineageBodyBytes, cfg.Registerer)
	rt.handleFunc("POST /api/v1/lineage", ol.post)
	rt.handleFunc("POST /api/v1/lineage/batch", ol.postBatch)
	rt.handleFunc("POST /api/v1/dbt", (&dbtImport{store: cfg.Store, log: log, limit: lim.DBTBodyBytes}).post)
	rt.handleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		st, err := cfg.Store.Stats(r.Context())
		if err != nil {
			log.ErrorContext(r.Context(), "health check", "err", err)
			body := map[string]any{"status": "unavailable"}
			if quarry.ErrorCode(err) == quarry.EUNAVAILABLE { // e.g. the PostgreSQL store cannot be reached
				body["reason"] = quarry.ErrorMessage(err)
			}
			writeJSON(w, http.StatusServiceUnavailable, body)
			return
		}
		body := map[string]any{"status": "ok", "version": cfg.Version, "store": st}
		if s, ok := cfg.Search.(searchStatus); ok {
			body["search"] = s.Status() // "rebuilding" while searches may answer unavailable
		}
		// Degraded (a full disk: writes refused, or the index not
		// following) is still 200, like a rebuilding index: reads work, so
		// a load balancer should keep sending them; monitors read status.
		var reasons []string
		if reason, since := cfg.Store.Degraded(); reason != "" {
			reasons = append(reasons, reason)
			body["degradedSince"] = since.UTC().Format(time.RFC3339)
		}
		if s, ok := cfg.Search.(searchDegraded); ok {
			if reason := s.Degraded(); reason != "" {
				reasons = append(reasons, "search index: "+reason)
			}
		}
		if len(reasons) > 0 {
			body["status"], body["reason"] = "degraded", strings.Join(reasons, "; ")
		}
		writeJSON(w, http.StatusOK, body)
	})
	if cfg.Gatherer != nil {
		rt.handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	}
	rt.handleFunc("GET /api/v1/admin/backup", func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopback(r) && isLocal(r) {
			fail(w, r, log, "backup", quarry.Errorf(quarry.EUNAUTHORIZED, "backups are served to this machine only"))
			return
		}
		f, size, err := cfg.Store.Snapshot(r.Context())
		if err != nil {
			fail(w, r, log, "backup snapshot", err)
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
	rt.handleFunc("POST /api/v1/admin/reindex", func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopback(r) && isLocal(r) {
			fail(w, r, log, "reindex", quarry.Errorf(quarry.EUNAUTHORIZED, "reindexing is for this machine only"))
			return
		}
		if cfg.Reindex == nil {
			fail(w, r, log, "reindex", quarry.Errorf(quarry.ENOTFOUND, "this server has no search index"))
			return
		}
		// The rebuild outlives the request; the old index serves meanwhile.
		// What fails at once (a rebuild runs already: a conflict) is the
		// answer; what takes longer is accepted, and its failure logged.
		// A success is 202 either way (what clients check), its status
		// "rebuilt" when the rebuild is done.
		done := make(chan error, 1)
		go func() {
			err := cfg.Reindex(context.WithoutCancel(r.Context()))
			done <- err
			if err != nil && quarry.ErrorCode(err) != quarry.ECONFLICT {
				log.Error("search index rebuild", "err", err)
			}
		}()
		t := time.NewTimer(reindexAnswerWait)
		defer t.Stop()
		select {
		case err := <-done:
			if err != nil {
				fail(w, r, log, "reindex", err)
				return
			}
			writeJSON(w, http.StatusAccepted, map[string]any{"status": "rebuilt"})
		case <-t.C:
			writeJSON(w, http.StatusAccepted, map[string]any{"status": "rebuilding"})
		}
	})
	if cfg.SignIn != nil {
		mux.Handle("/auth/", cfg.SignIn)
	} else {
		mux.HandleFunc("/auth/", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, quarry.Errorf(quarry.ENOTFOUND, "this server has no sign-in"))
		})
	}
	rt.refuseOthers()
	if cfg.UI != nil {
		mux.Handle("/", cfg.UI) // public: the page itself holds no data; it asks /graphql
	}
	return authenticate(cfg.Access, cfg.Authenticators, log, mux)
}

// routes registers the handlers of the API by method and path and
// remembers the methods of each path, so that a request with another
// method is answered 405 with an Allow header rather than falling through
// to the UI at / (which answers any GET with its page).
type routes struct {
	mux   *http.ServeMux
	allow map[string][]string // path -> methods
	audit auditStore
	log   *slog.Logger
}

// handle registers h under pattern behind the role routeRoles gives it;
// admin routes are recorded in the audit log.
func (rt *routes) handle(pattern string, h http.Handler) {
	role, ok := routeRoles[pattern]
	if !ok {
		panic("server: route " + pattern + " has no role in routeRoles")
	}
	if role == auth.Admin {
		h = audit(rt.audit, rt.log, pattern, h)
	}
	rt.mux.Handle(pattern, require(role, h))
	method, path, _ := strings.Cut(pattern, " ")
	rt.allow[path] = append(rt.allow[path], method)
	if method == http.MethodGet { // ServeMux serves HEAD with GET's handler
		rt.allow[path] = append(rt.allow[path], http.MethodHead)
	}
}

func (rt *routes) handleFunc(pattern string, h http.HandlerFunc) { rt.handle(pattern, h) }

// refuseOthers answers the other methods of every registered path 405,
// and any path under /api/ that is not one 404, in the API's error shape.
func (rt *routes) refuseOthers() {
	for path, methods := range rt.allow {
		allow := strings.Join(methods, ", ")
		rt.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, quarry.Errorf(quarry.EINVALID, "%s is not allowed on %s; use %s", r.Method, path, allow))
		})
	}
	rt.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, quarry.Errorf(quarry.ENOTFOUND, "%s is not an endpoint of this server", quarry.Truncate(r.URL.Path, 128)))
	})
}

// searchStatus is what /healthz reads of the search index.
type searchStatus interface{ Status() string }

// searchDegraded says why the search index does not follow the store (a
// full disk), "" while it does.
type searchDegraded interface{ Degraded() string }

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLocal reports whether the request is served in open mode, where
// admin routes stay on this machine; an authenticated admin may call them
// from anywhere.
func isLocal(r *http.Request) bool {
	p := auth.FromContext(r.Context())
	return p == nil || p.Via == "local"
}

// readBody reads the whole body under a limit before the handler sees it,
// so an oversized body is answered 413 whether or not it declared its
// length, and (when jsonOnly) a body that is not JSON is answered 400 with
// the parser's reason.
func readBody(log *slog.Logger, max int64, jsonOnly bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			fail(w, r, log, "request body", quarry.Errorf(quarry.ETOOLARGE, "the request body is %d bytes; the limit is %d", r.ContentLength, max))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				err = quarry.Errorf(quarry.ETOOLARGE, "the request body exceeds the limit of %d bytes", max)
			} else {
				err = quarry.Errorf(quarry.EINVALID, "reading the request body: %v", err)
			}
			fail(w, r, log, "request body", err)
			return
		}
		if jsonOnly && !json.Valid(body) {
			var v any
			err := json.Unmarshal(body, &v)
			fail(w, r, log, "request body", quarry.Errorf(quarry.EINVALID, "the request body is not valid JSON: %v", err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

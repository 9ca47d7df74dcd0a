package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quarrydata/quarry"
)

// HandlerOptions configure NewHandler. A nil *HandlerOptions, and zero
// fields, take the defaults.
type HandlerOptions struct {
	Limits Limits
	// Registerer receives the GraphQL operation metrics; nil registers none.
	Registerer prometheus.Registerer
	// Authorize checks each operation against Roles with the principal
	// the HTTP edge put in the request's context (auth.WithPrincipal); a
	// request without one is anonymous. Off, every operation runs (the
	// package's own tests, which have no edge in front).
	Authorize bool
	// GraphiQL serves a browser's GET without a query (package ui's,
	// bundled); nil serves gqlgen's page, which loads GraphiQL from a CDN.
	GraphiQL http.Handler
}

// NewHandler returns the GraphQL endpoint over the resolvers, to be mounted
// at /graphql for GET and POST: both run operations, and a browser's GET
// without a query gets GraphiQL. It reads the body as it comes; bounding it
// is the HTTP edge's job. A nil r.Log means slog.Default() and a nil r.Now
// means time.Now.
func NewHandler(r *Resolver, opts *HandlerOptions) http.Handler {
	var o HandlerOptions
	if opts != nil {
		o = *opts
	}
	lim := o.Limits.withDefaults()
	c := *r
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.pageMax = lim.PageMax
	r = &c

	srv := handler.New(NewExecutableSchema(Config{Resolvers: r, Complexity: costs(lim.PageMax)}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(smallQueries{lru.New[*ast.QueryDocument](1000)})
	srv.SetParserTokenLimit(lim.Tokens)
	srv.Use(extension.Introspection{})
	srv.Use(requestLimit{bytes: lim.QueryBytes, nesting: lim.Nesting}) // before the parser
	srv.Use(costLimit{depth: lim.Depth, fields: lim.Fields})           // first: it bounds the work of the next
	srv.Use(&complexityLimit{limit: lim.Complexity})
	srv.SetErrorPresenter(errorPresenter(r.Log))
	srv.SetRecoverFunc(recoverFunc(r.Log))
	srv.AroundResponses(capErrors(lim.Errors))
	srv.AroundResponses(newGQLMetrics(o.Registerer).observe)
	srv.AroundResponses(rawAnswer)
	srv.AroundResponses(r.lineageFastPath) // innermost: it may answer instead of executing
	srv.AroundOperations(withLoaders)      // a page of datasets reads their fields at once (loader.go)
	srv.AroundOperations(answerTimeout)
	if o.Authorize {
		srv.AroundOperations(authorize) // before any resolver runs (access.go)
	}
	srv.AroundFields(r.fieldAccess(o.Authorize))

	graphiql := o.GraphiQL
	if graphiql == nil {
		graphiql = playground.Handler("Quarry GraphQL", "/graphql")
	}
	post := withStatus(boundNesting(lim.Nesting, withRawData(srv)))
	var get http.Handler = srv
	if o.Authorize {
		get = withStatus(srv)
	}
	timeout := &quarry.Error{Code: quarry.ECANCELLED, Message: fmt.Sprintf(
		"the request ran past its time limit of %v (limits.queryTimeout) and was cancelled: ask for less, or smaller pages", lim.Timeout)}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeoutCause(req.Context(), lim.Timeout, timeout)
		defer cancel()
		req = req.WithContext(ctx)
		switch {
		case req.Method == http.MethodPost:
			post.ServeHTTP(w, req)
		case req.URL.RawQuery == "" && strings.Contains(req.Header.Get("Accept"), "text/html"):
			graphiql.ServeHTTP(w, req)
		default:
			get.ServeHTTP(w, req)
		}
	})
}

// boundNesting refuses a request body whose variables nest deeper than
// limit (the body's object and the variables' object are two more levels)
// before gqlgen's transport decodes it.
func boundNesting(limit int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, quarry.Errorf(quarry.EINVALID, "reading the request body: %v", err))
			return
		}
		if jsonNesting(body, limit+2) > limit+2 {
			writeError(w, http.StatusBadRequest, &quarry.Error{Code: quarry.EINVALID, Field: "variables",
				Message: fmt.Sprintf("lists and objects nest more than %d deep", limit)})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// writeError answers a request refused before gqlgen saw it, in GraphQL's
// shape.
func writeError(w http.ResponseWriter, status int, e *quarry.Error) {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	gerr := &gqlerror.Error{Message: msg}
	setCode(gerr, e.Code, e.Field)
	b, _ := json.Marshal(graphql.Response{Errors: gqlerror.List{gerr}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// maxCachedQuery is the largest query text the parsed-query cache keeps:
// the UI's and tools' operations are a few KiB at most, and a cache of
// 1000 documents parsed from queries as large as QueryBytes would hold
// gigabytes that no request frees (20 queries of 12,000 aliases held 96 MB).
const maxCachedQuery = 16 << 10

// smallQueries is the parsed-query cache for queries up to maxCachedQuery.
type smallQueries struct {
	graphql.Cache[*ast.QueryDocument]
}

func (c smallQueries) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if len(query) <= maxCachedQuery {
		c.Cache.Add(ctx, query, doc)
	}
}

// answerTimeout answers the request's time limit (set by NewHandler as
// the context's cause) in place of whatever the operation produced once
// the limit passed: resolvers that stopped at the cancelled context
// produced errors of their own or partial data, and gqlgen answers a
// bare null for an operation whose context ended before it answered. The
// client should see one clear error that says the limit.
func answerTimeout(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	answer := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := answer(ctx)
		qe, ok := errors.AsType[*quarry.Error](context.Cause(ctx))
		if !ok || qe.Code != quarry.ECANCELLED {
			return resp // not done, or done for another reason (the client left)
		}
		gerr := &gqlerror.Error{Message: qe.Message}
		setCode(gerr, qe.Code, "")
		return &graphql.Response{Errors: gqlerror.List{gerr}}
	}
}

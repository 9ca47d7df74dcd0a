package graph

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
)

// HandlerOptions configure NewHandler. A nil *HandlerOptions, and zero
// fields, take the defaults.
type HandlerOptions struct {
	Limits Limits
	// Registerer receives the GraphQL operation metrics; nil registers none.
	Registerer prometheus.Registerer
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
	if r.Log == nil || r.Now == nil {
		c := *r
		if c.Log == nil {
			c.Log = slog.Default()
		}
		if c.Now == nil {
			c.Now = time.Now
		}
		r = &c
	}
	lim := o.Limits.withDefaults()

	srv := handler.New(NewExecutableSchema(Config{Resolvers: r}))
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(costLimit{depth: lim.Depth, fields: lim.Complexity}) // first: it bounds the work of the next
	srv.Use(extension.FixedComplexityLimit(lim.Complexity))
	srv.SetErrorPresenter(errorPresenter(r.Log))
	srv.SetRecoverFunc(recoverFunc(r.Log))
	srv.AroundResponses(newGQLMetrics(o.Registerer).observe)
	srv.AroundResponses(rawAnswer)
	srv.AroundResponses(r.lineageFastPath) // innermost: it may answer instead of executing
	srv.AroundOperations(withLoaders)      // a page of datasets reads their fields at once (loader.go)

	graphiql := playground.Handler("Quarry GraphQL", "/graphql")
	post := withRawData(srv)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case req.Method == http.MethodPost:
			post.ServeHTTP(w, req)
		case req.URL.RawQuery == "" && strings.Contains(req.Header.Get("Accept"), "text/html"):
			graphiql(w, req)
		default:
			srv.ServeHTTP(w, req)
		}
	})
}

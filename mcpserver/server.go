package mcpserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
)

// Store is what the tools read and write of the store: one *store.Store.
type Store interface {
	Dataset(ctx context.Context, id string) (*quarry.Dataset, error)
	DatasetByName(ctx context.Context, namespace, name string) (*quarry.Dataset, error)
	DatasetsByID(ctx context.Context, ids []string) ([]*quarry.Dataset, error)
	UpdateDataset(ctx context.Context, id string, u quarry.DatasetUpdate) (*quarry.Dataset, error)
	DatasetJobs(ctx context.Context, id string) (writers, readers []string, err error)

	Job(ctx context.Context, id string) (*quarry.Job, error)
	JobByName(ctx context.Context, namespace, name string) (*quarry.Job, error)
	JobsByID(ctx context.Context, ids []string) ([]*quarry.Job, error)
	JobDatasets(ctx context.Context, jobID string) (inputs, outputs []string, err error)
	Runs(ctx context.Context, jobID string, first int, after string) (*store.RunPage, error)
	LatestRuns(ctx context.Context, jobIDs []string) ([]*quarry.Run, error)

	FreshnessPolicies(ctx context.Context, ids []string) ([]*quarry.FreshnessPolicy, error)
	InferredPolicies(ctx context.Context, ids []string) ([]*quarry.FreshnessPolicy, error)
	ChecksOf(ctx context.Context, ids []string) ([][]quarry.Check, error)

	Alerts(ctx context.Context, open *bool) ([]quarry.Alert, error)
	OpenAlertsOf(ctx context.Context, ids []string) ([]quarry.Alert, error)

	Usage(ctx context.Context, d *quarry.Dataset, since string) (*quarry.Usage, error)
}

// Search is what the tools ask of the search index.
type Search interface {
	Search(ctx context.Context, q search.Query) (*search.Results, error)
	SearchJobs(ctx context.Context, text string, first int) ([]search.JobHit, error)
}

// Lineage is what the tools ask of the lineage graph.
type Lineage interface {
	Traverse(ctx context.Context, q lineage.Query) (*lineage.Result, error)
	Impact(ctx context.Context, datasetID, column string, limit int) ([]lineage.Impacted, bool, error)
	UpstreamProblems(ctx context.Context, datasetID string, depth int, src lineage.ProblemSource) ([]quarry.UpstreamProblem, error)
}

// Options configure New. Store, Search and Lineage are required.
type Options struct {
	Store   Store
	Search  Search
	Lineage Lineage
	// Popularity gives get_dataset's popularity percentile; nil leaves it
	// out.
	Popularity Popularity
	// FreshnessDefaults are the config's default freshness policies, as
	// the GraphQL resolvers apply them.
	FreshnessDefaults []quarry.PolicyDefault
	// PageMax is the largest page a list gives (graph.Limits.PageMax);
	// zero means 1000, the GraphQL API's default.
	PageMax int
	// Timeout bounds one tool call (graph.Limits.Timeout); zero means 10 s.
	Timeout time.Duration
	// Registerer receives the tool calls' metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger     // nil means slog.Default()
	Now        func() time.Time // nil means time.Now
	Version    string           // reported to clients at initialization
	// OpenMode says that requests without credentials are served (a
	// loopback server without auth): then the SDK's DNS-rebinding and
	// cross-origin protections stand in for the credentials a browser
	// page cannot forge.
	OpenMode bool
}

// Server is the MCP server over one catalog.
type Server struct {
	o       Options
	srv     *mcp.Server
	metrics *metrics
	// roles is each tool's role; a tool missing from it is read-only
	// (viewer).
	roles map[string]auth.Role
}

// New returns the MCP server with its tools, resources and prompts.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PageMax <= 0 {
		o.PageMax = defaultPageMax
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	s := &Server{o: o, roles: map[string]auth.Role{}, metrics: newMetrics(o.Registerer)}
	s.srv = mcp.NewServer(&mcp.Implementation{Name: "quarry", Title: "Quarry data catalog", Version: o.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		Capabilities: &mcp.ServerCapabilities{},
	})
	s.addTools()
	s.addResources()
	s.addPrompts()
	s.srv.AddReceivingMiddleware(s.observe, s.listFilter, argumentErrors)
	return s
}

const instructions = `Quarry is a data catalog: it knows the tables and views of the company's databases, their columns, owners and descriptions, ` +
	`whether their data is fresh, which quality checks pass or fail, the lineage between them (which jobs read and write them) ` +
	`and what is wrong upstream of each. Find tables with search_datasets, then call get_dataset to check a table before recommending it: ` +
	`freshness, health, upstream problems and deprecation say whether it can be trusted today, and its usage (who reads it, its most run queries) how colleagues query it. Use impact before advising a change to a table or column.`

// Handler serves the server over streamable HTTP. It is stateless: each
// request is a session of its own, so the principal of each request (in
// its context, as server/ authenticated it) is the one its tools run as.
func (s *Server) Handler() http.Handler {
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.srv }, &mcp.StreamableHTTPOptions{
		Stateless:    true,
		JSONResponse: true,
		Logger:       s.o.Logger,
		// Behind a proxy on the same machine the Host header names the
		// proxy's site: a token, not the address, protects a server with
		// auth.
		DisableLocalhostProtection: !s.o.OpenMode,
	})
	if s.o.OpenMode {
		return http.NewCrossOriginProtection().Handler(h)
	}
	return h
}

// MCP returns the SDK's server, for a transport other than HTTP.
func (s *Server) MCP() *mcp.Server { return s.srv }

// may reports whether the principal in ctx may use a tool that needs role.
// An open server (a request without credentials on loopback: Via "local")
// serves the read-only tools only: anything on the machine can reach it,
// and an assistant should not edit the catalog unasked for.
func may(ctx context.Context, role auth.Role) bool {
	p := auth.FromContext(ctx)
	if p == nil {
		return false
	}
	if role != auth.Viewer && p.Via == "local" {
		return false
	}
	return p.Role.Allows(role)
}

// refusal is the tool error of a call its caller may not make.
func refusal(ctx context.Context, tool string, role auth.Role) error {
	p := auth.FromContext(ctx)
	switch {
	case p == nil || p.Via == "anonymous":
		return quarry.Errorf(quarry.EUNAUTHENTICATED, "%s needs the %s role: send a token (Authorization: Bearer)", tool, role)
	case p.Via == "local":
		return quarry.Errorf(quarry.EUNAUTHORIZED, "%s needs the %s role: an open server (no auth configured) serves the read-only tools only; use a token", tool, role)
	}
	have := string(p.Role)
	if have == "" {
		have = "no role"
	}
	return quarry.Errorf(quarry.EUNAUTHORIZED, "%s needs the %s role; %s has %s", tool, role, p.Name, have)
}

// listFilter leaves out of tools/list the tools the caller may not call.
func (s *Server) listFilter(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		if method != "tools/list" || err != nil {
			return res, err
		}
		if l, ok := res.(*mcp.ListToolsResult); ok {
			l.Tools = slices.DeleteFunc(slices.Clone(l.Tools), func(t *mcp.Tool) bool {
				role, ok := s.roles[t.Name]
				return ok && !may(ctx, role)
			})
		}
		return res, nil
	}
}

// addTool registers a typed tool that needs role: a caller without it gets
// a tool error, and a quarry error becomes a tool error that says what was
// wrong with which argument; an internal error is logged and shown as
// "internal error".
func addTool[In, Out any](s *Server, role auth.Role, t *mcp.Tool, h func(ctx context.Context, in In) (Out, error)) {
	s.roles[t.Name] = role
	mcp.AddTool(s.srv, t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		var zero Out
		if !may(ctx, role) {
			return nil, zero, refusal(ctx, t.Name, role)
		}
		// The SDK does not cancel a stateless request's context when its
		// client goes away (before protocol 2026-07-28): bound it as a
		// GraphQL request is bounded.
		ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
		defer cancel()
		out, err := h(ctx, in)
		if err != nil {
			return nil, zero, s.toolError(ctx, t.Name, err)
		}
		return nil, out, nil
	})
}

func (s *Server) toolError(ctx context.Context, tool string, err error) error {
	if e, ok := errors.AsType[*quarry.Error](err); ok && e.Code != quarry.EINTERNAL {
		return e // "field: message"
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return quarry.Errorf(quarry.ECANCELLED, "the request was cancelled or ran out of time")
	}
	s.o.Logger.ErrorContext(ctx, "mcp tool", "tool", tool, "err", err)
	return quarry.Errorf(quarry.EINTERNAL, "internal error")
}

// The SDK's messages for arguments its schema refuses, as it words them
// (jsonschema-go): they are rewritten to name the argument first, as the
// tools' own checks do.
var (
	schemaProperty   = regexp.MustCompile(`^validating "arguments": validating root: validating /properties/([^/:]+)(/[^:]*)?: (?:type: )?(.*)$`)
	schemaRequired   = regexp.MustCompile(`^validating "arguments": validating root: required: missing properties: \["([^"]+)"`)
	schemaAdditional = regexp.MustCompile(`^validating "arguments": validating root: unexpected additional properties \["([^"]+)"`)
)

// argumentErrors rewrites a tools/call's schema refusal so that it names
// the argument: "depth: three has type string, want one of null, integer".
func argumentErrors(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		r, ok := res.(*mcp.CallToolResult)
		if method != "tools/call" || err != nil || !ok || !r.IsError || len(r.Content) != 1 {
			return res, err
		}
		tc, ok := r.Content[0].(*mcp.TextContent)
		if !ok {
			return res, err
		}
		tool := ""
		if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok {
			tool = p.Name
		}
		msg := tc.Text
		if m := schemaProperty.FindStringSubmatch(msg); m != nil {
			field := m[1]
			if m[2] != "" { // an element: /kind/0
				field += "[" + strings.Trim(m[2], "/") + "]"
			}
			msg = field + ": " + strings.ReplaceAll(m[3], `"`, "")
		} else if m := schemaRequired.FindStringSubmatch(msg); m != nil {
			msg = m[1] + ": is required"
		} else if m := schemaAdditional.FindStringSubmatch(msg); m != nil {
			msg = m[1] + ": is not an argument of " + tool + " (tools/list gives each tool's arguments)"
		}
		tc.Text = msg
		return res, err
	}
}

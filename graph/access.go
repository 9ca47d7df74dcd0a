package graph

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
)

// Roles is the one table of what each GraphQL operation needs:
// "Query.field" and "Mutation.field" for every root field (a test walks
// the schema and fails on one missing), and "Type.field" for the fields
// that hold secrets, which resolve to null for anyone below the role.
// The schema files carry no directives: this table is the one place.
var Roles = map[string]auth.Role{
	// Reading the catalog.
	"Query.search":           auth.Viewer,
	"Query.autocomplete":     auth.Viewer,
	"Query.searchJobs":       auth.Viewer,
	"Query.namespaceSources": auth.Viewer,
	"Query.dataset":          auth.Viewer,
	"Query.datasets":         auth.Viewer,
	"Query.job":              auth.Viewer,
	"Query.jobs":             auth.Viewer,
	"Query.run":              auth.Viewer,
	"Query.lineage":          auth.Viewer,
	"Query.impact":           auth.Viewer,
	"Query.alerts":           auth.Viewer,
	"Query.freshnessAlerts":  auth.Viewer,
	"Query.sources":          auth.Viewer,
	"Query.source":           auth.Viewer,
	"Query.apiTokens":        auth.Admin,
	"Query.auditLog":         auth.Admin,

	// What people know.
	"Mutation.updateDataset":      auth.Editor,
	"Mutation.deprecateDataset":   auth.Editor,
	"Mutation.undeprecateDataset": auth.Editor,
	"Mutation.endorseDataset":     auth.Editor,
	"Mutation.unendorseDataset":   auth.Editor,
	"Mutation.setFreshnessPolicy": auth.Editor,
	"Mutation.addLineageEdge":     auth.Editor,
	"Mutation.removeLineageEdge":  auth.Editor,
	"Mutation.markDatasetRemoved": auth.Editor,
	"Mutation.restoreDataset":     auth.Editor,

	// What tools report.
	"Mutation.upsertDatasets":   auth.Ingest,
	"Mutation.reportRun":        auth.Ingest,
	"Mutation.reportCheck":      auth.Ingest,
	"Mutation.reportDataUpdate": auth.Ingest,

	// Outbound connections and access itself.
	"Mutation.registerSource": auth.Admin,
	"Mutation.crawlSource":    auth.Admin,
	"Mutation.createApiToken": auth.Admin,
	"Mutation.revokeApiToken": auth.Admin,

	// Secrets inside answers: the DSN (masked, but it names the host, port
	// and user) and a webhook's delivery error (it may quote the URL).
	"Source.dsn":              auth.Admin,
	"AlertDelivery.lastError": auth.Admin,
}

// introspection is open to viewers: the schema is no secret, but a server
// that serves nothing anonymously serves its schema to no one either.
const introspectionRole = auth.Viewer

// subFieldRoles is Roles's "Type.field" entries by type, then field: the
// field middleware looks up every resolved field, so the common miss costs
// one map lookup and no string building.
var subFieldRoles = func() map[string]map[string]auth.Role {
	m := map[string]map[string]auth.Role{}
	for k, role := range Roles {
		var typ, field string
		for i := range len(k) {
			if k[i] == '.' {
				typ, field = k[:i], k[i+1:]
				break
			}
		}
		if typ == "Query" || typ == "Mutation" || typ == "Subscription" {
			continue
		}
		if m[typ] == nil {
			m[typ] = map[string]auth.Role{}
		}
		m[typ][field] = role
	}
	return m
}()

// authorize is the role check of an operation's root fields, before any
// resolver runs: an operation that asks one field its caller may not have
// is refused whole (a mutation list does not half-apply). With Authorize
// off (graph's own tests, no HTTP edge in front) it lets everything pass.
func authorize(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	root := "Query"
	switch oc.Operation.Operation {
	case ast.Mutation:
		root = "Mutation"
	case ast.Subscription:
		root = "Subscription"
	}
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{root}) {
		var role auth.Role
		switch f.Name {
		case "__typename":
			continue
		case "__schema", "__type":
			role = introspectionRole
		default:
			r, ok := Roles[root+"."+f.Name]
			if !ok {
				r = auth.Admin // a field missing from the table is refused to all but admins (a test keeps the table whole)
			}
			role = r
		}
		if err := checkRole(ctx, role); err != nil {
			e := err.(*quarry.Error)
			if st := statusOf(ctx); st != nil {
				st.code = http.StatusForbidden
				if e.Code == quarry.EUNAUTHENTICATED {
					st.code = http.StatusUnauthorized
				}
			}
			gerr := &gqlerror.Error{Message: e.Message, Path: ast.Path{ast.PathName(f.Alias)}}
			setCode(gerr, e.Code, "")
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{gerr}})
		}
	}
	return next(ctx)
}

// checkRole is nil when the request's principal has role; else the error
// that says whether credentials would help (unauthenticated) or not
// (unauthorized).
func checkRole(ctx context.Context, role auth.Role) error {
	p := auth.FromContext(ctx)
	if p != nil && p.Role.Allows(role) {
		return nil
	}
	if p == nil || p.Via == "anonymous" {
		return quarry.Errorf(quarry.EUNAUTHENTICATED, "this needs the %s role: send a token (Authorization: Bearer) or sign in", role)
	}
	have := string(p.Role)
	if have == "" {
		have = "no role"
	}
	return quarry.Errorf(quarry.EUNAUTHORIZED, "this needs the %s role; %s has %s", role, p.Name, have)
}

// fieldAccess is the one field middleware: with authorize, the secret
// fields of Roles resolve to null for callers below their role; and each
// admin mutation that succeeded is recorded in the audit log: who, which,
// on what (the name argument or the input's name; never a DSN or a
// secret).
func (r *Resolver) fieldAccess(authorize bool) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc.Object == "Mutation" {
			return r.auditMutation(ctx, fc, next)
		}
		if fields, ok := subFieldRoles[fc.Object]; ok && authorize {
			if role, ok := fields[fc.Field.Name]; ok && checkRole(ctx, role) != nil {
				return nil, nil
			}
		}
		return next(ctx)
	}
}

func (r *Resolver) auditMutation(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if Roles["Mutation."+fc.Field.Name] != auth.Admin || r.Audit == nil {
		return next(ctx)
	}
	res, err := next(ctx)
	if err != nil {
		return res, err
	}
	e := quarry.AuditEntry{At: r.now(), Actor: quarry.ActorFrom(ctx), Action: fc.Field.Name, Target: auditTarget(fc.Args)}
	if fc.Field.Name == "createApiToken" { // the store recorded it with the token, in one transaction
		return res, nil
	}
	if aerr := r.Audit.AppendAudit(context.WithoutCancel(ctx), e); aerr != nil {
		r.Log.ErrorContext(ctx, "audit log", "err", aerr, "action", e.Action)
	}
	return res, nil
}

func (r *Resolver) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func auditTarget(args map[string]any) string {
	if s, ok := args["name"].(string); ok {
		return s
	}
	switch in := args["input"].(type) {
	case SourceInput:
		return in.Name
	case CreateAPITokenInput:
		return in.Name
	}
	return ""
}

// status carries the HTTP status an operation refused for its role should
// be answered with (401 or 403) from the operation to the HTTP writer.
type status struct{ code int }

type statusKey struct{}

func statusOf(ctx context.Context) *status {
	s, _ := ctx.Value(statusKey{}).(*status)
	return s
}

// withStatus answers a refused operation with 401 (and a challenge) or 403
// rather than gqlgen's 200.
func withStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &status{}
		next.ServeHTTP(&statusWriter{ResponseWriter: w, st: st}, r.WithContext(context.WithValue(r.Context(), statusKey{}, st)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	st    *status
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if code == http.StatusOK && w.st.code != 0 {
		code = w.st.code
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush lets @defer's multipart answers through as they come.
func (w *statusWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// TokenService is what the token operations call: auth.Tokens.
type TokenService interface {
	Create(ctx context.Context, name string, role auth.Role, ttl time.Duration) (string, *quarry.Token, error)
	Revoke(ctx context.Context, name string) (*quarry.Token, error)
	List(ctx context.Context) ([]quarry.Token, error)
}

// AuditLog is where admin actions are recorded and read.
type AuditLog interface {
	AppendAudit(ctx context.Context, e quarry.AuditEntry) error
	AuditLog(ctx context.Context, first int, before uint64) ([]quarry.AuditEntry, error)
}

var errNoTokens = quarry.Errorf(quarry.ENOTFOUND, "this server has no API tokens")

// roleOf is GraphQL's enum value as auth's role: "EDITOR" is "editor".
func roleOf(r Role) auth.Role { return auth.Role(strings.ToLower(string(r))) }

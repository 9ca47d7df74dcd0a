package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
)

// Access is who may reach the server without credentials, and how
// credentials are checked. A nil *Access (Options.Access, Config.Access) is
// open mode, the loopback default: a request without credentials is an
// admin ("local") and the X-Quarry-User header names the actor.
type Access struct {
	// Anonymous is the role of a request without credentials; "" means
	// none: every operation answers 401.
	Anonymous auth.Role
}

// Route roles beyond auth's: public routes need nothing, and /graphql
// checks each field's role itself (graph's table).
const (
	public    auth.Role = "public"
	delegated auth.Role = "graphql"
)

// routeRoles is the one table of the REST endpoints' roles. Every route
// the handler registers must be in it (routes.handle panics otherwise, and
// a test walks them).
var routeRoles = map[string]auth.Role{
	"POST /graphql":              delegated,
	"GET /graphql":               delegated,
	"POST /mcp":                  auth.Viewer, // each tool checks its own role too (mcpserver)
	"POST /api/v1/lineage":       auth.Ingest,
	"POST /api/v1/lineage/batch": auth.Ingest,
	"POST /api/v1/dbt":           auth.Ingest,
	"GET /healthz":               public, // load balancers and probes hold no token
	"GET /metrics":               auth.Viewer,
	"GET /api/v1/admin/backup":   auth.Admin,
	"POST /api/v1/admin/reindex": auth.Admin,
}

// RouteRoles returns a copy of the REST route table, for tests and docs.
func RouteRoles() map[string]auth.Role {
	m := make(map[string]auth.Role, len(routeRoles))
	for k, v := range routeRoles {
		m[k] = v
	}
	return m
}

// authenticate puts the request's principal in its context (auth and
// quarry.WithActor). Credentials are tried in order; bad ones are answered
// 401 at once, whatever the anonymous role, and good ones refused for what
// they carry (an authenticator's unauthorized: a session's POST without its
// CSRF token) 403.
func authenticate(access *Access, authns []auth.Authenticator, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p *auth.Principal
		for _, a := range authns {
			got, err := a.Authenticate(r)
			if err != nil {
				code, msg := quarry.ErrorCode(err), quarry.ErrorMessage(err)
				if code == quarry.EINTERNAL {
					log.ErrorContext(r.Context(), "authentication", "err", err)
				}
				if code == quarry.EUNAUTHORIZED {
					// Credentials that are good but may not do this
					// (a signed-in POST without its CSRF token): 403,
					// signing in again would not help.
					refuse(w, err, "")
					return
				}
				refuse(w, quarry.Errorf(quarry.EUNAUTHENTICATED, "%s", msg), `Bearer error="invalid_token"`)
				return
			}
			if got != nil {
				p = got
				break
			}
		}
		actor := ""
		switch {
		case p != nil:
			actor = p.Name
		case access == nil:
			actor = strings.TrimSpace(r.Header.Get(ActorHeader))
			if actor == "" || len(actor) > 256 {
				actor = "anonymous"
			}
			p = &auth.Principal{Name: actor, Role: auth.Admin, Via: "local"}
		default:
			p = &auth.Principal{Role: access.Anonymous, Via: "anonymous"}
			actor = "anonymous"
		}
		ctx := quarry.WithActor(auth.WithPrincipal(r.Context(), p), actor)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// require answers a request whose principal's role does not include role:
// 401 when credentials would help (none were sent), 403 otherwise.
func require(role auth.Role, next http.Handler) http.Handler {
	if role == public || role == delegated {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := Authorize(r.Context(), role); err != nil {
			refuse(w, err, "Bearer")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Authorize returns nil when the principal in ctx has role, an
// EUNAUTHENTICATED error when it is anonymous (or missing), EUNAUTHORIZED
// otherwise.
func Authorize(ctx context.Context, role auth.Role) error {
	p := auth.FromContext(ctx)
	if p != nil && p.Role.Allows(role) {
		return nil
	}
	if p == nil || p.Via == "anonymous" {
		return quarry.Errorf(quarry.EUNAUTHENTICATED, "this needs the %s role: send a token (Authorization: Bearer) or sign in", role)
	}
	return quarry.Errorf(quarry.EUNAUTHORIZED, "this needs the %s role; %s has %s", role, p.Name, roleName(p.Role))
}

func roleName(r auth.Role) string {
	if r == "" {
		return "none"
	}
	return string(r)
}

// refuse answers an access error, with the challenge a 401 carries.
func refuse(w http.ResponseWriter, err error, challenge string) {
	e, ok := errors.AsType[*quarry.Error](err)
	if !ok {
		e = quarry.Errorf(quarry.EINTERNAL, "internal error")
	}
	if e.Code == quarry.EUNAUTHENTICATED {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	writeError(w, httpStatus(e.Code), e)
}

// audit records an admin REST action once it was answered with success.
func audit(st auditStore, log *slog.Logger, pattern string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status >= 300 {
			return
		}
		e := quarry.AuditEntry{Actor: quarry.ActorFrom(r.Context()), Action: pattern, Detail: fmt.Sprintf("status %d", sw.status)}
		if err := st.AppendAudit(context.WithoutCancel(r.Context()), e); err != nil {
			log.ErrorContext(r.Context(), "audit log", "err", err, "action", pattern)
		}
	})
}

type auditStore interface {
	AppendAudit(ctx context.Context, e quarry.AuditEntry) error
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Package auth says who makes a request and what they may do.
//
// It owns the roles, the principal carried in a request's context and the
// Authenticator contract; the API-token authenticator lives here too. It does
// not know about HTTP routing or GraphQL: server/ and graph/ declare which
// role each of their operations needs and ask Role.Allows.
package auth

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
)

// Role is what a principal may do. Viewer < Editor < Admin and Viewer < Ingest < Admin: Allows(required) is true when r includes required.
type Role string

// The roles, from least to most.
const (
	Viewer Role = "viewer"
	Editor Role = "editor"
	Ingest Role = "ingest"
	Admin  Role = "admin"
)

// ParseRole returns the role named s, or an EINVALID error naming the roles.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Viewer, Editor, Ingest, Admin:
		return r, nil
	}
	return "", quarry.Invalid("role", "unknown role %q (want viewer, editor, ingest or admin)", s)
}

// Allows reports whether a principal with role r may do what needs required.
// Editor and Ingest are siblings: neither includes the other.
func (r Role) Allows(required Role) bool {
	switch r {
	case Admin:
		return required == Viewer || required == Editor || required == Ingest || required == Admin
	case Editor:
		return required == Viewer || required == Editor
	case Ingest:
		return required == Viewer || required == Ingest
	case Viewer:
		return required == Viewer
	}
	return false
}

// Principal is who makes a request.
type Principal struct {
	Name string // token name, or the signed-in user's email/subject; "" for anonymous
	Role Role
	Via  string // "token", "session", "anonymous", "local" (open mode on loopback)
}

type principalKey struct{}

// WithPrincipal returns a context that carries p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal in ctx; nil when none.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Authenticator finds the principal of a request from its credentials. It returns (nil, nil) when the request carries none of the credentials it knows, and an error (code unauthorized) when it carries bad ones (unknown/revoked/expired token, invalid session).
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// ParseTTL reads a token's lifetime: Go's durations ("12h", "90m") and
// days ("90d").
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, quarry.Invalid("expires", "%q is not a number of days (e.g. 90d)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, quarry.Invalid("expires", "%q is not a lifetime (e.g. 90d, 12h)", s)
	}
	return d, nil
}

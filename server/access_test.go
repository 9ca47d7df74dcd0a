package server_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/server"
	"github.com/quarrydata/quarry/server/servertest"
)

// principals of the matrix: no credentials, then a token of each role.
var matrixRoles = []auth.Role{auth.Viewer, auth.Editor, auth.Ingest, auth.Admin}

// tokens makes one token per role on a server with access control.
func tokens(t *testing.T, s *servertest.Server) map[auth.Role]string {
	t.Helper()
	out := map[auth.Role]string{}
	for _, r := range matrixRoles {
		secret, _, err := s.Tokens.Create(context.Background(), "matrix-"+string(r), r, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[r] = secret
	}
	return out
}

// The role × operation matrix over every root field of the GraphQL
// schema: each is refused 401 (unauthenticated) without credentials, 403
// (unauthorized) to a token whose role does not include the field's, and
// let through (whatever the resolver then says of the dummy arguments) to
// one whose role does.
func TestAccessMatrixGraphQL(t *testing.T) {
	s := servertest.New(t, &server.Options{Access: &server.Access{}})
	toks := tokens(t, s)
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	n := 0
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		if root == nil {
			continue
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			n++
			op := operation(schema, root, f)
			required := graph.Roles[root.Name+"."+f.Name]
			t.Run(root.Name+"."+f.Name, func(t *testing.T) {
				res := s.GraphQL.Do(t, op, nil)
				if res.Status != http.StatusUnauthorized || len(res.Errors) == 0 || res.Errors[0].Code() != "unauthenticated" {
					t.Errorf("anonymous: status %d, errors %v; want 401 unauthenticated (%s)", res.Status, res.Errors, op)
				}
				for _, r := range matrixRoles {
					res := s.GraphQL.Do(t, op, nil, "Authorization", "Bearer "+toks[r])
					denied := res.Status == http.StatusForbidden && len(res.Errors) > 0 && res.Errors[0].Code() == "unauthorized"
					if r.Allows(required) {
						for _, e := range res.Errors {
							if c := e.Code(); c == "unauthorized" || c == "unauthenticated" {
								t.Errorf("%s (needs %s): refused: %v", r, required, e)
							}
						}
						if res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden {
							t.Errorf("%s (needs %s): status %d", r, required, res.Status)
						}
					} else if !denied {
						t.Errorf("%s (needs %s): status %d, errors %v; want 403 unauthorized", r, required, res.Status, res.Errors)
					}
				}
			})
		}
	}
	if n < 30 {
		t.Fatalf("only %d root fields walked", n)
	}
}

// operation writes a call of a root field with dummy values for its
// required arguments and __typename for a selection.
func operation(schema *ast.Schema, root *ast.Definition, f *ast.FieldDefinition) string {
	var args []string
	for _, a := range f.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			args = append(args, a.Name+": "+dummy(schema, a.Type))
		}
	}
	call := f.Name
	if len(args) > 0 {
		call += "(" + strings.Join(args, ", ") + ")"
	}
	if def := schema.Types[f.Type.Name()]; def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union) {
		call += " { __typename }"
	}
	kw := "query"
	if root.Name == "Mutation" {
		kw = "mutation"
	}
	return kw + " { " + call + " }"
}

func dummy(schema *ast.Schema, t *ast.Type) string {
	if t.Elem != nil {
		return "[" + dummy(schema, t.Elem) + "]"
	}
	def := schema.Types[t.NamedType]
	switch {
	case def.Kind == ast.Enum:
		return def.EnumValues[0].Name
	case def.Kind == ast.InputObject:
		var fs []string
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				fs = append(fs, f.Name+": "+dummy(schema, f.Type))
			}
		}
		return "{" + strings.Join(fs, ", ") + "}"
	}
	switch t.NamedType {
	case "Int", "Int64", "Float":
		return "1"
	case "Boolean":
		return "false"
	case "Time":
		return `"2026-01-01T00:00:00Z"`
	}
	return `"matrix-x"`
}

// The same matrix over every REST route of the route table.
func TestAccessMatrixREST(t *testing.T) {
	s := servertest.New(t, &server.Options{Access: &server.Access{}})
	toks := tokens(t, s)
	routes := server.RouteRoles()
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, route := range keys {
		required := routes[route]
		method, path, _ := strings.Cut(route, " ")
		if path == "/graphql" {
			continue // each field's own role: TestAccessMatrixGraphQL
		}
		t.Run(route, func(t *testing.T) {
			body := []byte("{}")
			if method == http.MethodGet {
				body = nil
			}
			resp, raw := s.Request(t, method, path, body, "Content-Type", "application/json")
			if required == "public" {
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					t.Fatalf("a public route answered %d: %s", resp.StatusCode, raw)
				}
				return
			}
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(raw), `"unauthenticated"`) || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("anonymous: %d %q %s; want 401 unauthenticated with a Bearer challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), raw)
			}
			for _, r := range matrixRoles {
				resp, raw := s.Request(t, method, path, body, "Content-Type", "application/json", "Authorization", "Bearer "+toks[r])
				switch {
				case r.Allows(required) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
					t.Errorf("%s (needs %s): %d %s", r, required, resp.StatusCode, raw)
				case !r.Allows(required) && (resp.StatusCode != http.StatusForbidden || !strings.Contains(string(raw), `"unauthorized"`)):
					t.Errorf("%s (needs %s): %d %s; want 403 unauthorized", r, required, resp.StatusCode, raw)
				case r.Allows(required) && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed):
					t.Errorf("%s: %d: the table names a route the server does not have", r, resp.StatusCode)
				}
			}
		})
	}
}

// A bad token is refused whatever the anonymous role, and a revoked or
// expired one from the moment it is so.
func TestBadTokensRefused(t *testing.T) {
	s := servertest.New(t, &server.Options{Access: &server.Access{Anonymous: auth.Viewer}})
	ctx := context.Background()
	secret, _, err := s.Tokens.Create(ctx, "job", auth.Ingest, 0)
	if err != nil {
		t.Fatal(err)
	}
	q := `{ datasets { totalCount } }`
	if res := s.GraphQL.Do(t, q, nil); res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("anonymous viewer: %d %v", res.Status, res.Errors)
	}
	for name, tok := range map[string]string{
		"unknown prefix": "qry_0000000000000000_" + strings.Repeat("A", 43),
		"wrong secret":   secret[:len(secret)-4] + "AAAA",
		"malformed":      "qry_nope",
	} {
		if res := s.GraphQL.Do(t, q, nil, "Authorization", "Bearer "+tok); res.Status != http.StatusUnauthorized {
			t.Errorf("%s: %d %v", name, res.Status, res.Errors)
		}
	}
	if res := s.GraphQL.Do(t, q, nil, "Authorization", "Bearer "+secret); res.Status != http.StatusOK {
		t.Fatalf("the token: %d %v", res.Status, res.Errors)
	}
	if _, err := s.Tokens.Revoke(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if res := s.GraphQL.Do(t, q, nil, "Authorization", "Bearer "+secret); res.Status != http.StatusUnauthorized || res.Errors[0].Code() != "unauthenticated" {
		t.Fatalf("revoked: %d %v", res.Status, res.Errors)
	}
}

func TestExpiredTokenRefused(t *testing.T) {
	now := &fakeClock{}
	s := servertest.New(t, &server.Options{Access: &server.Access{}, Now: now.Now})
	secret, _, err := s.Tokens.Create(context.Background(), "short", auth.Viewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	q := `{ datasets { totalCount } }`
	if res := s.GraphQL.Do(t, q, nil, "Authorization", "Bearer "+secret); res.Status != http.StatusOK {
		t.Fatalf("before it expires: %d %v", res.Status, res.Errors)
	}
	now.advance(time.Hour + time.Second)
	if res := s.GraphQL.Do(t, q, nil, "Authorization", "Bearer "+secret); res.Status != http.StatusUnauthorized {
		t.Fatalf("expired: %d %v", res.Status, res.Errors)
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		c.at = time.Now()
	}
	return c.at
}

func (c *fakeClock) advance(d time.Duration) {
	c.Now()
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}

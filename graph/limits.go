package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quarrydata/quarry"
)

// Limits bound what one operation may cost. Zero fields take the defaults.
// (The HTTP edge bounds the request body.)
type Limits struct {
	Depth int // selection depth; default 15 (GraphiQL's introspection query needs 13)
	// Complexity bounds what an operation costs (cost.go): a field one,
	// a list its page size times what each element selects. Default
	// 50,000: the UI's costliest page (a dataset's checks and alerts with
	// their histories) costs about 30,000.
	Complexity int
	// Fields bounds the fields an operation selects, fragments counted
	// where they are spread; default 5000.
	Fields int
	// PageMax is the largest page a list gives (first); default 1000.
	PageMax int
	// Timeout bounds the time one request may run; past it the request
	// is cancelled and answers cancelled. Default 10 s.
	Timeout time.Duration
	// QueryBytes bounds the query text (variables may be larger: they
	// carry a batch's data); default 256 KiB.
	QueryBytes int
	// Tokens bounds the tokens the parser reads; default 50,000 (a query
	// of 5000 aliased fields with arguments).
	Tokens int
	// Nesting bounds brackets, braces and parentheses nested in the query
	// text, and arrays and objects nested in the variables; default 64.
	// gqlparser and the variables' coercion recurse once a level: 2 M
	// nested brackets overflowed the stack and killed the process, and a
	// 100k-deep list value cost 2.4 GB.
	Nesting int
	// Errors bounds the errors of one answer; past it one error says how
	// many more there were. Default 100 (100k unused variables answered
	// 14-34 MB of errors).
	Errors int
}

func (l Limits) withDefaults() Limits {
	if l.Depth <= 0 {
		l.Depth = 15
	}
	if l.Complexity <= 0 {
		l.Complexity = 50_000
	}
	if l.Fields <= 0 {
		l.Fields = 5000
	}
	if l.PageMax <= 0 {
		l.PageMax = defaultPageMax
	}
	if l.Timeout <= 0 {
		l.Timeout = 10 * time.Second
	}
	if l.QueryBytes <= 0 {
		l.QueryBytes = 256 << 10
	}
	if l.Tokens <= 0 {
		l.Tokens = 50_000
	}
	if l.Nesting <= 0 {
		l.Nesting = 64
	}
	if l.Errors <= 0 {
		l.Errors = 100
	}
	return l
}

// requestLimit refuses, before gqlparser reads it, a query larger than
// bytes or nested deeper than nesting, and variables nested deeper than
// nesting. Its errors carry GraphQL's parse-failure code, which makes
// gqlgen answer 422 (an extension's own code would be answered 200), and
// a *quarry.Error that the error presenter shows as invalid or too_large.
type requestLimit struct{ bytes, nesting int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = requestLimit{}

func (requestLimit) ExtensionName() string                          { return "RequestLimit" }
func (requestLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (l requestLimit) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	var qe *quarry.Error
	switch {
	case len(p.Query) > l.bytes:
		qe = quarry.Errorf(quarry.ETOOLARGE, "the query is %d bytes; the limit is %d (pass data in variables)", len(p.Query), l.bytes)
		qe.Field = "query"
	case queryNesting(p.Query, l.nesting) > l.nesting:
		qe = quarry.Errorf(quarry.EINVALID, "brackets, braces or parentheses nest more than %d deep", l.nesting)
		qe.Field = "query"
	default:
		for name, v := range p.Variables {
			if valueNesting(v, l.nesting) > l.nesting {
				qe = quarry.Errorf(quarry.EINVALID, "the value nests lists and objects more than %d deep", l.nesting)
				qe.Field = "variables." + quarry.Truncate(name, 100)
				break
			}
		}
	}
	if qe == nil {
		return nil
	}
	return &gqlerror.Error{Message: qe.Field + ": " + qe.Message, Err: qe, Extensions: map[string]any{"code": errcode.ParseFailed}}
}

// queryNesting returns how deep brackets, braces and parentheses nest in
// a GraphQL document, outside strings and comments, counting no further
// than limit+1 so that it stops early. Unbalanced closers count as
// nothing: the parser reports them.
func queryNesting(q string, limit int) int {
	depth, deepest := 0, 0
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '{', '[', '(':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > limit {
					return deepest
				}
			}
		case '}', ']', ')':
			if depth > 0 {
				depth--
			}
		case '#': // a comment, to the end of the line
			for i < len(q) && q[i] != '\n' && q[i] != '\r' {
				i++
			}
		case '"':
			if strings.HasPrefix(q[i:], `"""`) { // a block string: only \""" escapes
				i += 3
				for i < len(q) && !strings.HasPrefix(q[i:], `"""`) {
					if strings.HasPrefix(q[i:], `\"""`) {
						i += 3
					}
					i++
				}
				i += 2
				continue
			}
			for i++; i < len(q) && q[i] != '"' && q[i] != '\n'; i++ {
				if q[i] == '\\' {
					i++
				}
			}
		}
	}
	return deepest
}

// valueNesting returns how deep lists and objects nest in a decoded JSON
// value, counting no further than limit+1. (encoding/json refuses more
// than 10,000 levels, so the recursion is bounded.)
func valueNesting(v any, limit int) int {
	if limit < 0 {
		return 1
	}
	deepest := 0
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if deepest = max(deepest, valueNesting(e, limit-1)); deepest > limit {
				break
			}
		}
	case map[string]any:
		for _, e := range v {
			if deepest = max(deepest, valueNesting(e, limit-1)); deepest > limit {
				break
			}
		}
	default:
		return 0
	}
	return deepest + 1
}

// jsonNesting returns how deep arrays and objects nest in a JSON text,
// outside strings, counting no further than limit+1: the request body is
// measured before it is decoded.
func jsonNesting(b []byte, limit int) int {
	depth, deepest := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > limit {
					return deepest
				}
			}
		case '}', ']':
			if depth > 0 {
				depth--
			}
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return deepest
}

// capErrors answers at most n errors, then one that says how many more
// there were: an answer's size stays bounded whatever the request.
func capErrors(n int) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if resp == nil || len(resp.Errors) <= n {
			return resp
		}
		more := &gqlerror.Error{Message: fmt.Sprintf("%d more errors not shown", len(resp.Errors)-n)}
		setCode(more, quarry.ETOOLARGE, "")
		resp.Errors = append(resp.Errors[:n:n], more)
		return resp
	}
}

// costLimit rejects operations nested deeper than depth fields, or that
// expand (fragments spread in place) to more than fields fields. Each
// fragment is measured once, and counts stop at the limit, so the check is
// linear in the document's size: a query of nested fragments that doubles
// at each level costs nothing to reject. It runs before gqlgen's
// complexity walk, which expands fragments without memory and would
// otherwise do the exponential work itself.
type costLimit struct{ depth, fields int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = costLimit{}

func (costLimit) ExtensionName() string                          { return "CostLimit" }
func (costLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (c costLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	m := &measurer{frags: oc.Doc.Fragments, memo: map[string]cost{}, cap: c.fields + 1}
	got := m.set(oc.Operation.SelectionSet)
	var err *gqlerror.Error
	switch {
	case got.depth > c.depth:
		err = gqlerror.Errorf("the query nests %d fields deep; the limit is %d", got.depth, c.depth)
	case got.fields > c.fields:
		err = gqlerror.Errorf("the query selects more than %d fields (fragments counted where they are spread)", c.fields)
	default:
		return nil
	}
	setCode(err, quarry.ETOOLARGE, "")
	return err
}

type cost struct{ depth, fields int }

type measurer struct {
	frags ast.FragmentDefinitionList
	memo  map[string]cost
	cap   int
}

func (m *measurer) set(set ast.SelectionSet) cost {
	var out cost
	for _, sel := range set {
		var c cost
		switch sel := sel.(type) {
		case *ast.Field:
			c = m.set(sel.SelectionSet)
			c.depth++
			c.fields++
		case *ast.InlineFragment:
			c = m.set(sel.SelectionSet)
		case *ast.FragmentSpread:
			c = m.fragment(sel.Name)
		}
		out.depth = max(out.depth, c.depth)
		out.fields = min(out.fields+c.fields, m.cap)
	}
	return out
}

func (m *measurer) fragment(name string) cost {
	if c, ok := m.memo[name]; ok {
		return c
	}
	m.memo[name] = cost{} // a cycle (which validation rejects) counts as nothing
	var c cost
	if f := m.frags.ForName(name); f != nil {
		c = m.set(f.SelectionSet)
	}
	m.memo[name] = c
	return c
}

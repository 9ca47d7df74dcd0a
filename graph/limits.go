package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quarrydata/quarry"
)

// Limits bound what one operation may cost. Zero fields take the defaults.
// (The HTTP edge bounds the request body.)
type Limits struct {
	Depth      int // selection depth; default 15 (GraphiQL's introspection query needs 13)
	Complexity int // gqlgen's complexity (one per field); default 5000
}

func (l Limits) withDefaults() Limits {
	if l.Depth <= 0 {
		l.Depth = 15
	}
	if l.Complexity <= 0 {
		l.Complexity = 5000
	}
	return l
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

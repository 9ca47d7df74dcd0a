package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quarrydata/quarry"
)

// Limits bound what one request may cost. Zero fields take the defaults.
type Limits struct {
	BodyBytes  int64 // request body; default 8 MiB (a 1000-dataset upsert is ~2 MiB)
	Depth      int   // selection depth; default 15 (GraphiQL's introspection query needs 13)
	Complexity int   // gqlgen's complexity (one per field); default 5000
}

func (l Limits) withDefaults() Limits {
	if l.BodyBytes <= 0 {
		l.BodyBytes = 8 << 20
	}
	if l.Depth <= 0 {
		l.Depth = 15
	}
	if l.Complexity <= 0 {
		l.Complexity = 5000
	}
	return l
}

// depthLimit rejects operations nested deeper than max fields, counting
// through fragments.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                          { return "DepthLimit" }
func (depthLimit) Validate(schema graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if depth := selectionDepth(oc.Operation.SelectionSet, oc.Doc.Fragments, d.max+1); depth > d.max {
		err := gqlerror.Errorf("the query nests %d or more fields deep; the limit is %d", depth, d.max)
		setCode(err, quarry.ETOOLARGE, "")
		return err
	}
	return nil
}

// selectionDepth returns the depth of set, stopping once it reaches stop (so
// fragment cycles, which validation rejects anyway, cannot loop).
func selectionDepth(set ast.SelectionSet, frags ast.FragmentDefinitionList, stop int) int {
	if stop <= 0 {
		return 0
	}
	max := 0
	for _, sel := range set {
		var d int
		switch sel := sel.(type) {
		case *ast.Field:
			d = 1 + selectionDepth(sel.SelectionSet, frags, stop-1)
		case *ast.InlineFragment:
			d = selectionDepth(sel.SelectionSet, frags, stop)
		case *ast.FragmentSpread:
			if f := frags.ForName(sel.Name); f != nil {
				d = selectionDepth(f.SelectionSet, frags, stop)
			}
		}
		if d > max {
			max = d
		}
	}
	return max
}

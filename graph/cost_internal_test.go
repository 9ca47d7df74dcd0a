package graph

import (
	"context"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// Every list of the schema has a cost of its own, unless the field that
// returns its parent pays for it (a connection's page, a lineage graph's
// limit, a search's page): a list added later without one fails here.
func TestEveryListHasACost(t *testing.T) {
	paidByParent := map[string]bool{
		"DatasetConnection.edges": true, "DatasetConnection.nodes": true,
		"RunConnection.edges": true, "RunConnection.nodes": true,
		"LineageGraph.nodes": true, "LineageGraph.edges": true, "Impact.datasets": true,
		"AuditLogPage.entries": true, "SearchResults.hits": true, "SearchResults.facets": true, "Facet.buckets": true,
	}
	es := NewExecutableSchema(Config{Complexity: costs(0)})
	for _, def := range es.Schema().Types {
		if def.Kind != ast.Object || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			name := def.Name + "." + f.Name
			if f.Type.Elem == nil || paidByParent[name] || strings.HasPrefix(f.Name, "__") {
				continue
			}
			args := map[string]any{}
			for _, a := range f.Arguments {
				if a.Type.NonNull {
					args[a.Name] = "x"
				}
			}
			cost, ok := es.Complexity(context.Background(), def.Name, f.Name, 1, args)
			if !ok || cost < boundedList {
				t.Errorf("%s (a list) costs %d (set: %v); give it a page (first) and a cost in costs", name, cost, ok)
			}
		}
	}
}

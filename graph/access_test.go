package graph_test

import (
	"strings"
	"testing"

	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/graph"
)

// Every root field of the schema has exactly one role in graph.Roles, and
// every entry of the table names a field that exists: a field added to a
// .graphqls file without a role fails here.
func TestEveryFieldHasARole(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	roots := 0
	for _, def := range []string{"Query", "Mutation", "Subscription"} {
		typ := schema.Types[def]
		if typ == nil {
			continue
		}
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			roots++
			role, ok := graph.Roles[def+"."+f.Name]
			if !ok {
				t.Errorf("%s.%s has no role in graph.Roles (graph/access.go)", def, f.Name)
				continue
			}
			if _, err := auth.ParseRole(string(role)); err != nil {
				t.Errorf("%s.%s: %v", def, f.Name, err)
			}
		}
	}
	if roots < 30 {
		t.Fatalf("only %d root fields: the walk is broken", roots)
	}
	// What the roles mean (issue 19), spot-checked.
	for key, want := range map[string]auth.Role{
		"Query.search": auth.Viewer, "Query.lineage": auth.Viewer,
		"Mutation.updateDataset": auth.Editor, "Mutation.setFreshnessPolicy": auth.Editor, "Mutation.addLineageEdge": auth.Editor,
		"Mutation.reportRun": auth.Ingest, "Mutation.reportCheck": auth.Ingest, "Mutation.upsertDatasets": auth.Ingest,
		"Mutation.registerSource": auth.Admin, "Mutation.createApiToken": auth.Admin, "Query.auditLog": auth.Admin,
		"Source.dsn": auth.Admin, "AlertDelivery.lastError": auth.Admin,
	} {
		if graph.Roles[key] != want {
			t.Errorf("%s needs %q; want %q", key, graph.Roles[key], want)
		}
	}
	for key := range graph.Roles {
		typ, field, _ := strings.Cut(key, ".")
		def := schema.Types[typ]
		if def == nil || def.Fields.ForName(field) == nil {
			t.Errorf("graph.Roles has %q, which the schema does not", key)
		}
	}
}

package olevent

import (
	"encoding/json"
	"testing"
)

// The demo leaves out the inputs of a job that reads nothing, and
// `quarry run` writes "inputs":[]; both rely on nil and empty differing.
func TestRunEventInputsNilOrEmpty(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   RunEvent
		want string
	}{
		{"nil", RunEvent{EventType: "START", EventTime: "2026-11-22T09:30:00Z", Producer: "p", SchemaURL: RunEventSchema,
			Run: Run{RunID: "r"}, Job: Job{Namespace: "ns", Name: "j"}},
			`{"eventType":"START","eventTime":"2026-11-22T09:30:00Z","producer":"p","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent","run":{"runId":"r"},"job":{"namespace":"ns","name":"j"}}`},
		{"empty", RunEvent{EventType: "START", EventTime: "t", Producer: "p", SchemaURL: "s", Run: Run{RunID: "r"}, Job: Job{Namespace: "ns", Name: "j"},
			Inputs: []Dataset{}, Outputs: []Dataset{{Namespace: "pg://db", Name: "a.b"}}},
			`{"eventType":"START","eventTime":"t","producer":"p","schemaURL":"s","run":{"runId":"r"},"job":{"namespace":"ns","name":"j"},"inputs":[],"outputs":[{"namespace":"pg://db","name":"a.b"}]}`},
		{"facets", RunEvent{EventType: "COMPLETE", EventTime: "t", Producer: "p", SchemaURL: "s",
			Run: Run{RunID: "r", Facets: map[string]any{"f": NewFacet("p", "ErrorMessageRunFacet", "1-0-1")}}, Job: Job{Namespace: "ns", Name: "j"}},
			`{"eventType":"COMPLETE","eventTime":"t","producer":"p","schemaURL":"s","run":{"runId":"r","facets":{"f":{"_producer":"p","_schemaURL":"https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"}}},"job":{"namespace":"ns","name":"j"}}`},
	} {
		b, err := json.Marshal(tc.ev)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, b, tc.want)
		}
	}
}

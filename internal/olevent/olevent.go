// Package olevent holds the JSON of an OpenLineage run event (spec 2-0-2)
// as Quarry's own producers write it: the demo's ETL history and the
// reports of `quarry run`. Reading events is lineage's job (ParseEvent);
// these types only write them, so that the two producers agree on the
// wire names.
package olevent

// RunEventSchema is the schemaURL of a run event.
const RunEventSchema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

// RunEvent is one run event. Inputs and Outputs are left out when nil and
// written as [] when empty but not nil: the demo leaves out what a job
// does not read, `quarry run` always says what it read, even nothing.
type RunEvent struct {
	EventType string    `json:"eventType"`
	EventTime string    `json:"eventTime"`
	Producer  string    `json:"producer"`
	SchemaURL string    `json:"schemaURL"`
	Run       Run       `json:"run"`
	Job       Job       `json:"job"`
	Inputs    []Dataset `json:"inputs,omitzero"`
	Outputs   []Dataset `json:"outputs,omitzero"`
}

// Run is the event's run and its facets, by facet name.
type Run struct {
	RunID  string         `json:"runId"`
	Facets map[string]any `json:"facets,omitempty"`
}

// Job is the event's job and its facets, by facet name.
type Job struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// Dataset is an input or output of the run and its facets, by facet name.
type Dataset struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// Facet is what every facet carries: who wrote it and its schema. Facet
// types embed it, so that these come first.
type Facet struct {
	Producer  string `json:"_producer"`
	SchemaURL string `json:"_schemaURL"`
}

// SpecFacetURL is the schema URL of the spec's facet name at version
// ("1-0-1"), as the spec's facets name their own schema.
func SpecFacetURL(name, version string) string {
	return "https://openlineage.io/spec/facets/" + version + "/" + name + ".json#/$defs/" + name
}

// NewFacet is the header of the spec's facet name at version, written by
// producer.
func NewFacet(producer, name, version string) Facet {
	return Facet{Producer: producer, SchemaURL: SpecFacetURL(name, version)}
}

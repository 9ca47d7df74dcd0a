package demo

// The demo's ETL history is sent as the OpenLineage events (spec 2-0-2)
// that Airflow's, dbt's and Flink's integrations would send, so these types
// write that JSON; Quarry reads it with lineage.ParseEvent like any other
// producer's. The event itself is olevent's; the facets are here.

import "github.com/quarrydata/quarry/internal/olevent"

const producer = "https://github.com/quarrydata/quarry/tree/main/demo"

// facet is what every facet carries: who wrote it and its schema.
type facet = olevent.Facet

func newFacet(name, version string) facet { return olevent.NewFacet(producer, name, version) }

type parentFacet struct {
	facet
	Run struct {
		RunID string `json:"runId"`
	} `json:"run"`
	Job struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"job"`
}

type nominalTimeFacet struct {
	facet
	NominalStartTime string `json:"nominalStartTime"`
}

type errorMessageFacet struct {
	facet
	Message             string `json:"message"`
	ProgrammingLanguage string `json:"programmingLanguage"`
}

type jobTypeFacet struct {
	facet
	ProcessingType string `json:"processingType"`
	Integration    string `json:"integration"`
	JobType        string `json:"jobType"`
}

type documentationFacet struct {
	facet
	Description string `json:"description"`
}

type sqlFacet struct {
	facet
	Query string `json:"query"`
}

type ownershipFacet struct {
	facet
	Owners []owner `json:"owners"`
}

type owner struct {
	Name string `json:"name"`
}

type schemaFacet struct {
	facet
	Fields []schemaField `json:"fields"`
}

type schemaField struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

type columnLineageFacet struct {
	facet
	Fields  map[string]columnInputs `json:"fields"`
	Dataset []inputField            `json:"dataset,omitempty"`
}

type columnInputs struct {
	InputFields []inputField `json:"inputFields"`
}

type inputField struct {
	Namespace       string           `json:"namespace"`
	Name            string           `json:"name"`
	Field           string           `json:"field"`
	Transformations []transformation `json:"transformations"`
}

type transformation struct {
	Type    string `json:"type"`
	Subtype string `json:"subtype"`
}

type assertionsFacet struct {
	facet
	Assertions []assertion `json:"assertions"`
}

type assertion struct {
	Assertion   string `json:"assertion"`
	Success     bool   `json:"success"`
	Column      string `json:"column,omitempty"`
	Severity    string `json:"severity,omitempty"`
	Description string `json:"description,omitempty"`
	Expected    string `json:"expected,omitempty"`
	Actual      string `json:"actual,omitempty"`
}

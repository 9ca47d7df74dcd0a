package quarry

import (
	"slices"
	"time"
)

// Job is a piece of ETL that reads and writes datasets: an Airflow task, a
// Spark application, a dbt model, a cron script. Like a dataset it is named
// (Namespace, Name) and its ID is derived from them.
type Job struct {
	ID          string    `json:"id"`
	Namespace   string    `json:"namespace"`
	Name        string    `json:"name"`
	Type        string    `json:"type,omitempty"` // e.g. "BATCH/AIRFLOW/TASK", from the jobType facet
	Description string    `json:"description,omitempty"`
	SQL         string    `json:"sql,omitempty"`
	Owners      []string  `json:"owners,omitempty"`
	SourceURL   string    `json:"sourceUrl,omitempty"` // source code location
	Facts       *JobFacts `json:"facts,omitempty"`     // its DAG, schedule, command: job_facts.go
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Sizes of the texts a job and a run keep from their facets. Each is
// stored in the job's or run's record, which every event of the job
// reads; before they were capped a 10 MB sql facet was accepted and
// took the server to 1.5 GB. Errors name the OpenLineage facet field.
const (
	MaxSQLLen        = 1 << 20    // the sql facet's query
	MaxStackTraceLen = 1 << 20    // the errorMessage facet's stackTrace
	MaxURLLen        = 8 << 10    // the sourceCodeLocation facet's url
	MaxJobTypeLen    = MaxNameLen // the jobType facet, its parts joined
	// The documentation facet's description and the errorMessage facet's
	// message take MaxDescriptionLen, as a dataset's description does.
)

// Normalize validates a job's identity and the sizes of its texts, and
// sets its ID.
func (j *Job) Normalize() error {
	var err error
	if j.Namespace, err = NormalizeNamespace(j.Namespace); err != nil {
		return InField("namespace", err)
	}
	if j.Name, err = NormalizeName(j.Name); err != nil {
		return InField("name", err)
	}
	if j.Owners, err = NormalizeLabels(j.Owners); err != nil {
		return InField("owners", err)
	}
	for _, f := range []struct {
		field string
		text  string
		max   int
	}{
		{"facets.sql.query", j.SQL, MaxSQLLen},
		{"facets.documentation.description", j.Description, MaxDescriptionLen},
		{"facets.sourceCodeLocation.url", j.SourceURL, MaxURLLen},
		{"facets.jobType", j.Type, MaxJobTypeLen},
	} {
		if err := checkSize(f.field, f.text, f.max); err != nil {
			return err
		}
	}
	if j.Facts != nil {
		f := *j.Facts // the event's stays as sent
		if j.Facts = nil; f.Normalize() {
			j.Facts = &f
		}
	}
	j.ID = NewID(EntityJob, j.Namespace, j.Name)
	return nil
}

// RunState is the state of a run, as OpenLineage's eventType names it.
type RunState string

const (
	RunStart    RunState = "START"
	RunRunning  RunState = "RUNNING"
	RunComplete RunState = "COMPLETE"
	RunFail     RunState = "FAIL"
	RunAbort    RunState = "ABORT"
	RunOther    RunState = "OTHER"
)

// RunStates lists every valid state.
var RunStates = []RunState{RunStart, RunRunning, RunComplete, RunFail, RunAbort, RunOther}

// Valid reports whether s is one of RunStates.
func (s RunState) Valid() bool { return slices.Contains(RunStates, s) }

// Terminal reports whether a run in state s has ended.
func (s RunState) Terminal() bool { return s == RunComplete || s == RunFail || s == RunAbort }

// Run is one execution of a job. Its ID is the producer's run UUID.
type Run struct {
	ID           string     `json:"id"`
	JobID        string     `json:"jobId"`
	State        RunState   `json:"state"`
	StateAt      time.Time  `json:"stateAt"` // event time of the event that set State
	StartedAt    *time.Time `json:"startedAt,omitempty"`
	EndedAt      *time.Time `json:"endedAt,omitempty"`
	NominalStart *time.Time `json:"nominalStart,omitempty"`
	NominalEnd   *time.Time `json:"nominalEnd,omitempty"`
	ErrorMessage string     `json:"errorMessage,omitempty"`
	StackTrace   string     `json:"stackTrace,omitempty"`
	ParentRunID  string     `json:"parentRunId,omitempty"`
	Inputs       []string   `json:"inputs,omitempty"`  // dataset IDs
	Outputs      []string   `json:"outputs,omitempty"` // dataset IDs
	Events       int        `json:"events"`            // events applied
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
}

// Observe folds one event of the run, sent at time at, into r. Events may
// arrive in any order, so they accumulate as OpenLineage says: an ended run
// (COMPLETE, FAIL, ABORT) is not reopened by a START or RUNNING event that
// arrives late; between two events of the same class the later event time
// wins; OTHER never replaces a known state. The start time is the earliest
// START or RUNNING event, the end time that of the terminal event.
func (r *Run) Observe(rep *RunReport, at time.Time) {
	r.Events++
	s := rep.State
	switch {
	case r.State == "":
		r.State, r.StateAt = s, at
	case s == RunOther:
	case r.State == RunOther:
		r.State, r.StateAt = s, at
	case s.Terminal() != r.State.Terminal():
		if s.Terminal() {
			r.State, r.StateAt = s, at
		}
	case !at.Before(r.StateAt):
		r.State, r.StateAt = s, at
	}
	if (s == RunStart || s == RunRunning) && (r.StartedAt == nil || at.Before(*r.StartedAt)) {
		t := at
		r.StartedAt = &t
	}
	if s.Terminal() && r.State == s && r.StateAt.Equal(at) {
		t := at
		r.EndedAt = &t
	}
	if rep.ErrorMessage != "" {
		r.ErrorMessage, r.StackTrace = rep.ErrorMessage, rep.StackTrace
	}
	if rep.ParentRunID != "" {
		r.ParentRunID = rep.ParentRunID
	}
	if rep.NominalStart != nil {
		r.NominalStart = rep.NominalStart
	}
	if rep.NominalEnd != nil {
		r.NominalEnd = rep.NominalEnd
	}
}

// Duration is how long a finished run took, or 0.
func (r *Run) Duration() time.Duration {
	if r.StartedAt == nil || r.EndedAt == nil {
		return 0
	}
	return r.EndedAt.Sub(*r.StartedAt)
}

// EdgeOrigin says who asserted a lineage edge.
type EdgeOrigin string

const (
	OriginRun     EdgeOrigin = "RUN"     // reported by a job's run (OpenLineage or reportRun)
	OriginCatalog EdgeOrigin = "CATALOG" // read from a database catalog (view definitions)
	OriginManual  EdgeOrigin = "MANUAL"  // declared by a person
	// OriginDBT (dbt.go): read from a dbt project's manifest.
)

// Edge is one lineage edge: data flows From one node To another, through a
// job when JobID is set. Column-level edges also name the columns.
type Edge struct {
	From           string     `json:"from"` // dataset ID
	To             string     `json:"to"`   // dataset ID
	JobID          string     `json:"jobId,omitempty"`
	FromColumn     string     `json:"fromColumn,omitempty"`
	ToColumn       string     `json:"toColumn,omitempty"`
	Transformation string     `json:"transformation,omitempty"` // e.g. DIRECT/IDENTITY, INDIRECT/JOIN
	Origin         EdgeOrigin `json:"origin"`
	UpdatedAt      time.Time  `json:"updatedAt"`
}

// EventKind says which of OpenLineage's three event shapes a LineageEvent
// came from. reportRun produces RunEvents.
type EventKind string

const (
	RunEvent     EventKind = "RUN"     // a run of a job: state, inputs, outputs
	JobEvent     EventKind = "JOB"     // static lineage: a job and its datasets, no run
	DatasetEvent EventKind = "DATASET" // metadata of one dataset, no job
)

// LineageEvent is one lineage report mapped to the catalog's terms: what an
// OpenLineage event or a reportRun mutation says happened. Namespaces and
// names are as the producer sent them; the store normalizes and resolves
// source aliases when it applies the event.
type LineageEvent struct {
	Kind      EventKind
	EventTime time.Time
	Producer  string
	// Digest identifies the event for idempotency: a retried delivery of the
	// same event has the same digest and is stored once.
	Digest  string
	Job     *Job       // nil for a DatasetEvent; facets mapped into its fields
	Run     *RunReport // RunEvent only
	Inputs  []DatasetReport
	Outputs []DatasetReport
}

// RunReport is what one event says about its run.
type RunReport struct {
	ID           string   // the producer's run UUID, lower-case
	State        RunState // the event's type; OTHER for an event without one
	ErrorMessage string   // errorMessage facet
	StackTrace   string
	ParentRunID  string // parent facet: the DAG run of a task, the dbt run of a model
	ParentJob    *Job   // the parent run's job (namespace and name)
	NominalStart *time.Time
	NominalEnd   *time.Time
}

// DatasetReport is what one event says about one of its datasets: the
// dataset facets it carried, mapped. Zero fields carried nothing.
type DatasetReport struct {
	Namespace   string
	Name        string
	Columns     []Column // schema facet
	Description string   // documentation facet
	Owners      []string // ownership facet
	// Lifecycle is the lifecycleStateChange facet: CREATE, DROP, RENAME,
	// OVERWRITE, ALTER or TRUNCATE. A RENAME names the previous identity.
	Lifecycle         string
	PreviousNamespace string
	PreviousName      string
	// ColumnLineage (outputs only) lists, per output column, the input
	// columns it is computed from. An entry with an empty Column lists inputs
	// the whole dataset depends on (filters, joins, sorts).
	ColumnLineage []ColumnLineage
	Checks        []Check         // dataQualityAssertions; DatasetID is set when stored
	Metrics       *DatasetMetrics // dataQualityMetrics
}

// ColumnLineage says an output column is computed from input columns.
type ColumnLineage struct {
	Column string
	Inputs []ColumnSource
}

// ColumnSource is one input column of a ColumnLineage, with how it is used:
// Transformation is OpenLineage's type and subtype, e.g. "DIRECT/IDENTITY",
// "DIRECT/AGGREGATION", "INDIRECT/JOIN".
type ColumnSource struct {
	Namespace      string
	Name           string
	Field          string
	Transformation string
}

// DatasetMetrics are figures a job measured on a dataset (the
// dataQualityMetrics facet). Nil fields were not measured.
type DatasetMetrics struct {
	RowCount    *int64                   `json:"rowCount,omitempty"`
	Bytes       *int64                   `json:"bytes,omitempty"`
	FileCount   *int64                   `json:"fileCount,omitempty"`
	LastUpdated *time.Time               `json:"lastUpdated,omitempty"`
	Columns     map[string]ColumnMetrics `json:"columns,omitempty"`
	ObservedAt  time.Time                `json:"observedAt"`
	RunID       string                   `json:"runId,omitempty"`
}

// ColumnMetrics are figures measured on one column.
type ColumnMetrics struct {
	NullCount     *int64   `json:"nullCount,omitempty"`
	DistinctCount *int64   `json:"distinctCount,omitempty"`
	Count         *float64 `json:"count,omitempty"`
	Sum           *float64 `json:"sum,omitempty"`
	Min           *float64 `json:"min,omitempty"`
	Max           *float64 `json:"max,omitempty"`
}

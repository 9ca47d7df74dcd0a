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
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Normalize validates a job's identity and sets its ID.
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
	StartedAt    *time.Time `json:"startedAt,omitempty"`
	EndedAt      *time.Time `json:"endedAt,omitempty"`
	ErrorMessage string     `json:"errorMessage,omitempty"`
	ParentRunID  string     `json:"parentRunId,omitempty"`
	Inputs       []string   `json:"inputs,omitempty"`  // dataset IDs
	Outputs      []string   `json:"outputs,omitempty"` // dataset IDs
	UpdatedAt    time.Time  `json:"updatedAt"`
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

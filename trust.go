package quarry

import (
	"strings"
	"time"
)

// Trust: what people say of a dataset beyond its description (it is
// deprecated, it is endorsed) and what is wrong upstream of it. A reader
// deciding whether to use a table needs both at a glance.

// Deprecation says a dataset should no longer be used: since when, why,
// and what to use instead.
type Deprecation struct {
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
	// ReplacementID is the dataset to use instead, when one is named.
	ReplacementID string `json:"replacementId,omitempty"`
	// By is who deprecated it; empty when dbt's deprecation_date did.
	By string `json:"by,omitempty"`
	// FromDBT says a dbt project's deprecation_date is what deprecates it.
	FromDBT bool `json:"fromDbt,omitempty"`
}

// Endorsement says someone vouches for a dataset: who, when and why.
type Endorsement struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// Deprecated returns the dataset's deprecation, or nil when it is live. A
// person's edit wins over dbt's deprecation_date; an edit with a zero At
// is a person's "not deprecated" (undeprecating a model dbt deprecates).
func (d *Dataset) Deprecated() *Deprecation {
	if e := d.Edited.Deprecated; e != nil {
		if e.At.IsZero() {
			return nil
		}
		return e
	}
	if d.DBT != nil && d.DBT.Deprecated {
		dep := &Deprecation{FromDBT: true, Note: "deprecated in dbt"}
		if s := d.DBT.Properties["dbt.deprecation_date"]; s != "" {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				dep.At = t.UTC()
			} else if t, err := time.Parse("2006-01-02", s[:min(len(s), 10)]); err == nil {
				dep.At = t.UTC()
			}
			dep.Note = "deprecated in dbt since " + s
		}
		return dep
	}
	return nil
}

// Endorsed returns the dataset's endorsement, or nil.
func (d *Dataset) Endorsed() *Endorsement { return d.Edited.Endorsed }

// DeprecationUpdate deprecates a dataset (Set) or makes it live again
// (Set nil). The store stamps At and By.
type DeprecationUpdate struct {
	Set *Deprecation
}

// EndorsementUpdate endorses a dataset (Set) or withdraws the endorsement
// (Set nil). The store stamps By and At.
type EndorsementUpdate struct {
	Set *Endorsement
}

func (u *DeprecationUpdate) normalize() error {
	if u == nil || u.Set == nil {
		return nil
	}
	u.Set.Note = strings.TrimSpace(u.Set.Note)
	if err := checkDescription(u.Set.Note); err != nil {
		return InField("deprecated.note", err)
	}
	return nil
}

func (u *EndorsementUpdate) normalize() error {
	if u == nil || u.Set == nil {
		return nil
	}
	u.Set.Note = strings.TrimSpace(u.Set.Note)
	if err := checkDescription(u.Set.Note); err != nil {
		return InField("endorsed.note", err)
	}
	return nil
}

// String says what the deprecation is, for the metadata history.
func (d *Deprecation) String() string {
	if d == nil {
		return ""
	}
	s := "deprecated"
	if d.Note != "" {
		s += ": " + d.Note
	}
	if d.ReplacementID != "" {
		s += " (replacement " + d.ReplacementID + ")"
	}
	return s
}

// String says what the endorsement is, for the metadata history.
func (e *Endorsement) String() string {
	if e == nil {
		return ""
	}
	s := "endorsed by " + e.By
	if e.Note != "" {
		s += ": " + e.Note
	}
	return s
}

// UpstreamProblemKind says what is wrong with a dataset upstream.
type UpstreamProblemKind string

const (
	ProblemLate         UpstreamProblemKind = "LATE"          // an open freshness alert
	ProblemCheckFailing UpstreamProblemKind = "CHECK_FAILING" // a check whose latest result is WARN, FAIL or ERROR
	ProblemRunFailed    UpstreamProblemKind = "RUN_FAILED"    // the last run of the job that writes it failed
	ProblemRemoved      UpstreamProblemKind = "REMOVED"
	ProblemDeprecated   UpstreamProblemKind = "DEPRECATED"
)

// PathStep is one node of the path from an upstream problem to the
// dataset it reaches: a dataset or the job between two.
type PathStep struct {
	ID        string
	Kind      string // DATASET or JOB
	Namespace string
	Name      string
}

// UpstreamProblem is something wrong upstream of a dataset.
type UpstreamProblem struct {
	Kind      UpstreamProblemKind
	DatasetID string // the upstream dataset it is about
	Distance  int    // in dataset hops; 1 is a direct input
	Level     AlertLevel
	Check     string // CHECK_FAILING: the check's name
	Column    string // CHECK_FAILING: its column, when it has one
	JobID     string // RUN_FAILED: the job whose last run failed
	Message   string
	// Path runs from the upstream dataset to the dataset asked about,
	// both included, with the jobs between.
	Path []PathStep
}

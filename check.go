package quarry

import (
	"slices"
	"time"
)

// CheckStatus is the outcome of one data quality check.
type CheckStatus string

const (
	CheckPass  CheckStatus = "PASS"
	CheckWarn  CheckStatus = "WARN"
	CheckFail  CheckStatus = "FAIL"
	CheckError CheckStatus = "ERROR" // the check itself could not run
)

// CheckStatuses lists every valid status.
var CheckStatuses = []CheckStatus{CheckPass, CheckWarn, CheckFail, CheckError}

// Valid reports whether s is one of CheckStatuses.
func (s CheckStatus) Valid() bool { return slices.Contains(CheckStatuses, s) }

// Check is one result of a data quality check on a dataset or one of its
// columns. A check is identified by (dataset, column, name); each result is
// kept, so a check has a history.
type Check struct {
	DatasetID  string      `json:"datasetId"`
	Column     string      `json:"column,omitempty"`
	Name       string      `json:"name"`
	Status     CheckStatus `json:"status"`
	Observed   string      `json:"observed,omitempty"`
	Expected   string      `json:"expected,omitempty"`
	Message    string      `json:"message,omitempty"`
	Severity   string      `json:"severity,omitempty"`
	ObservedAt time.Time   `json:"observedAt"`
	RunID      string      `json:"runId,omitempty"`
	// Failures is how many rows failed (a dbt test's failures), when known.
	Failures *int64 `json:"failures,omitempty"`
	// ExecutionTime is how long the check ran, in seconds, when known.
	ExecutionTime float64 `json:"executionTime,omitempty"`
}

// Normalize validates a check result; errors name the field.
func (c *Check) Normalize() error {
	var err error
	if c.Name, err = NormalizeName(c.Name); err != nil {
		return InField("name", err)
	}
	if c.Column != "" {
		if c.Column, err = NormalizeName(c.Column); err != nil {
			return InField("column", err)
		}
	}
	if !c.Status.Valid() {
		return Invalid("status", "%q is not a check status; want PASS, WARN, FAIL or ERROR", Truncate(string(c.Status), 32))
	}
	for _, f := range []struct {
		name  string
		value string
	}{{"observed", c.Observed}, {"expected", c.Expected}, {"message", c.Message}} {
		if err := checkDescription(f.value); err != nil {
			return InField(f.name, err)
		}
	}
	if len(c.Severity) > 64 {
		return Invalid("severity", "is %d bytes long; the limit is 64", len(c.Severity))
	}
	if c.RunID != "" {
		if c.RunID, err = ParseID("runId", c.RunID); err != nil {
			return err
		}
	}
	if !c.ObservedAt.IsZero() {
		return CheckTime("observedAt", c.ObservedAt)
	}
	return nil
}

// Health sums up the latest results of a dataset's checks.
type Health struct {
	Status  CheckStatus // the worst latest result; empty when there are no checks
	Checks  int
	Passing int
	Warning int
	Failing int
	Errored int
}

// HealthOf sums up checks, the latest result of each.
func HealthOf(checks []Check) Health {
	h := Health{Checks: len(checks)}
	rank := map[CheckStatus]int{CheckPass: 1, CheckWarn: 2, CheckFail: 3, CheckError: 4}
	for _, c := range checks {
		switch c.Status {
		case CheckPass:
			h.Passing++
		case CheckWarn:
			h.Warning++
		case CheckFail:
			h.Failing++
		case CheckError:
			h.Errored++
		}
		if rank[c.Status] > rank[h.Status] {
			h.Status = c.Status
		}
	}
	return h
}

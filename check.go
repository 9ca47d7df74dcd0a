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
}

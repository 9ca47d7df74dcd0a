package quarry

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// A dbt project's artifacts (manifest.json and, beside it, catalog.json,
// run_results.json, sources.json) describe the warehouse's tables as the
// team that builds them knows them. An import maps them to a DBTImport,
// which the store writes all at once. What dbt says of a dataset is a layer
// of its own (Dataset.DBT), apart from what crawlers provide and what people
// edit: a crawl keeps it, an import never touches the crawler's columns, and
// people's edits still win for display.

// Kinds of the datasets that dbt exposures name: the consumers at the end of
// the lineage that analysts recognise.
const (
	KindDashboard   DatasetKind = "DASHBOARD"
	KindApplication DatasetKind = "APPLICATION"
	KindMLModel     DatasetKind = "ML_MODEL"
)

// OriginDBT marks lineage edges read from a dbt project's manifest
// (depends_on), as opposed to those its runs reported (RUN).
const OriginDBT EdgeOrigin = "DBT"

// OriginDBTPolicy is the origin of a freshness policy declared in a dbt
// source's freshness block. A policy set by a person wins over it.
const OriginDBTPolicy FreshnessPolicyOrigin = "DBT"

// DBTInfo is what a dbt project says of one dataset. Only a dbt import
// writes it. Its SQL code is kept apart (DBTCode), out of the dataset's
// record, which caches and scans decode often.
type DBTInfo struct {
	Project      string      `json:"project"`
	UniqueID     string      `json:"uniqueId"`
	ResourceType string      `json:"resourceType"` // model, seed, snapshot, source, exposure
	Materialized string      `json:"materialized,omitempty"`
	Package      string      `json:"package,omitempty"`
	Path         string      `json:"path,omitempty"`    // the file that defines it, relative to the project
	DocsURL      string      `json:"docsUrl,omitempty"` // its page in the project's dbt docs, when their address was given
	URL          string      `json:"url,omitempty"`     // an exposure's dashboard or application
	Description  string      `json:"description,omitempty"`
	Owners       []string    `json:"owners,omitempty"`
	Tags         []string    `json:"tags,omitempty"`
	Columns      []DBTColumn `json:"columns,omitempty"`
	// Properties are the rest of meta, and what dbt says beyond the
	// catalog's vocabulary (dbt.access, dbt.group, dbt.version,
	// dbt.contract.enforced, maturity, ...), as text.
	Properties map[string]string `json:"properties,omitempty"`
	Deprecated bool              `json:"deprecated,omitempty"` // its deprecation_date has passed
	// Freshness is a source's freshness block: the dataset's policy unless
	// a person set one.
	Freshness *FreshnessPolicy `json:"freshness,omitempty"`
	Tests     []DBTTest        `json:"tests,omitempty"`
	JobID     string           `json:"jobId,omitempty"` // the job that builds it (a model's, a snapshot's)
	// Created says the import created the dataset: while no registered
	// source crawls it, the import owns its kind and columns, and a model
	// that leaves the project marks it removed. A crawled table is never
	// removed by an import.
	Created bool `json:"created,omitempty"`
}

// DBTColumn is what dbt says of one column.
type DBTColumn struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Type        string            `json:"type,omitempty"` // data_type, else the catalog's type
	Tags        []string          `json:"tags,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
}

// DBTTest is a dbt data test or unit test on a dataset or one of its
// columns. Its results are the dataset's check results of the same column
// and name.
type DBTTest struct {
	UniqueID    string `json:"uniqueId"`
	Name        string `json:"name"`
	Type        string `json:"type"` // not_null, unique, accepted_values, relationships, ..., singular, unit
	Column      string `json:"column,omitempty"`
	Severity    string `json:"severity,omitempty"`
	Description string `json:"description,omitempty"`
}

// DBTCode is a model's or snapshot's SQL (or Python).
type DBTCode struct {
	Language string `json:"language,omitempty"`
	Raw      string `json:"raw,omitempty"`
	Compiled string `json:"compiled,omitempty"`
}

// Property is one of a dataset's properties.
type Property struct {
	Key   string
	Value string
}

// DBTProperties returns the dbt properties of a dataset in key order.
func (d *Dataset) DBTProperties() []Property {
	if d.DBT == nil {
		return nil
	}
	out := make([]Property, 0, len(d.DBT.Properties))
	for _, k := range slices.Sorted(maps.Keys(d.DBT.Properties)) {
		out = append(out, Property{k, d.DBT.Properties[k]})
	}
	return out
}

// DBTImport is one dbt project's artifacts mapped to the catalog's terms:
// the store writes it in one transaction.
type DBTImport struct {
	// Project names the project; with Namespace it scopes what a later
	// import of the same project marks removed.
	Project   string
	Namespace string
	Datasets  []DBTDataset
	Jobs      []Job
	Counts    DBTCounts
	Warnings  []string
}

// DBTDataset is one dataset of an import.
type DBTDataset struct {
	// Dataset carries the identity, and the kind, columns, row count and
	// size the import gives a dataset it owns (Info.Created, no source).
	Dataset Dataset
	Info    DBTInfo
	Code    *DBTCode
	// Upstream are the indexes in DBTImport.Datasets of what it is made
	// from: through Job (an index in DBTImport.Jobs, or -1 for none, as
	// for an exposure).
	Upstream []int
	Job      int
	Results  []Check // test results, DatasetID unset
	// LoadedAt is sources.json's max_loaded_at: a data change.
	LoadedAt *time.Time
}

// DBTCounts count what an import read, by kind.
type DBTCounts struct {
	Models      int `json:"models"`
	Ephemeral   int `json:"ephemeral"` // of Models: lineage steps, not datasets
	Seeds       int `json:"seeds"`
	Snapshots   int `json:"snapshots"`
	Sources     int `json:"sources"`
	Freshness   int `json:"freshness"` // sources with a freshness policy
	Exposures   int `json:"exposures"`
	Tests       int `json:"tests"`
	UnitTests   int `json:"unitTests"`
	TestResults int `json:"testResults"` // results stored as check results
	Jobs        int `json:"jobs"`
	Edges       int `json:"edges"`
}

// DBTResult says what an import did.
type DBTResult struct {
	Project  string    `json:"project"`
	Counts   DBTCounts `json:"counts"`
	Created  int       `json:"created"` // datasets
	Changed  int       `json:"changed"` // datasets whose record changed (created ones included)
	Removed  int       `json:"removed"` // datasets marked removed: models that left the project
	Warnings []string  `json:"warnings"`
}

// dbtColumn returns what dbt says of a column, matching its name exactly,
// else regardless of case (a YAML file may spell a column as the warehouse
// does not).
func (d *Dataset) dbtColumn(name string) *DBTColumn {
	if d.DBT == nil {
		return nil
	}
	cols := d.DBT.Columns
	for i := range cols {
		if cols[i].Name == name {
			return &cols[i]
		}
	}
	for i := range cols {
		if strings.EqualFold(cols[i].Name, name) {
			return &cols[i]
		}
	}
	return nil
}

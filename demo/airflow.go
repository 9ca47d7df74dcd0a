package demo

import (
	"fmt"
	"strings"
	"time"
)

// The airflow run facet that Airflow's OpenLineage provider sends with a
// task's events (airflowDagRun with the DAG's own), with the DAG's facts:
// its id, owner, tags, schedule and file, and the task's id and operator.
// It is no facet of the spec's: a RunFacet of the provider's own.
const coreRunFacet = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet"

// addAirflowFacet adds the facet to an Airflow job's run facets.
func (j *job) addAirflowFacet(facets map[string]any) {
	if j.ns != airflowNS {
		return
	}
	dagID, task, _ := strings.Cut(j.name, ".")
	owner := ""
	if len(j.owners) > 0 {
		owner = strings.TrimPrefix(j.owners[0], "team:")
	}
	tags := []string{"ingest", "warehouse"}
	if dagID == "finance_export" {
		tags = []string{"export", "finance"}
	}
	dag := map[string]any{"dag_id": dagID, "owner": owner, "tags": tags, "schedule_interval": cronOf(j.every, j.at),
		"fileloc": "/opt/airflow/dags/" + dagID + ".py"}
	f := map[string]any{"_producer": producer, "_schemaURL": coreRunFacet, "dag": dag}
	if task == "" {
		facets["airflowDagRun"] = f
		return
	}
	op := "S3ToRedshiftOperator"
	switch dagID {
	case "billing_to_warehouse":
		op = "GenericTransfer"
	case "finance_export":
		op = "RedshiftToS3Operator"
	}
	f["task"] = map[string]any{"task_id": task, "operator_class": op}
	facets["airflow"] = f
}

// cronOf is the cron schedule of a job that runs every period at the
// offset after its boundary (every 6 hours or every day).
func cronOf(every, at time.Duration) string {
	m, h := int(at.Minutes())%60, int(at.Hours())
	if every == 24*time.Hour {
		return fmt.Sprintf("%d %d * * *", m, h)
	}
	return fmt.Sprintf("%d */%d * * *", m, int(every.Hours()))
}

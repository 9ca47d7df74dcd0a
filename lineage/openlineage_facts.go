package lineage

import (
	"strings"

	"github.com/quarrydata/quarry"
)

// Job facts (quarry.JobFacts) from the producers' own facets: Airflow's
// airflow and airflowDagRun run facets, dbt's dbt_version run facet and
// dbt_node job facet, Spark's spark_properties, the processing_engine and
// tags run facets, and quarry run's quarry_run. Their shapes vary with the
// producer's version (Airflow sent a DAG's tags as a list, then as the
// Python text of one), so they are read loosely: a member of another type
// than expected is skipped, never an error.

// jobFacts reads the facts of an event's run facets (run may be -1) and
// job facets; nil when it carries none.
func (d *doc) jobFacts(run, job int32, rr *quarry.RunReport) *quarry.JobFacts {
	rf, jf := d.looseObject(run, "facets"), d.looseObject(job, "facets")
	var f quarry.JobFacts
	for _, name := range []string{"airflow", "airflowDagRun"} {
		a := d.looseObject(rf, name)
		if a < 0 {
			continue
		}
		f.Integration = "airflow"
		if dag := d.looseObject(a, "dag"); dag >= 0 {
			f.DAG = d.loose(dag, "dag_id")
			f.Owner = d.loose(dag, "owner")
			f.Tags = d.looseList(dag, "tags")
			f.FileLocation = d.loose(dag, "fileloc")
			f.Schedule = firstText(d.loose(dag, "schedule_interval"), d.loose(dag, "timetable_summary"))
		}
		if f.DAG == "" {
			f.DAG = d.loose(d.looseObject(a, "dagRun"), "dag_id")
		}
		if task := d.looseObject(a, "task"); task >= 0 {
			f.Task = d.loose(task, "task_id")
			f.Operator = d.loose(task, "operator_class")
		}
	}
	if q := d.looseObject(rf, "quarry_run"); q >= 0 {
		f.Integration = "quarry run"
		f.Command = d.loose(q, "command")
		f.Host = d.loose(q, "host")
	}
	if v := d.loose(d.looseObject(rf, "dbt_version"), "version"); v != "" || d.looseObject(jf, "dbt_node") >= 0 {
		f.Integration = "dbt"
		if v != "" {
			f.Engine = "dbt " + v
		}
	}
	if n := d.looseObject(jf, "dbt_node"); n >= 0 {
		f.Task = d.loose(n, "unique_id")
		f.FileLocation = d.loose(n, "original_file_path")
		f.Operator = d.loose(n, "resource_type")
	}
	if sp := d.looseObject(rf, "spark_properties"); sp >= 0 {
		f.Integration = "spark"
		if f.DAG == "" && (rr == nil || rr.ParentJob == nil) {
			f.DAG = d.loose(d.looseObject(sp, "properties"), "spark.app.name")
		}
	}
	if f.Integration == "" {
		return nil // a producer Quarry reads no facts of
	}
	if pe := d.looseObject(rf, "processing_engine"); pe >= 0 {
		if name := d.loose(pe, "name"); name != "" {
			f.Engine = strings.TrimSpace(name + " " + d.loose(pe, "version"))
		}
	}
	if f.DAG == "" && rr != nil && rr.ParentJob != nil && (f.Integration == "dbt" || f.Integration == "spark") {
		f.DAG = rr.ParentJob.Name
	}
	if tags := d.looseObject(rf, "tags"); tags >= 0 && len(f.Tags) == 0 {
		f.Tags = d.tagsFacet(tags)
	}
	return &f
}

// looseObject is member key of obj when it is an object, else -1 (obj may
// be -1).
func (d *doc) looseObject(obj int32, key string) int32 {
	if obj < 0 || d.nodes[obj].kind != jObject {
		return -1
	}
	if n := d.member(obj, key); n >= 0 && d.nodes[n].kind == jObject {
		return n
	}
	return -1
}

// loose is member key of obj as text: a string, a number or a boolean;
// "" for anything else.
func (d *doc) loose(obj int32, key string) string {
	if obj < 0 || d.nodes[obj].kind != jObject {
		return ""
	}
	n := d.member(obj, key)
	if n < 0 {
		return ""
	}
	switch d.nodes[n].kind {
	case jString:
		return d.text(n)
	case jNumber:
		return d.numText(n)
	case jTrue:
		return "true"
	case jFalse:
		return "false"
	}
	return ""
}

// looseList is member key of obj as a list of texts: an array of strings,
// or a string holding a Python list ("['etl', 'daily']"), as Airflow sends
// a DAG's tags.
func (d *doc) looseList(obj int32, key string) []string {
	if obj < 0 || d.nodes[obj].kind != jObject {
		return nil
	}
	n := d.member(obj, key)
	if n < 0 {
		return nil
	}
	var out []string
	switch d.nodes[n].kind {
	case jArray:
		for c := d.nodes[n].first; c >= 0; c = d.nodes[c].next {
			if d.nodes[c].kind == jString {
				out = append(out, d.text(c))
			}
		}
	case jString:
		s := strings.TrimSpace(d.text(n))
		if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
			s = s[1 : len(s)-1]
		}
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.Trim(strings.TrimSpace(part), `'"`); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// tagsFacet reads the tags run facet: {"tags": [{"key": "pii", "value":
// "true"}]} is the tag "pii", a value other than "true" makes it key:value.
func (d *doc) tagsFacet(f int32) []string {
	arr := d.member(f, "tags")
	if arr < 0 || d.nodes[arr].kind != jArray {
		return nil
	}
	var out []string
	for c := d.nodes[arr].first; c >= 0; c = d.nodes[c].next {
		k, v := d.loose(c, "key"), d.loose(c, "value")
		switch {
		case k == "":
		case v == "" || strings.EqualFold(v, "true"):
			out = append(out, k)
		default:
			out = append(out, k+":"+v)
		}
	}
	return out
}

func firstText(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

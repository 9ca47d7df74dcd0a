package quarry

import (
	"slices"
	"strings"
	"unicode"
)

// JobFacts are what the tool that runs a job says about where the job
// belongs and how it is scheduled, beyond OpenLineage's job facets: an
// Airflow task's DAG (the airflow run facet), a dbt node's project run
// (dbt_node, dbt_version), a Spark job's application (spark_properties),
// a cron job's command line (quarry run's quarry_run facet). Each event
// that carries some replaces those fields of the job's, the others stay.
//
// They are informational, and each producer's version shapes them its own
// way, so an event is never refused for them: Normalize trims what is too
// long and drops what is not text.
type JobFacts struct {
	Integration string `json:"integration,omitempty"` // airflow, dbt, spark, quarry run
	// DAG groups a job with its siblings in its namespace: an Airflow
	// task's dag_id, a dbt node's or Spark action's parent job (the dbt
	// run, the Spark application). Jobs of one DAG are listed together.
	DAG          string   `json:"dag,omitempty"`
	Task         string   `json:"task,omitempty"`         // Airflow's task_id, dbt's node unique_id
	Operator     string   `json:"operator,omitempty"`     // Airflow's operator class; dbt's node type (MODEL, TEST)
	Owner        string   `json:"owner,omitempty"`        // the DAG's owner
	Tags         []string `json:"tags,omitempty"`         // the DAG's or node's tags
	Schedule     string   `json:"schedule,omitempty"`     // the DAG's schedule or timetable
	FileLocation string   `json:"fileLocation,omitempty"` // the DAG's file; the dbt node's file
	Engine       string   `json:"engine,omitempty"`       // processing engine and version: dbt 1.8.2, spark 3.3.4
	Command      string   `json:"command,omitempty"`      // quarry run: the command line, secrets redacted
	Host         string   `json:"host,omitempty"`         // quarry run: where it ran last
}

// Sizes JobFacts keeps: a fact past them is cut.
const (
	MaxFactLen    = 1 << 10 // each fact but the command line
	MaxCommandLen = 8 << 10 // quarry run's command line
)

// Normalize trims each fact, cuts those too long, removes control
// characters but in the command, and sorts and dedups the tags (at most
// MaxLabels of MaxLabelLen). It reports whether any fact is left.
func (f *JobFacts) Normalize() bool {
	for _, s := range []*string{&f.Integration, &f.DAG, &f.Task, &f.Operator, &f.Owner, &f.Schedule, &f.FileLocation, &f.Engine, &f.Host} {
		*s = Truncate(clean(*s), MaxFactLen)
	}
	f.Command = Truncate(strings.ToValidUTF8(strings.TrimSpace(f.Command), "\uFFFD"), MaxCommandLen)
	var tags []string
	for _, t := range f.Tags {
		if t = Truncate(clean(t), MaxLabelLen); t != "" {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	if len(tags) > MaxLabels {
		tags = tags[:MaxLabels]
	}
	f.Tags = tags
	g := *f
	g.Tags = nil
	return len(tags) > 0 || g.Integration+g.DAG+g.Task+g.Operator+g.Owner+g.Schedule+g.FileLocation+g.Engine+g.Command+g.Host != ""
}

func clean(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// Merge returns the facts with those of next over them, field by field
// (a field next leaves empty stays), and whether that changed any.
func (f *JobFacts) Merge(next *JobFacts) (*JobFacts, bool) {
	if next == nil {
		return f, false
	}
	if f == nil {
		c := *next
		return &c, true
	}
	out := *f
	for _, p := range []struct{ dst, src *string }{
		{&out.Integration, &next.Integration}, {&out.DAG, &next.DAG}, {&out.Task, &next.Task}, {&out.Operator, &next.Operator},
		{&out.Owner, &next.Owner}, {&out.Schedule, &next.Schedule}, {&out.FileLocation, &next.FileLocation},
		{&out.Engine, &next.Engine}, {&out.Command, &next.Command}, {&out.Host, &next.Host},
	} {
		if *p.src != "" {
			*p.dst = *p.src
		}
	}
	if len(next.Tags) > 0 {
		out.Tags = next.Tags
	}
	changed := out.Integration != f.Integration || out.DAG != f.DAG || out.Task != f.Task || out.Operator != f.Operator ||
		out.Owner != f.Owner || out.Schedule != f.Schedule || out.FileLocation != f.FileLocation || out.Engine != f.Engine ||
		out.Command != f.Command || out.Host != f.Host || !slices.Equal(out.Tags, f.Tags)
	return &out, changed
}

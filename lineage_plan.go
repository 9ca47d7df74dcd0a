package quarry

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// EventPlan is a lineage event validated and normalized, with what applying
// it writes decided as far as that needs no storage: the job, every dataset
// it names (once), and its lineage edges. A store applies a plan in its
// write transaction, knowing what it already holds.
type EventPlan struct {
	Event *LineageEvent
	At    time.Time // the event time, or zero: the store's commit time
	Job   *Job      // normalized, with its ID; nil for a DatasetEvent
	// Datasets are the datasets the event names, each once by ID, in the
	// order they are first named: inputs, outputs, then the inputs only
	// column lineage names.
	Datasets []DatasetPlan
	Inputs   []string // input dataset IDs, as the event lists them
	Outputs  []string // output dataset IDs, as the event lists them
	// Edges are every input to every output (table level), then the column
	// lineage, one edge per column pair (MergeTransformations). None
	// without a job.
	Edges []Edge
}

// DatasetPlan is one dataset an event names.
type DatasetPlan struct {
	Report *DatasetReport // nil for a dataset named only by column lineage
	// Dataset is the dataset as it is created if it is unknown: its kind
	// guessed from the namespace (KindOfNamespace), its columns,
	// description and owners from the report's facets; normalized, with
	// source aliases resolved and its ID.
	Dataset Dataset
	// Digest is the Dataset's ProvidedDigest when the report carries
	// columns, a description or owners; zero otherwise.
	Digest   [32]byte
	Output   bool   // an output of a job (a DatasetEvent's dataset is not)
	PrevID   string // RENAME: the previous identity's ID
	PrevName string // and its namespace/name
}

// parseRunID parses a run's UUID; the nil UUID names no run (a producer
// that forgot to set one), and every such event would land on one run.
func parseRunID(field, id string) (string, error) {
	id, err := ParseID(field, id)
	if err == nil && id == nilUUID {
		return "", Invalid(field, "is the nil UUID; a run needs an id of its own")
	}
	return id, err
}

const nilUUID = "00000000-0000-0000-0000-000000000000"

// Plan validates an event and normalizes it: it sets the run's and the
// parent run's IDs and the check results of its reports in their
// canonical forms in place. aliases resolves a normalized dataset's
// namespaces to the ones its source declares (and sets its ID again when it
// changes them); nil resolves none. Errors name the event's field.
func (ev *LineageEvent) Plan(aliases func(*Dataset)) (*EventPlan, error) {
	p := &EventPlan{Event: ev, At: ev.EventTime.UTC()}
	if ev.Digest == "" {
		return nil, Invalid("digest", "is required")
	}
	if !ev.EventTime.IsZero() {
		if err := CheckTime("eventTime", ev.EventTime); err != nil {
			return nil, err
		}
	}
	if aliases == nil {
		aliases = func(*Dataset) {}
	}
	switch ev.Kind {
	case RunEvent:
		if ev.Run == nil {
			return nil, Invalid("run", "is required for a run event")
		}
		id, err := parseRunID("run.runId", ev.Run.ID)
		if err != nil {
			return nil, err
		}
		ev.Run.ID = id
		if !ev.Run.State.Valid() {
			return nil, Invalid("eventType", "%q is not a run state", ev.Run.State)
		}
		if err := checkSize("run.facets.errorMessage.message", ev.Run.ErrorMessage, MaxDescriptionLen); err != nil {
			return nil, err
		}
		if err := checkSize("run.facets.errorMessage.stackTrace", ev.Run.StackTrace, MaxStackTraceLen); err != nil {
			return nil, err
		}
		if ev.Run.ParentRunID != "" {
			const field = "run.facets.parent.run.runId"
			if ev.Run.ParentRunID, err = parseRunID(field, ev.Run.ParentRunID); err != nil {
				return nil, err
			}
			if ev.Run.ParentRunID == id {
				return nil, Invalid(field, "is the run's own id: a run cannot be its own parent")
			}
		}
		if ev.Run.ParentJob != nil {
			j := *ev.Run.ParentJob
			if err := j.Normalize(); err != nil {
				return nil, InField("run.facets.parent.job", err)
			}
		}
		fallthrough
	case JobEvent:
		if ev.Job == nil {
			return nil, Invalid("job", "is required")
		}
		j := *ev.Job
		if err := j.Normalize(); err != nil {
			return nil, InField("job", err)
		}
		p.Job = &j
	case DatasetEvent:
		if len(ev.Inputs)+len(ev.Outputs) != 1 {
			return nil, Invalid("dataset", "a dataset event names one dataset")
		}
	default:
		return nil, Invalid("kind", "%q is not an event kind", ev.Kind)
	}

	byID := map[string]int{} // dataset ID -> index in p.Datasets
	// Field paths are built only for an error's message: a column
	// lineage facet names hundreds of input fields.
	add := func(field func() string, r *DatasetReport, ns, name string, output bool) (string, error) {
		var pd DatasetPlan
		d := Dataset{Namespace: ns, Name: name, Kind: KindOfNamespace(ns)}
		if r != nil {
			d.Columns = slices.Clone(r.Columns)
			d.Provided.Description = r.Description
			d.Provided.Owners = slices.Clone(r.Owners)
		}
		if err := d.Normalize(); err != nil {
			return "", InField(field(), err)
		}
		aliases(&d)
		pd.Dataset = d
		if r != nil && (len(r.Columns) > 0 || r.Description != "" || len(r.Owners) > 0) {
			pd.Digest = d.ProvidedDigest()
		}
		id := d.ID
		if i, ok := byID[id]; ok { // named twice: one entry; an output's facets win, an output stays one
			if r != nil && (p.Datasets[i].Report == nil || output) {
				p.Datasets[i].Report, p.Datasets[i].Dataset, p.Datasets[i].Digest = r, pd.Dataset, pd.Digest
			}
			p.Datasets[i].Output = p.Datasets[i].Output || output
			return id, nil
		}
		pd.Report, pd.Output = r, output
		if r != nil && r.Lifecycle == "RENAME" && r.PreviousName != "" {
			prev := Dataset{Namespace: r.PreviousNamespace, Name: r.PreviousName}
			if prev.Namespace == "" {
				prev.Namespace = ns
			}
			if err := prev.Normalize(); err != nil {
				return "", InField(field()+".facets.lifecycleStateChange.previousIdentifier", err)
			}
			aliases(&prev)
			pd.PrevID, pd.PrevName = prev.ID, prev.Namespace+"/"+prev.Name
		}
		if r != nil {
			for i := range r.Checks {
				if err := normalizeAssertion(&r.Checks[i]); err != nil {
					return "", InField(fmt.Sprintf("%s.facets.dataQualityAssertions.assertions[%d]", field(), i), err)
				}
			}
		}
		byID[id] = len(p.Datasets)
		p.Datasets = append(p.Datasets, pd)
		return id, nil
	}
	var ins, outs []string
	for i := range ev.Inputs {
		r := &ev.Inputs[i]
		id, err := add(func() string { return fmt.Sprintf("inputs[%d]", i) }, r, r.Namespace, r.Name, false)
		if err != nil {
			return nil, err
		}
		ins = append(ins, id)
	}
	for i := range ev.Outputs {
		r := &ev.Outputs[i]
		id, err := add(func() string { return fmt.Sprintf("outputs[%d]", i) }, r, r.Namespace, r.Name, ev.Kind != DatasetEvent)
		if err != nil {
			return nil, err
		}
		outs = append(outs, id)
	}
	p.Inputs, p.Outputs = ins, outs
	if p.Job == nil {
		return p, nil
	}
	for _, in := range ins {
		for _, out := range outs {
			if in != out {
				p.Edges = append(p.Edges, Edge{From: in, To: out, JobID: p.Job.ID, Origin: OriginRun})
			}
		}
	}
	named := map[[2]string]string{} // (namespace, name) as a column lineage input names it -> dataset ID
	for i, out := range outs {
		r := &ev.Outputs[i]
		for _, cl := range r.ColumnLineage {
			for k, in := range cl.Inputs {
				field := func() string {
					if cl.Column == "" {
						return fmt.Sprintf("outputs[%d].facets.columnLineage.dataset[%d]", i, k)
					}
					return fmt.Sprintf("outputs[%d].facets.columnLineage.fields.%s.inputFields[%d]", i, cl.Column, k)
				}
				if cl.Column != "" {
					if _, err := NormalizeName(cl.Column); err != nil {
						return nil, InField(fmt.Sprintf("outputs[%d].facets.columnLineage.fields", i), err)
					}
				}
				if _, err := NormalizeName(in.Field); err != nil {
					return nil, InField(field()+".field", err)
				}
				from, ok := named[[2]string{in.Namespace, in.Name}]
				if !ok {
					var err error
					if from, err = add(field, nil, in.Namespace, in.Name, false); err != nil {
						return nil, err
					}
					named[[2]string{in.Namespace, in.Name}] = from
				}
				p.Edges = append(p.Edges, Edge{From: from, To: out, JobID: p.Job.ID, FromColumn: in.Field, ToColumn: cl.Column, Transformation: in.Transformation, Origin: OriginRun})
			}
		}
	}
	p.Edges = MergeTransformations(p.Edges)
	return p, nil
}

// normalizeAssertion validates a dataQualityAssertions result as the
// facet names its fields.
func normalizeAssertion(c *Check) error {
	var err error
	if c.Name, err = NormalizeName(c.Name); err != nil {
		return InField("assertion", err)
	}
	if c.Column != "" {
		if c.Column, err = NormalizeName(c.Column); err != nil {
			return InField("column", err)
		}
	}
	if !c.Status.Valid() {
		return Invalid("success", "%q is not a check status", c.Status)
	}
	return nil
}

// MergeTransformations makes one edge of the edges between the same
// columns (the same ends, job and origin), listing each way the input is
// used ("DIRECT/IDENTITY, INDIRECT/JOIN"), direct uses first, as Spark
// reports several per pair. It reuses edges' array.
func MergeTransformations(edges []Edge) []Edge {
	type pair struct {
		from, to, job, fromColumn, toColumn string
		origin                              EdgeOrigin
	}
	at := make(map[pair]int, len(edges))
	out := edges[:0]
	for _, e := range edges {
		k := pair{e.From, e.To, e.JobID, e.FromColumn, e.ToColumn, e.Origin}
		i, dup := at[k]
		if !dup {
			at[k] = len(out)
			out = append(out, e)
			continue
		}
		ts := strings.Split(out[i].Transformation, ", ")
		if e.Transformation != "" && !slices.Contains(ts, e.Transformation) {
			ts = append(ts, e.Transformation)
			slices.SortStableFunc(ts, func(a, b string) int {
				return strings.Compare(strings.SplitN(a, "/", 2)[0], strings.SplitN(b, "/", 2)[0])
			})
			out[i].Transformation = strings.TrimPrefix(strings.Join(ts, ", "), ", ")
		}
	}
	return out
}

// KindOfNamespace guesses the kind of a dataset first seen in lineage from
// its namespace's scheme: topics are streams, object stores hold files,
// anything else is a table.
func KindOfNamespace(ns string) DatasetKind {
	scheme, _, ok := strings.Cut(strings.ToLower(ns), "://")
	if !ok {
		return KindTable
	}
	switch scheme {
	case "kafka", "pulsar", "kinesis", "pubsub":
		return KindStream
	case "s3", "s3a", "gs", "gcs", "abfs", "abfss", "wasbs", "hdfs", "file", "dbfs":
		return KindFile
	}
	return KindTable
}

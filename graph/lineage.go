package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
)

// event maps reportRun's input to the lineage event an OpenLineage producer
// would have sent, so both paths validate and apply the same way. A retried
// mutation that names its run id and event time is stored once.
func (in *RunInput) event(now time.Time) (*quarry.LineageEvent, error) {
	runID := deref(in.RunID)
	if runID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		runID = id.String()
	}
	at := now
	if in.EventTime != nil {
		at = time.Time(*in.EventTime)
		// Year 1 is the zero time, which would read as "now" later.
		if err := quarry.CheckTime("eventTime", at); err != nil {
			return nil, err
		}
	}
	ev := &quarry.LineageEvent{
		Kind:      quarry.RunEvent,
		EventTime: at,
		Producer:  "quarry/reportRun",
		Job: &quarry.Job{
			Namespace: in.Job.Namespace, Name: in.Job.Name,
			Description: deref(in.Job.Description), Type: deref(in.Job.Type), SourceURL: deref(in.Job.SourceURL),
			Owners: in.Job.Owners, SQL: deref(in.SQL),
		},
		Run: &quarry.RunReport{ID: runID, State: in.State, ErrorMessage: deref(in.ErrorMessage), ParentRunID: deref(in.ParentRunID)},
	}
	for _, d := range in.Inputs {
		ev.Inputs = append(ev.Inputs, quarry.DatasetReport{Namespace: d.Namespace, Name: d.Name})
	}
	for _, d := range in.Outputs {
		ev.Outputs = append(ev.Outputs, quarry.DatasetReport{Namespace: d.Namespace, Name: d.Name})
	}
	for i, cl := range in.ColumnLineage {
		field := fmt.Sprintf("columnLineage[%d]", i)
		if strings.TrimSpace(cl.Column) == "" {
			return nil, quarry.Invalid(field+".column", "must not be empty")
		}
		if len(cl.Inputs) == 0 {
			return nil, quarry.Invalid(field+".inputs", "must name at least one input column")
		}
		lin := quarry.ColumnLineage{Column: cl.Column}
		for j, src := range cl.Inputs {
			f := fmt.Sprintf("%s.inputs[%d]", field, j)
			if _, err := quarry.NormalizeNamespace(src.Namespace); err != nil {
				return nil, quarry.InField(f+".namespace", err)
			}
			if _, err := quarry.NormalizeName(src.Name); err != nil {
				return nil, quarry.InField(f+".name", err)
			}
			if strings.TrimSpace(src.Column) == "" {
				return nil, quarry.Invalid(f+".column", "must not be empty")
			}
			t := deref(src.Transformation)
			if t == "" {
				t = "DIRECT/IDENTITY"
			}
			lin.Inputs = append(lin.Inputs, quarry.ColumnSource{Namespace: src.Namespace, Name: src.Name, Field: src.Column, Transformation: t})
		}
		out := -1
		for k, o := range ev.Outputs {
			if o.Namespace == cl.Output.Namespace && o.Name == cl.Output.Name {
				out = k
			}
		}
		if out < 0 {
			if _, err := quarry.NormalizeNamespace(cl.Output.Namespace); err != nil {
				return nil, quarry.InField(field+".output.namespace", err)
			}
			ev.Outputs = append(ev.Outputs, quarry.DatasetReport{Namespace: cl.Output.Namespace, Name: cl.Output.Name})
			out = len(ev.Outputs) - 1
		}
		ev.Outputs[out].ColumnLineage = append(ev.Outputs[out].ColumnLineage, lin)
	}
	raw, err := json.Marshal(ev) // reportRun's canonical encoding: see quarry.EventDigest
	if err != nil {
		return nil, err
	}
	ev.Digest = quarry.EventDigest(raw)
	return ev, nil
}

// runInputField maps a lineage event's field paths to reportRun's input.
func runInputField(err error) error {
	e, ok := errors.AsType[*quarry.Error](err)
	if !ok || e.Field == "" {
		return err
	}
	f := e.Field
	switch {
	case f == "run.runId":
		f = "runId"
	case f == "run.facets.parent.run.runId":
		f = "parentRunId"
	case f == "run.facets.errorMessage.message":
		f = "errorMessage"
	case f == "job.facets.sql.query":
		f = "sql"
	case f == "job.facets.documentation.description":
		f = "job.description"
	case f == "job.facets.sourceCodeLocation.url":
		f = "job.sourceUrl"
	case f == "job.facets.jobType":
		f = "job.type"
	case strings.HasPrefix(f, "outputs[") && strings.Contains(f, ".facets.columnLineage"):
		f = "columnLineage"
	}
	return &quarry.Error{Code: e.Code, Field: "input." + f, Message: e.Message}
}

// edgeInput resolves a LineageEdgeInput's datasets to a manual edge.
func (r *mutationResolver) edgeInput(ctx context.Context, in LineageEdgeInput) (quarry.Edge, error) {
	e := quarry.Edge{FromColumn: deref(in.FromColumn), ToColumn: deref(in.ToColumn), Origin: quarry.OriginManual}
	for _, end := range []struct {
		field string
		ref   *DatasetRefInput
		id    *string
	}{{"input.from", in.From, &e.From}, {"input.to", in.To, &e.To}} {
		d, err := r.DatasetStore.DatasetByName(ctx, end.ref.Namespace, end.ref.Name)
		if err != nil {
			return e, underField(end.field, err)
		}
		*end.id = d.ID
	}
	return e, nil
}

// datasetsByID loads datasets for a list field, in the given order.
func (r *Resolver) datasetsByID(ctx context.Context, ids []string) ([]*quarry.Dataset, error) {
	if len(ids) == 0 {
		return []*quarry.Dataset{}, nil
	}
	return r.DatasetStore.DatasetsByID(ctx, ids)
}

func (r *Resolver) jobsByID(ctx context.Context, ids []string) ([]*quarry.Job, error) {
	if len(ids) == 0 {
		return []*quarry.Job{}, nil
	}
	return r.JobStore.JobsByID(ctx, ids)
}

// underField puts a coded error's field under prefix, whatever its code
// (quarry.InField re-paths only invalid input).
func underField(prefix string, err error) error {
	qe, ok := errors.AsType[*quarry.Error](err)
	if !ok || qe.Code == quarry.EINTERNAL {
		return err
	}
	f := prefix
	if qe.Field != "" {
		f += "." + qe.Field
	}
	return &quarry.Error{Code: qe.Code, Field: f, Message: qe.Message}
}

// traverse checks lineage()'s arguments and runs the traversal.
func (r *Resolver) traverse(ctx context.Context, nodeID string, direction *LineageDirection, depth *int, columnLevel *bool, limit *int) (*lineage.Result, error) {
	if r.Graph == nil {
		return nil, quarry.Errorf(quarry.EINTERNAL, "this server keeps no lineage graph")
	}
	if _, err := quarry.ParseID("nodeId", nodeID[:min(len(nodeID), 36)]); err != nil {
		return nil, err
	}
	if depth != nil && *depth < 1 {
		return nil, quarry.Invalid("depth", "must be at least 1, got %d", *depth)
	}
	if limit != nil && *limit < 1 {
		return nil, quarry.Invalid("limit", "must be at least 1, got %d", *limit)
	}
	return r.Graph.Traverse(ctx, lineage.Query{Start: nodeID, Direction: toDirection(direction), Depth: deref(depth), ColumnLevel: deref(columnLevel), Limit: deref(limit)})
}

// lineageGraph converts a traversal's result. Jobs on edges carry the
// graph's names for them (the fast path writes those); a job that is not
// among the nodes (a column-level result has none) is read from the store,
// all in one transaction. The executor asks the store for the rest of the
// jobs (edgeJobs).
func (r *Resolver) lineageGraph(ctx context.Context, res *lineage.Result) (*LineageGraph, error) {
	out := &LineageGraph{Truncated: res.Truncated, Nodes: make([]*LineageNode, len(res.Nodes)), Edges: make([]*LineageGraphEdge, len(res.Edges))}
	nodes := make([]LineageNode, len(res.Nodes))
	jobs := map[string]*quarry.Job{}
	for i := range res.Nodes {
		n := &res.Nodes[i]
		nodes[i] = LineageNode{ID: n.ID, Kind: LineageNodeKind(n.Kind), Namespace: n.Namespace, Name: n.Name, Degree: n.Degree, Distance: n.Distance, Removed: n.Removed}
		if n.Kind == lineage.KindColumn {
			nodes[i].Column, nodes[i].DatasetID = &n.Column, &n.DatasetID
		}
		if n.Kind == lineage.KindJob {
			jobs[n.ID] = &quarry.Job{ID: n.ID, Namespace: n.Namespace, Name: n.Name}
		}
		out.Nodes[i] = &nodes[i]
	}
	var unnamed []string // not a node (column edges): its names are in the store
	for i := range res.Edges {
		if id := res.Edges[i].JobID; id != "" && jobs[id] == nil {
			jobs[id] = &quarry.Job{ID: id}
			unnamed = append(unnamed, id)
		}
	}
	if len(unnamed) > 0 {
		slices.Sort(unnamed) // in key order, as bbolt reads them best
		full, err := r.JobStore.JobsByID(ctx, unnamed)
		if err != nil {
			return nil, err
		}
		for _, j := range full {
			jobs[j.ID] = j
		}
	}
	edges := make([]LineageGraphEdge, len(res.Edges))
	for i := range res.Edges {
		e := &res.Edges[i]
		edges[i] = LineageGraphEdge{From: e.From, To: e.To, Origin: e.Origin, Job: jobs[e.JobID]}
		if e.Transformation != "" {
			edges[i].Transformation = &e.Transformation
		}
		out.Edges[i] = &edges[i]
	}
	return out, nil
}

// edgeJobs answers the job of each of a graph's edges (gqlgen calls it
// once for all of a list's edges) from one read of the store, so that every
// field of a job is there; a job the store does not hold keeps the graph's
// names for it. The read costs about 4 us a job the store holds (2.6 M
// instructions a request in BenchmarkLineageHTTP/both/depth=5 with the
// fast path off, where it holds none); the fast path reads nothing.
func (r *Resolver) edgeJobs(ctx context.Context, edges []*LineageGraphEdge) ([]*quarry.Job, error) {
	ids := make([]string, len(edges))
	for i, e := range edges {
		if e.Job != nil {
			ids[i] = e.Job.ID
		}
	}
	full, err := r.jobsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*quarry.Job, len(edges))
	for i, e := range edges {
		if e.Job != nil {
			out[i] = cmp.Or(full[i], e.Job)
		}
	}
	return out, nil
}

func toDirection(d *LineageDirection) lineage.Direction {
	switch deref(d) {
	case LineageDirectionUpstream:
		return lineage.Upstream
	case LineageDirectionDownstream:
		return lineage.Downstream
	}
	return lineage.Both
}

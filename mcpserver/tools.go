package mcpserver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/auth"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/search"
)

// DatasetArgs names a dataset: by id, or by namespace and name.
type DatasetArgs struct {
	ID        string `json:"id,omitempty" jsonschema:"the dataset's id (from search_datasets); or give namespace and name"`
	Namespace string `json:"namespace,omitempty" jsonschema:"the dataset's namespace, e.g. postgres://warehouse:5432"`
	Name      string `json:"name,omitempty" jsonschema:"the dataset's qualified name, e.g. analytics.reporting.daily_revenue"`
}

func readOnly(title string) *mcp.ToolAnnotations {
	f := false
	return &mcp.ToolAnnotations{Title: title, ReadOnlyHint: true, OpenWorldHint: &f}
}

func (s *Server) addTools() {
	addTool(s, auth.Viewer, &mcp.Tool{
		Name: "search_datasets",
		Description: "Find tables, views and files in the data catalog by words of their names, columns, descriptions and tags, best match first. " +
			"Each hit says whether its data is fresh, how its checks do and whether it is deprecated; call get_dataset on a hit for its columns and problems.",
		Annotations: readOnly("Search datasets"),
	}, s.searchDatasets)
	addTool(s, auth.Viewer, &mcp.Tool{
		Name: "get_dataset",
		Description: "Everything that says what a dataset holds and whether to trust it today: description, columns, owners, tags, " +
			"freshness (is its data late?), health (its quality checks), what is wrong upstream (late or failing inputs, failed jobs), " +
			"deprecation and endorsement, the jobs that write and read it, and its usage over the last 30 days (reads, writes, top users, " +
			"its most run queries with calls and mean time, popularity percentile) where the databases' statistics say. Name it by id, or by namespace and name.",
		Annotations: readOnly("Get a dataset"),
	}, s.getDataset)
	addTool(s, auth.Viewer, &mcp.Tool{
		Name: "get_lineage",
		Description: "The lineage around a dataset: where its data comes from (upstream), where it goes (downstream) or both, " +
			"through the jobs that move it; with columnLevel (or a column) the column-to-column lineage.",
		Annotations: readOnly("Get lineage"),
	}, s.getLineage)
	addTool(s, auth.Viewer, &mcp.Tool{
		Name: "impact",
		Description: "What breaks if a dataset or one of its columns changes: every dataset downstream of it, nearest first, " +
			"with the columns that depend on the column. Call it before advising a schema change or a removal.",
		Annotations: readOnly("Impact of a change"),
	}, s.impact)
	addTool(s, auth.Viewer, &mcp.Tool{
		Name:        "list_alerts",
		Description: "The catalog's alerts, worst first (ERROR before WARN, then the longest open): datasets whose data is late (FRESHNESS) and checks that fail (CHECK). Open ones unless open is false.",
		Annotations: readOnly("List alerts"),
	}, s.listAlerts)
	addTool(s, auth.Viewer, &mcp.Tool{
		Name:        "search_jobs",
		Description: "Find ETL jobs (Airflow tasks, dbt models, scripts) by name, description and SQL, with the state of each one's latest run.",
		Annotations: readOnly("Search jobs"),
	}, s.searchJobs)
	addTool(s, auth.Viewer, &mcp.Tool{
		Name:        "get_job",
		Description: "A job: what it reads and writes, its SQL, and its latest runs with their errors. Name it by id, or by namespace and name.",
		Annotations: readOnly("Get a job"),
	}, s.getJob)
	f := false
	addTool(s, auth.Editor, &mcp.Tool{
		Name: "update_description",
		Description: "Set the description of a dataset, or of one of its columns, as the caller (editor role). An empty description removes the edit, " +
			"so the description its source provides shows again. Only when the user asks for it.",
		Annotations: &mcp.ToolAnnotations{Title: "Update a description", IdempotentHint: true, DestructiveHint: &f, OpenWorldHint: &f},
	}, s.updateDescription)
	addTool(s, auth.Editor, &mcp.Tool{
		Name:        "add_tag",
		Description: "Add a tag to a dataset, as the caller (editor role). Only when the user asks for it.",
		Annotations: &mcp.ToolAnnotations{Title: "Add a tag", IdempotentHint: true, DestructiveHint: &f, OpenWorldHint: &f},
	}, s.addTag)
}

// SearchArgs are search_datasets's arguments.
type SearchArgs struct {
	Query     string   `json:"query" jsonschema:"words to find, e.g. daily revenue by country; empty lists all"`
	Kind      []string `json:"kind,omitempty" jsonschema:"only these kinds: TABLE, VIEW, MATERIALIZED_VIEW, EXTERNAL, STREAM, FILE"`
	Namespace []string `json:"namespace,omitempty" jsonschema:"only datasets in these namespaces"`
	Database  []string `json:"database,omitempty"`
	Schema    []string `json:"schema,omitempty"`
	Tags      []string `json:"tags,omitempty" jsonschema:"only datasets with one of these tags"`
	Owners    []string `json:"owners,omitempty"`
	Freshness []string `json:"freshness,omitempty" jsonschema:"only these freshness statuses: FRESH, WARN, ERROR"`
	Health    []string `json:"health,omitempty" jsonschema:"only these check statuses: PASS, WARN, FAIL, ERROR"`
	Limit     *int     `json:"limit,omitempty" jsonschema:"hits to return, 1 to 100; default 10"`
	After     string   `json:"after,omitempty" jsonschema:"the cursor of the previous page (next) for the page after it"`
}

// SearchResult is search_datasets's answer.
type SearchResult struct {
	Total      int         `json:"total" jsonschema:"all hits, of which hits is the first page"`
	Hits       []SearchHit `json:"hits"`
	Next       string      `json:"next,omitempty" jsonschema:"pass as after for the next page; absent on the last"`
	DidYouMean string      `json:"didYouMean,omitempty" jsonschema:"the query spelled as the catalog spells it, when it found little"`
}

// SearchHit is one dataset found.
type SearchHit struct {
	DatasetSummary
	Matched []string `json:"matched,omitempty" jsonschema:"where the words matched, marked <mark>"`
}

func (s *Server) searchDatasets(ctx context.Context, in SearchArgs) (*SearchResult, error) {
	n, err := limit("limit", in.Limit, searchDefault, searchMax)
	if err != nil {
		return nil, err
	}
	q := search.Query{Text: in.Query, First: n, After: in.After, Filter: search.Filter{
		Namespaces: in.Namespace, Databases: in.Database, Schemas: in.Schema, Tags: in.Tags, Owners: in.Owners,
	}}
	for i, k := range in.Kind {
		if !quarry.DatasetKind(k).Valid() {
			return nil, quarry.Invalid(fmt.Sprintf("kind[%d]", i), "%q is not a kind (TABLE, VIEW, MATERIALIZED_VIEW, EXTERNAL, STREAM, FILE)", quarry.Truncate(k, 64))
		}
		q.Filter.Kinds = append(q.Filter.Kinds, k)
	}
	for i, f := range in.Freshness {
		if !slices.Contains([]quarry.FreshnessStatus{quarry.Fresh, quarry.FreshnessWarn, quarry.FreshnessError}, quarry.FreshnessStatus(f)) {
			return nil, quarry.Invalid(fmt.Sprintf("freshness[%d]", i), "%q is not a freshness status (FRESH, WARN, ERROR)", quarry.Truncate(f, 64))
		}
		q.Filter.Freshness = append(q.Filter.Freshness, f)
	}
	for i, h := range in.Health {
		if !quarry.CheckStatus(h).Valid() {
			return nil, quarry.Invalid(fmt.Sprintf("health[%d]", i), "%q is not a check status (PASS, WARN, FAIL, ERROR)", quarry.Truncate(h, 64))
		}
		q.Filter.Health = append(q.Filter.Health, h)
	}
	res, err := s.o.Search.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	var ids []string // those the search did not read
	byID := make(map[string]*quarry.Dataset, len(res.Hits))
	for _, h := range res.Hits {
		if h.Dataset != nil {
			byID[h.ID] = h.Dataset
		} else {
			ids = append(ids, h.ID)
		}
	}
	if len(ids) > 0 {
		ds, err := s.o.Store.DatasetsByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			byID[d.ID] = d
		}
	}
	kept := make([]*quarry.Dataset, 0, len(res.Hits))
	var hits []search.Hit
	for _, h := range res.Hits {
		if d := byID[h.ID]; d != nil { // one that left the store since it was indexed is no hit
			kept, hits = append(kept, d), append(hits, h)
		}
	}
	t, err := s.trustOf(ctx, kept)
	if err != nil {
		return nil, err
	}
	out := &SearchResult{Total: res.Total, Hits: make([]SearchHit, len(kept)), DidYouMean: res.DidYouMean}
	if res.HasNext {
		out.Next = res.EndCursor
	}
	for i, d := range kept {
		out.Hits[i] = SearchHit{DatasetSummary: summary(d, t.freshness[i], t.health[i])}
		for _, m := range hits[i].Matches[:min(len(hits[i].Matches), 3)] {
			out.Hits[i].Matched = append(out.Hits[i].Matched, m.Field+": "+cut(m.Text, shortText))
		}
	}
	return out, nil
}

// GetDatasetArgs are get_dataset's arguments.
type GetDatasetArgs struct {
	DatasetArgs
	Columns *int `json:"columns,omitempty" jsonschema:"columns to list, 1 to 5000; default 200"`
}

func (s *Server) getDataset(ctx context.Context, in GetDatasetArgs) (*Dataset, error) {
	n, err := limit("columns", in.Columns, columnsDefault, quarry.MaxColumns)
	if err != nil {
		return nil, err
	}
	d, err := s.findDataset(ctx, in.DatasetArgs)
	if err != nil {
		return nil, err
	}
	return s.dataset(ctx, d, n)
}

// LineageArgs are get_lineage's arguments.
type LineageArgs struct {
	DatasetArgs
	Column      string `json:"column,omitempty" jsonschema:"start at this column of the dataset (column-level lineage)"`
	Direction   string `json:"direction,omitempty" jsonschema:"upstream, downstream or both (the default)"`
	Depth       *int   `json:"depth,omitempty" jsonschema:"hops to follow, 1 to 10; default 3"`
	ColumnLevel bool   `json:"columnLevel,omitempty" jsonschema:"column-to-column lineage of all its columns"`
	Limit       *int   `json:"limit,omitempty" jsonschema:"nodes to return, 1 to 1000; default 100"`
}

// LineageResult is get_lineage's answer.
type LineageResult struct {
	Nodes     []LineageNode `json:"nodes" jsonschema:"nearest first; the start is the first"`
	Edges     []LineageEdge `json:"edges" jsonschema:"data flows from from to to"`
	Truncated bool          `json:"truncated" jsonschema:"the limit left out nodes within the depth"`
}

// LineageNode is a dataset, job or column of a lineage graph.
type LineageNode struct {
	ID        string `json:"id"`
	Kind      string `json:"kind" jsonschema:"DATASET, JOB or COLUMN"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Column    string `json:"column,omitempty"`
	Distance  int    `json:"distance"`
	Removed   bool   `json:"removed,omitempty"`
}

// LineageEdge is a flow of data between two nodes.
type LineageEdge struct {
	From           string `json:"from" jsonschema:"a node's name (dataset.column for a column)"`
	To             string `json:"to"`
	Job            string `json:"job,omitempty" jsonschema:"for a column edge: the job that moves it"`
	Transformation string `json:"transformation,omitempty"`
}

func (s *Server) getLineage(ctx context.Context, in LineageArgs) (*LineageResult, error) {
	q := lineage.Query{ColumnLevel: in.ColumnLevel}
	switch strings.ToLower(in.Direction) {
	case "", "both":
		q.Direction = lineage.Both
	case "upstream":
		q.Direction = lineage.Upstream
	case "downstream":
		q.Direction = lineage.Downstream
	default:
		return nil, quarry.Invalid("direction", "must be upstream, downstream or both, got %q", quarry.Truncate(in.Direction, 64))
	}
	depth, err := limit("depth", in.Depth, lineage.DefaultDepth, maxDepth)
	if err != nil {
		return nil, err
	}
	n, err := limit("limit", in.Limit, lineageDefault, lineageMax)
	if err != nil {
		return nil, err
	}
	q.Depth, q.Limit = depth, n
	d, err := s.findDataset(ctx, in.DatasetArgs)
	if err != nil {
		return nil, err
	}
	q.Start = d.ID
	if in.Column != "" {
		if d.Column(in.Column) == nil {
			return nil, &quarry.Error{Code: quarry.ENOTFOUND, Field: "column", Message: fmt.Sprintf("%s has no column %q", d.Name, quarry.Truncate(in.Column, 64))}
		}
		q.Start = d.ID + "/" + in.Column
	}
	res, err := s.o.Lineage.Traverse(ctx, q)
	if quarry.ErrorCode(err) == quarry.ENOTFOUND { // no lineage: the graph holds datasets with edges
		return &LineageResult{Nodes: []LineageNode{{ID: q.Start, Kind: lineage.KindDataset, Namespace: d.Namespace, Name: d.Name, Column: in.Column, Removed: d.Removed()}}, Edges: []LineageEdge{}}, nil
	}
	if err != nil {
		return nil, err
	}
	out := &LineageResult{Truncated: res.Truncated, Nodes: make([]LineageNode, len(res.Nodes)), Edges: make([]LineageEdge, 0, len(res.Edges))}
	names := make(map[string]string, len(res.Nodes))
	for i, nd := range res.Nodes {
		out.Nodes[i] = LineageNode{ID: nd.ID, Kind: strings.ToUpper(nd.Kind), Namespace: nd.Namespace, Name: nd.Name, Column: nd.Column, Distance: nd.Distance, Removed: nd.Removed}
		names[nd.ID] = nd.Name
		if nd.Column != "" {
			names[nd.ID] = nd.Name + "." + nd.Column
		}
	}
	var jobIDs []string
	for _, e := range res.Edges {
		if e.JobID != "" && names[e.JobID] == "" && !slices.Contains(jobIDs, e.JobID) {
			jobIDs = append(jobIDs, e.JobID)
		}
	}
	jobs, err := s.jobRefs(ctx, jobIDs)
	if err != nil {
		return nil, err
	}
	jobNames := map[string]string{}
	for _, j := range jobs {
		jobNames[j.ID] = j.Name
	}
	for _, e := range res.Edges {
		le := LineageEdge{From: names[e.From], To: names[e.To], Transformation: e.Transformation}
		if names[e.JobID] == "" { // a column edge: its job is no node of the graph
			le.Job = jobNames[e.JobID]
		}
		out.Edges = append(out.Edges, le)
	}
	return out, nil
}

// ImpactArgs are impact's arguments.
type ImpactArgs struct {
	DatasetArgs
	Column string `json:"column,omitempty" jsonschema:"the column to change; without it, the dataset as a whole"`
	Limit  *int   `json:"limit,omitempty" jsonschema:"impacted datasets to return, 1 to 1000; default 100"`
}

// ImpactResult is impact's answer.
type ImpactResult struct {
	Datasets  []Impacted `json:"datasets" jsonschema:"downstream datasets, nearest first"`
	Truncated bool       `json:"truncated" jsonschema:"the limit left some out"`
}

// Impacted is a dataset that a change reaches.
type Impacted struct {
	ID        string   `json:"id"`
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Distance  int      `json:"distance" jsonschema:"hops from the change; 1 is read directly from it"`
	Columns   []string `json:"columns,omitempty" jsonschema:"for a column's change: its columns that depend on the column; empty when the dataset as a whole does (a filter or join)"`
}

func (s *Server) impact(ctx context.Context, in ImpactArgs) (*ImpactResult, error) {
	n, err := limit("limit", in.Limit, impactDefault, lineageMax)
	if err != nil {
		return nil, err
	}
	d, err := s.findDataset(ctx, in.DatasetArgs)
	if err != nil {
		return nil, err
	}
	if in.Column != "" && d.Column(in.Column) == nil {
		return nil, &quarry.Error{Code: quarry.ENOTFOUND, Field: "column", Message: fmt.Sprintf("%s has no column %q", d.Name, quarry.Truncate(in.Column, 64))}
	}
	hits, truncated, err := s.o.Lineage.Impact(ctx, d.ID, in.Column, n)
	if quarry.ErrorCode(err) == quarry.ENOTFOUND { // no lineage: nothing reads it
		return &ImpactResult{Datasets: []Impacted{}}, nil
	}
	if err != nil {
		return nil, err
	}
	out := &ImpactResult{Datasets: make([]Impacted, len(hits)), Truncated: truncated}
	for i, h := range hits {
		out.Datasets[i] = Impacted{ID: h.DatasetID, Namespace: h.Namespace, Name: h.Name, Distance: h.Distance, Columns: h.Columns}
	}
	return out, nil
}

// AlertsArgs are list_alerts's arguments.
type AlertsArgs struct {
	Open  *bool  `json:"open,omitempty" jsonschema:"open alerts (the default), or with false resolved ones too"`
	Kind  string `json:"kind,omitempty" jsonschema:"FRESHNESS or CHECK; both when absent"`
	Limit *int   `json:"limit,omitempty" jsonschema:"alerts to return, 1 to the page maximum (1000); default 20"`
}

// AlertsResult is list_alerts's answer.
type AlertsResult struct {
	Alerts []Alert `json:"alerts"`
	More   bool    `json:"more" jsonschema:"the limit left some out"`
}

// Alert is a late dataset or a failing check.
type Alert struct {
	Kind       string     `json:"kind" jsonschema:"FRESHNESS or CHECK"`
	Level      string     `json:"level"`
	Status     string     `json:"status" jsonschema:"WARN, ERROR or FAIL; RESOLVED when it no longer holds"`
	DatasetID  string     `json:"datasetId"`
	Namespace  string     `json:"namespace"`
	Dataset    string     `json:"dataset"`
	Column     string     `json:"column,omitempty"`
	Check      string     `json:"check,omitempty"`
	Message    string     `json:"message"`
	OpenedAt   time.Time  `json:"openedAt"`
	ResolvedAt *time.Time `json:"resolvedAt,omitempty"`
}

func (s *Server) listAlerts(ctx context.Context, in AlertsArgs) (*AlertsResult, error) {
	n, err := limit("limit", in.Limit, alertsDefault, s.o.PageMax)
	if err != nil {
		return nil, err
	}
	kind := quarry.AlertKind(strings.ToUpper(in.Kind))
	if in.Kind != "" && kind != quarry.AlertFreshness && kind != quarry.AlertCheck {
		return nil, quarry.Invalid("kind", "must be FRESHNESS or CHECK, got %q", quarry.Truncate(in.Kind, 64))
	}
	open := true
	if in.Open != nil {
		open = *in.Open
	}
	var filter *bool
	if open {
		filter = &open
	}
	alerts, err := s.o.Store.Alerts(ctx, filter)
	if err != nil {
		return nil, err
	}
	out := &AlertsResult{Alerts: []Alert{}}
	for _, a := range alerts {
		if kind != "" && a.Kind != kind {
			continue
		}
		if len(out.Alerts) == n {
			out.More = true
			break
		}
		out.Alerts = append(out.Alerts, Alert{Kind: string(a.Kind), Level: string(a.Level), Status: a.Status, DatasetID: a.DatasetID,
			Namespace: a.Namespace, Dataset: a.Dataset, Column: a.Column, Check: a.Check, Message: cut(a.Message, shortText), OpenedAt: a.OpenedAt, ResolvedAt: a.ResolvedAt})
	}
	return out, nil
}

// JobsArgs are search_jobs's arguments.
type JobsArgs struct {
	Query string `json:"query" jsonschema:"words of the job's name, description or SQL"`
	Limit *int   `json:"limit,omitempty" jsonschema:"jobs to return, 1 to 100; default 10"`
}

// JobsResult is search_jobs's answer.
type JobsResult struct {
	Jobs []JobSummary `json:"jobs"`
}

// JobSummary is a job in a list.
type JobSummary struct {
	JobRef
	Type        string `json:"type,omitempty" jsonschema:"e.g. BATCH/AIRFLOW/TASK"`
	Description string `json:"description,omitempty"`
	LatestRun   *Run   `json:"latestRun,omitempty"`
}

// Run is one run of a job.
type Run struct {
	ID         string     `json:"id"`
	State      string     `json:"state" jsonschema:"START, RUNNING, COMPLETE, FAIL, ABORT or OTHER"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	EndedAt    *time.Time `json:"endedAt,omitempty"`
	DurationMs *int64     `json:"durationMs,omitempty"`
	Error      string     `json:"error,omitempty" jsonschema:"a failed run's error message"`
}

func run(r *quarry.Run) *Run {
	out := &Run{ID: r.ID, State: string(r.State), StartedAt: r.StartedAt, EndedAt: r.EndedAt, Error: cut(r.ErrorMessage, shortText)}
	if r.StartedAt != nil && r.EndedAt != nil {
		ms := r.Duration().Milliseconds()
		out.DurationMs = &ms
	}
	return out
}

func (s *Server) searchJobs(ctx context.Context, in JobsArgs) (*JobsResult, error) {
	n, err := limit("limit", in.Limit, jobsDefault, jobsMax)
	if err != nil {
		return nil, err
	}
	hits, err := s.o.Search.SearchJobs(ctx, in.Query, n)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	out := &JobsResult{Jobs: []JobSummary{}}
	if len(ids) == 0 {
		return out, nil
	}
	jobs, err := s.o.Store.JobsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, j := range jobs {
		if j != nil {
			found = append(found, j.ID)
		}
	}
	latest, err := s.o.Store.LatestRuns(ctx, found)
	if err != nil {
		return nil, err
	}
	i := 0
	for _, j := range jobs {
		if j == nil {
			continue
		}
		js := JobSummary{JobRef: JobRef{ID: j.ID, Namespace: j.Namespace, Name: j.Name}, Type: j.Type, Description: cut(j.Description, shortText)}
		if i < len(latest) && latest[i] != nil {
			js.LatestRun = run(latest[i])
		}
		i++
		out.Jobs = append(out.Jobs, js)
	}
	return out, nil
}

// JobArgs are get_job's arguments.
type JobArgs struct {
	ID        string `json:"id,omitempty" jsonschema:"the job's id (from search_jobs); or give namespace and name"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Runs      *int   `json:"runs,omitempty" jsonschema:"latest runs to list, 1 to the page maximum (1000); default 5"`
}

// Job is get_job's answer.
type Job struct {
	JobRef
	Type        string       `json:"type,omitempty"`
	Description string       `json:"description,omitempty"`
	Owners      []string     `json:"owners,omitempty"`
	SourceURL   string       `json:"sourceUrl,omitempty"`
	SQL         string       `json:"sql,omitempty"`
	Inputs      []DatasetRef `json:"inputs" jsonschema:"the datasets it reads"`
	Outputs     []DatasetRef `json:"outputs" jsonschema:"the datasets it writes"`
	Runs        []Run        `json:"runs" jsonschema:"its latest runs, newest first"`
	LastError   string       `json:"lastError,omitempty" jsonschema:"the error of its latest failed run among those listed"`
}

// DatasetRef names a dataset.
type DatasetRef struct {
	ID        string `json:"id"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (s *Server) getJob(ctx context.Context, in JobArgs) (*Job, error) {
	n, err := limit("runs", in.Runs, runsDefault, s.o.PageMax)
	if err != nil {
		return nil, err
	}
	var j *quarry.Job
	switch {
	case in.ID != "" && (in.Namespace != "" || in.Name != ""):
		return nil, quarry.Invalid("id", "give either id, or namespace and name, not both")
	case in.ID != "":
		id, err := quarry.ParseID("id", in.ID)
		if err != nil {
			return nil, err
		}
		if j, err = s.o.Store.Job(ctx, id); quarry.ErrorCode(err) == quarry.ENOTFOUND {
			return nil, &quarry.Error{Code: quarry.ENOTFOUND, Field: "id", Message: "no job has the id " + id}
		} else if err != nil {
			return nil, err
		}
	case in.Name == "":
		return nil, quarry.Invalid("name", "give id, or namespace and name (search_jobs finds them)")
	case in.Namespace == "":
		return nil, quarry.Invalid("namespace", "give namespace with name (search_jobs finds it)")
	default:
		if j, err = s.o.Store.JobByName(ctx, in.Namespace, in.Name); quarry.ErrorCode(err) == quarry.ENOTFOUND {
			return nil, &quarry.Error{Code: quarry.ENOTFOUND, Field: "name", Message: "no job " + quarry.Truncate(in.Name, 256) + " in " + quarry.Truncate(in.Namespace, 256)}
		} else if err != nil {
			return nil, err
		}
	}
	out := &Job{JobRef: JobRef{ID: j.ID, Namespace: j.Namespace, Name: j.Name}, Type: j.Type, Description: cut(j.Description, longText),
		Owners: j.Owners, SourceURL: j.SourceURL, SQL: cut(j.SQL, longText), Runs: []Run{}}
	ins, outs, err := s.o.Store.JobDatasets(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	if out.Inputs, err = s.datasetRefs(ctx, ins); err != nil {
		return nil, err
	}
	if out.Outputs, err = s.datasetRefs(ctx, outs); err != nil {
		return nil, err
	}
	page, err := s.o.Store.Runs(ctx, j.ID, n, "")
	if err != nil {
		return nil, err
	}
	for i := range page.Runs {
		r := run(&page.Runs[i])
		out.Runs = append(out.Runs, *r)
		if out.LastError == "" && page.Runs[i].State == quarry.RunFail {
			out.LastError = cut(page.Runs[i].ErrorMessage, longText)
		}
	}
	return out, nil
}

func (s *Server) datasetRefs(ctx context.Context, ids []string) ([]DatasetRef, error) {
	out := []DatasetRef{}
	ids = ids[:min(len(ids), s.o.PageMax)]
	if len(ids) == 0 {
		return out, nil
	}
	ds, err := s.o.Store.DatasetsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		out = append(out, DatasetRef{ID: d.ID, Namespace: d.Namespace, Name: d.Name})
	}
	return out, nil
}

// DescriptionArgs are update_description's arguments.
type DescriptionArgs struct {
	DatasetArgs
	Column      string `json:"column,omitempty" jsonschema:"the column to describe; without it, the dataset"`
	Description string `json:"description" jsonschema:"the new description; empty removes the edit"`
}

// TagArgs are add_tag's arguments.
type TagArgs struct {
	DatasetArgs
	Tag string `json:"tag" jsonschema:"the tag, e.g. pii or finance"`
}

// Edited is an edit tool's answer: the dataset as it is now.
type Edited struct {
	DatasetRef
	Description string   `json:"description"`
	Column      string   `json:"column,omitempty"`
	Tags        []string `json:"tags"`
}

func edited(d *quarry.Dataset) *Edited {
	return &Edited{DatasetRef: DatasetRef{ID: d.ID, Namespace: d.Namespace, Name: d.Name}, Description: cut(d.Description(), longText), Tags: append([]string{}, d.Tags()...)}
}

func (s *Server) updateDescription(ctx context.Context, in DescriptionArgs) (*Edited, error) {
	d, err := s.findDataset(ctx, in.DatasetArgs)
	if err != nil {
		return nil, err
	}
	var u quarry.DatasetUpdate
	if in.Column != "" {
		if d.Column(in.Column) == nil {
			return nil, &quarry.Error{Code: quarry.ENOTFOUND, Field: "column", Message: fmt.Sprintf("%s has no column %q", d.Name, quarry.Truncate(in.Column, 64))}
		}
		u.ColumnDescriptions = map[string]string{in.Column: in.Description}
	} else {
		u.Description = &in.Description
	}
	d, err = s.o.Store.UpdateDataset(ctx, d.ID, u)
	if err != nil {
		return nil, argumentOf(err, "description")
	}
	out := edited(d)
	if in.Column != "" {
		out.Column = in.Column
		for _, c := range d.ShownColumns() { // with people's edits
			if c.Name == in.Column {
				out.Description = c.Description
			}
		}
	}
	return out, nil
}

func (s *Server) addTag(ctx context.Context, in TagArgs) (*Edited, error) {
	tag := strings.TrimSpace(in.Tag)
	if tag == "" {
		return nil, quarry.Invalid("tag", "must not be empty")
	}
	d, err := s.findDataset(ctx, in.DatasetArgs)
	if err != nil {
		return nil, err
	}
	tags := d.Tags()
	if slices.Contains(tags, tag) {
		return edited(d), nil
	}
	tags = append(slices.Clone(tags), tag)
	d, err = s.o.Store.UpdateDataset(ctx, d.ID, quarry.DatasetUpdate{Tags: &tags})
	if err != nil {
		return nil, argumentOf(err, "tag")
	}
	return edited(d), nil
}

// argumentOf points an invalid edit at the tool's argument: the store names
// the dataset's fields (tags[3], description).
func argumentOf(err error, arg string) error {
	if e, ok := err.(*quarry.Error); ok && e.Code == quarry.EINVALID {
		return &quarry.Error{Code: e.Code, Field: arg, Message: e.Message}
	}
	return err
}

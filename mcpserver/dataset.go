package mcpserver

import (
	"context"
	"time"

	"github.com/quarrydata/quarry"
)

// DatasetURI is the resource address of a dataset's page.
func DatasetURI(id string) string { return "quarry://dataset/" + id }

// DatasetSummary is a dataset in a list: enough to choose one.
type DatasetSummary struct {
	ID          string   `json:"id"`
	Namespace   string   `json:"namespace" jsonschema:"the database it lives in, e.g. postgres://warehouse:5432"`
	Name        string   `json:"name" jsonschema:"the qualified name, e.g. analytics.reporting.daily_revenue"`
	Kind        string   `json:"kind" jsonschema:"TABLE, VIEW, MATERIALIZED_VIEW, EXTERNAL, STREAM or FILE"`
	Description string   `json:"description,omitempty" jsonschema:"the first few hundred characters"`
	Owners      []string `json:"owners,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Freshness   string   `json:"freshness" jsonschema:"FRESH, WARN (late), ERROR (very late) or UNKNOWN (no policy applies)"`
	Health      string   `json:"health,omitempty" jsonschema:"the worst latest check result: PASS, WARN, FAIL or ERROR; absent without checks"`
	Deprecated  bool     `json:"deprecated,omitempty" jsonschema:"it should no longer be used"`
	Endorsed    bool     `json:"endorsed,omitempty" jsonschema:"someone vouches for it"`
	Removed     bool     `json:"removed,omitempty" jsonschema:"a crawl no longer sees it"`
}

// Dataset is one dataset with what says whether to trust it.
type Dataset struct {
	DatasetSummary
	Source        string      `json:"source,omitempty" jsonschema:"the registered source that crawls it"`
	URI           string      `json:"uri" jsonschema:"its resource, quarry://dataset/{id}"`
	Columns       []Column    `json:"columns"`
	ColumnsTotal  int         `json:"columnsTotal" jsonschema:"all its columns; columns lists the first of them"`
	RowCount      *int64      `json:"rowCount,omitempty"`
	SizeBytes     *int64      `json:"sizeBytes,omitempty"`
	LastUpdatedAt *time.Time  `json:"lastUpdatedAt,omitempty" jsonschema:"when its data last changed"`
	FreshnessInfo Freshness   `json:"freshnessDetail"`
	HealthInfo    Health      `json:"healthDetail"`
	Checks        []Check     `json:"checks,omitempty" jsonschema:"its checks whose latest result is not PASS"`
	Upstream      []Problem   `json:"upstreamProblems" jsonschema:"what is wrong upstream within 3 hops, nearest first"`
	Deprecation   *Deprecated `json:"deprecation,omitempty"`
	Endorsement   *Endorsed   `json:"endorsement,omitempty"`
	RemovedAt     *time.Time  `json:"removedAt,omitempty"`
	WrittenBy     []JobRef    `json:"writtenBy,omitempty" jsonschema:"the jobs that write it"`
	ReadBy        []JobRef    `json:"readBy,omitempty" jsonschema:"the jobs that read it"`
	Definition    string      `json:"definition,omitempty" jsonschema:"a view's query"`
	Usage         *Usage      `json:"usage" jsonschema:"how it was used over the last 30 days, where the databases' statistics say"`
}

// Column is one column of a dataset.
type Column struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Nullable    bool   `json:"nullable"`
	Description string `json:"description,omitempty"`
	PrimaryKey  bool   `json:"primaryKey,omitempty"`
	References  string `json:"references,omitempty" jsonschema:"for a foreign key: dataset name.column"`
}

// Freshness says whether a dataset's data is as recent as it should be.
type Freshness struct {
	Status     string     `json:"status" jsonschema:"FRESH, WARN, ERROR or UNKNOWN"`
	Policy     string     `json:"policy,omitempty" jsonschema:"where the policy comes from: SET, DBT, DEFAULT or INFERRED"`
	WarnAfter  string     `json:"warnAfter,omitempty" jsonschema:"late after this long without new data, e.g. 1d"`
	ErrorAfter string     `json:"errorAfter,omitempty"`
	ExpectedBy *time.Time `json:"expectedBy,omitempty" jsonschema:"when new data is due"`
}

// Health sums up the latest results of a dataset's checks.
type Health struct {
	Status  string `json:"status,omitempty" jsonschema:"the worst latest result; absent without checks"`
	Checks  int    `json:"checks"`
	Passing int    `json:"passing"`
	Warning int    `json:"warning"`
	Failing int    `json:"failing"`
	Errored int    `json:"errored"`
}

// Check is a check's latest result.
type Check struct {
	Name       string    `json:"name"`
	Column     string    `json:"column,omitempty"`
	Status     string    `json:"status"`
	Message    string    `json:"message,omitempty"`
	ObservedAt time.Time `json:"observedAt"`
}

// Problem is something wrong upstream of a dataset.
type Problem struct {
	Kind     string `json:"kind" jsonschema:"LATE, CHECK_FAILING, RUN_FAILED, REMOVED or DEPRECATED"`
	Dataset  string `json:"dataset" jsonschema:"the upstream dataset it is about"`
	Distance int    `json:"distance" jsonschema:"in dataset hops; 1 is a direct input"`
	Level    string `json:"level,omitempty"`
	Check    string `json:"check,omitempty"`
	Column   string `json:"column,omitempty"`
	Job      string `json:"job,omitempty" jsonschema:"RUN_FAILED: the job whose last run failed"`
	Message  string `json:"message"`
}

// Deprecated says why and since when a dataset should not be used.
type Deprecated struct {
	At          time.Time `json:"at"`
	Note        string    `json:"note,omitempty"`
	By          string    `json:"by,omitempty"`
	Replacement string    `json:"replacement,omitempty" jsonschema:"the dataset to use instead"`
}

// Endorsed says who vouches for a dataset.
type Endorsed struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// JobRef names a job.
type JobRef struct {
	ID        string `json:"id"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// trust is what the lists of datasets show of each one's state, read for
// all of them at once (as the GraphQL loader reads a page's).
type trust struct {
	freshness []quarry.Freshness
	health    []quarry.Health
	checks    [][]quarry.Check
}

func (s *Server) trustOf(ctx context.Context, ds []*quarry.Dataset) (*trust, error) {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	t := &trust{freshness: make([]quarry.Freshness, len(ds)), health: make([]quarry.Health, len(ds))}
	if len(ds) == 0 {
		return t, nil
	}
	policies, err := s.o.Store.FreshnessPolicies(ctx, ids)
	if err != nil {
		return nil, err
	}
	var inferred []*quarry.FreshnessPolicy // read once, when a dataset needs it
	infer := func(i int) (*quarry.FreshnessPolicy, error) {
		if inferred == nil {
			all, err := s.o.Store.InferredPolicies(ctx, ids)
			if err != nil {
				return nil, err
			}
			inferred = all
		}
		return inferred[i], nil
	}
	now := s.o.Now()
	for i, d := range ds {
		t.freshness[i], err = quarry.EvaluateFreshness(d, policies[i], s.o.FreshnessDefaults, func() (*quarry.FreshnessPolicy, error) { return infer(i) }, now)
		if err != nil {
			return nil, err
		}
	}
	t.checks, err = s.o.Store.ChecksOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		t.health[i] = quarry.HealthOf(t.checks[i])
	}
	return t, nil
}

func summary(d *quarry.Dataset, f quarry.Freshness, h quarry.Health) DatasetSummary {
	return DatasetSummary{
		ID: d.ID, Namespace: d.Namespace, Name: d.Name, Kind: string(d.Kind),
		Description: cut(d.Description(), shortText),
		Owners:      d.Owners(), Tags: d.Tags(),
		Freshness:  string(f.Status),
		Health:     string(h.Status),
		Deprecated: d.Deprecated() != nil,
		Endorsed:   d.Endorsed() != nil,
		Removed:    d.Removed(),
	}
}

// findDataset reads the dataset named by id, or by namespace and name.
func (s *Server) findDataset(ctx context.Context, ref DatasetArgs) (*quarry.Dataset, error) {
	switch {
	case ref.ID != "" && (ref.Namespace != "" || ref.Name != ""):
		return nil, quarry.Invalid("id", "give either id, or namespace and name, not both")
	case ref.ID != "":
		id, err := quarry.ParseID("id", ref.ID)
		if err != nil {
			return nil, err
		}
		d, err := s.o.Store.Dataset(ctx, id)
		if quarry.ErrorCode(err) == quarry.ENOTFOUND {
			return nil, &quarry.Error{Code: quarry.ENOTFOUND, Field: "id", Message: "no dataset has the id " + id}
		}
		return d, err
	case ref.Name == "":
		return nil, quarry.Invalid("name", "give id, or namespace and name (search_datasets finds them)")
	case ref.Namespace == "":
		return nil, quarry.Invalid("namespace", "give namespace with name (search_datasets finds it)")
	}
	d, err := s.o.Store.DatasetByName(ctx, ref.Namespace, ref.Name)
	if quarry.ErrorCode(err) == quarry.ENOTFOUND {
		return nil, &quarry.Error{Code: quarry.ENOTFOUND, Field: "name", Message: "no dataset " + quarry.Truncate(ref.Name, 256) + " in " + quarry.Truncate(ref.Namespace, 256) + " (search_datasets finds datasets by words)"}
	}
	return d, err
}

// problemSource is the store as lineage's UpstreamProblems reads it.
type problemSource struct{ Store }

// dataset builds a dataset's full answer.
func (s *Server) dataset(ctx context.Context, d *quarry.Dataset, columns int) (*Dataset, error) {
	t, err := s.trustOf(ctx, []*quarry.Dataset{d})
	if err != nil {
		return nil, err
	}
	f, h := t.freshness[0], t.health[0]
	out := &Dataset{
		DatasetSummary: summary(d, f, h),
		Source:         d.Source,
		URI:            DatasetURI(d.ID),
		RowCount:       d.RowCount,
		SizeBytes:      d.SizeBytes,
		LastUpdatedAt:  d.LastUpdatedAt,
		RemovedAt:      d.RemovedAt,
		Definition:     cut(d.Definition, longText),
		FreshnessInfo:  Freshness{Status: string(f.Status), Policy: string(f.Origin), ExpectedBy: f.ExpectedBy},
		HealthInfo:     Health{Status: string(h.Status), Checks: h.Checks, Passing: h.Passing, Warning: h.Warning, Failing: h.Failing, Errored: h.Errored},
		Upstream:       []Problem{},
		Columns:        []Column{},
	}
	out.Description = cut(d.Description(), longText) // a list's is short
	if p := f.Policy; p != nil {
		if p.WarnAfter > 0 {
			out.FreshnessInfo.WarnAfter = quarry.FormatDuration(p.WarnAfter)
		}
		if p.ErrorAfter > 0 {
			out.FreshnessInfo.ErrorAfter = quarry.FormatDuration(p.ErrorAfter)
		}
	}
	cols := d.ShownColumns()
	out.ColumnsTotal = len(cols)
	for _, c := range cols[:min(len(cols), columns)] {
		col := Column{Name: c.Name, Type: c.Type, Nullable: c.Nullable, Description: cut(c.Description, shortText), PrimaryKey: c.PrimaryKey}
		if fk := c.ForeignKey; fk != nil {
			col.References = fk.Name + "." + fk.Column
		}
		out.Columns = append(out.Columns, col)
	}
	for _, c := range t.checks[0] {
		if c.Status != quarry.CheckPass {
			out.Checks = append(out.Checks, Check{Name: c.Name, Column: c.Column, Status: string(c.Status), Message: cut(c.Message, shortText), ObservedAt: c.ObservedAt})
		}
	}
	if dep := d.Deprecated(); dep != nil {
		out.Deprecation = &Deprecated{At: dep.At, Note: dep.Note, By: dep.By}
		if dep.ReplacementID != "" {
			if r, err := s.o.Store.Dataset(ctx, dep.ReplacementID); err == nil {
				out.Deprecation.Replacement = r.Name + " (" + r.Namespace + ")"
			}
		}
	}
	if e := d.Endorsed(); e != nil {
		out.Endorsement = &Endorsed{By: e.By, At: e.At, Note: e.Note}
	}
	if err := s.upstreamProblems(ctx, d, out); err != nil {
		return nil, err
	}
	writers, readers, err := s.o.Store.DatasetJobs(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	if out.WrittenBy, err = s.jobRefs(ctx, writers[:min(len(writers), jobsOfDataset)]); err != nil {
		return nil, err
	}
	if out.ReadBy, err = s.jobRefs(ctx, readers[:min(len(readers), jobsOfDataset)]); err != nil {
		return nil, err
	}
	if out.Usage, err = s.usage(ctx, d); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Server) upstreamProblems(ctx context.Context, d *quarry.Dataset, out *Dataset) error {
	probs, err := s.o.Lineage.UpstreamProblems(ctx, d.ID, 0, problemSource{s.o.Store})
	if err != nil {
		return err
	}
	probs = probs[:min(len(probs), problemsDefault)]
	ids, jobIDs := make([]string, len(probs)), []string{}
	for i, p := range probs {
		ids[i] = p.DatasetID
		if p.JobID != "" {
			jobIDs = append(jobIDs, p.JobID)
		}
	}
	names := map[string]string{}
	if len(ids) > 0 {
		ds, err := s.o.Store.DatasetsByID(ctx, ids)
		if err != nil {
			return err
		}
		for _, u := range ds {
			if u != nil {
				names[u.ID] = u.Name
			}
		}
	}
	jobs, err := s.jobRefs(ctx, jobIDs)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		names[j.ID] = j.Name
	}
	for _, p := range probs {
		out.Upstream = append(out.Upstream, Problem{
			Kind: string(p.Kind), Dataset: names[p.DatasetID], Distance: p.Distance, Level: string(p.Level),
			Check: p.Check, Column: p.Column, Job: names[p.JobID], Message: cut(p.Message, shortText),
		})
	}
	return nil
}

func (s *Server) jobRefs(ctx context.Context, ids []string) ([]JobRef, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	jobs, err := s.o.Store.JobsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]JobRef, 0, len(jobs))
	for _, j := range jobs {
		if j != nil {
			out = append(out, JobRef{ID: j.ID, Namespace: j.Namespace, Name: j.Name})
		}
	}
	return out, nil
}

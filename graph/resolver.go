package graph

import (
	"context"
	"log/slog"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/lineage"
	"github.com/quarrydata/quarry/search"
	"github.com/quarrydata/quarry/store"
)

// The store, as the resolvers of each area use it: one *store.Store
// implements them all, and a test can wrap one area (a spy) and no other.

// DatasetStore is what the dataset resolvers read and write, and what
// every area reads of datasets.
type DatasetStore interface {
	UpsertDatasets(ctx context.Context, in []quarry.Dataset) (store.UpsertResult, error)
	Dataset(ctx context.Context, id string) (*quarry.Dataset, error)
	DatasetByName(ctx context.Context, namespace, name string) (*quarry.Dataset, error)
	DatasetsByID(ctx context.Context, ids []string) ([]*quarry.Dataset, error)
	ListDatasets(ctx context.Context, o store.ListOptions) (*store.DatasetPage, error)
	UpdateDataset(ctx context.Context, id string, u quarry.DatasetUpdate) (*quarry.Dataset, error)
	MetadataHistory(ctx context.Context, id string) ([]quarry.MetadataEdit, error)
	MarkRemoved(ctx context.Context, at time.Time, ids ...string) error
	Restore(ctx context.Context, ids ...string) error
	SchemaHistory(ctx context.Context, id string) ([]quarry.SchemaChange, error)
	Edges(ctx context.Context, id string, upstream bool) ([]quarry.Edge, error)
	DataChanges(ctx context.Context, id string, limit int) ([]quarry.DataChange, error)
}

// JobStore is what the lineage resolvers read and write: jobs, runs and
// edges.
type JobStore interface {
	ApplyLineage(ctx context.Context, ev *quarry.LineageEvent) (store.LineageResult, error)
	Job(ctx context.Context, id string) (*quarry.Job, error)
	JobByName(ctx context.Context, namespace, name string) (*quarry.Job, error)
	JobsByID(ctx context.Context, ids []string) ([]*quarry.Job, error) // without their SQL
	Jobs(ctx context.Context) ([]quarry.Job, error)                    // without their SQL
	JobSQL(ctx context.Context, id string) (string, error)
	Run(ctx context.Context, id string) (*quarry.Run, error)
	Runs(ctx context.Context, jobID string, first int, after string) (*store.RunPage, error)
	RunChildren(ctx context.Context, id string) ([]quarry.Run, error)
	JobDatasets(ctx context.Context, jobID string) (inputs, outputs []string, err error)
	DatasetJobs(ctx context.Context, id string) (writers, readers []string, err error)
	PutEdge(ctx context.Context, e quarry.Edge) error
	DeleteEdge(ctx context.Context, e quarry.Edge) error
	LatestRuns(ctx context.Context, jobIDs []string) ([]*quarry.Run, error)
	DAGJobs(ctx context.Context, namespace, dag string) ([]string, error)
}

// QualityStore is what the check and freshness resolvers read and write.
type QualityStore interface {
	Checks(ctx context.Context, datasetID string) ([]quarry.Check, error)
	CheckHistory(ctx context.Context, datasetID, column, name string, limit int) ([]quarry.Check, error)
	PutCheck(ctx context.Context, c quarry.Check) (*quarry.Check, error)
	SetFreshnessPolicy(ctx context.Context, id string, p *quarry.FreshnessPolicy) error
	FreshnessPolicy(ctx context.Context, id string) (*quarry.FreshnessPolicy, error)
	RecordDataChange(ctx context.Context, id string, at time.Time, detail string) (*quarry.Dataset, error)
	InferredPolicy(ctx context.Context, id string) (*quarry.FreshnessPolicy, error)
	// Of many datasets in one read, in the order of ids: a page's.
	FreshnessPolicies(ctx context.Context, ids []string) ([]*quarry.FreshnessPolicy, error)
	InferredPolicies(ctx context.Context, ids []string) ([]*quarry.FreshnessPolicy, error)
	ChecksOf(ctx context.Context, ids []string) ([][]quarry.Check, error)
}

// AlertStore is what the alert resolvers read.
type AlertStore interface {
	Alerts(ctx context.Context, open *bool) ([]quarry.Alert, error)
	AlertHistory(ctx context.Context, key string, limit int) ([]quarry.AlertEvent, error)
	Deliveries(ctx context.Context, key string) ([]quarry.Delivery, error)
	DatasetAlerts(ctx context.Context, id string) ([]quarry.Alert, error)
	OpenAlertsOf(ctx context.Context, ids []string) ([]quarry.Alert, error)
}

// SourceStore is what the source resolvers read.
type SourceStore interface {
	Source(ctx context.Context, name string) (*quarry.Source, error)
	Sources(ctx context.Context) ([]quarry.Source, error)
	CrawlRuns(ctx context.Context, source string, limit int) ([]quarry.CrawlRun, error)
}

// UsageStore is what the usage resolvers read.
type UsageStore interface {
	Usage(ctx context.Context, d *quarry.Dataset, since string) (*quarry.Usage, error)
}

// Popularity gives a dataset's popularity percentile (search.Popularity).
type Popularity interface {
	Popularity(ctx context.Context, id string) (float64, error)
}

// Store is every area at once: what one *store.Store is.
type Store interface {
	DatasetStore
	JobStore
	QualityStore
	AlertStore
	SourceStore
	UsageStore
}

// StoreResolver returns a Resolver whose every store area is st; the
// caller sets the rest (and may wrap one area).
func StoreResolver(st Store) *Resolver {
	return &Resolver{DatasetStore: st, JobStore: st, QualityStore: st, AlertStore: st, SourceStore: st, UsageStore: st}
}

// Search is what the resolvers need of the search index.
type Search interface {
	Search(ctx context.Context, q search.Query) (*search.Results, error)
	Autocomplete(ctx context.Context, prefix string, limit int) ([]search.Suggestion, error)
	SearchJobs(ctx context.Context, text string, first int) ([]search.JobHit, error)
}

// Lineage is what the resolvers need of the lineage graph.
type Lineage interface {
	Traverse(ctx context.Context, q lineage.Query) (*lineage.Result, error)
	Impact(ctx context.Context, datasetID, column string, limit int) ([]lineage.Impacted, bool, error)
	UpstreamProblems(ctx context.Context, datasetID string, depth int, src lineage.ProblemSource) ([]quarry.UpstreamProblem, error)
}

// Crawls is what the resolvers need of the crawl service.
type Crawls interface {
	Register(ctx context.Context, src quarry.Source) (*quarry.Source, error)
	Start(ctx context.Context, name string) (*quarry.CrawlRun, <-chan struct{}, error)
	Running(name string) *quarry.CrawlRun
}

// Resolver holds the resolvers' dependencies. Resolvers translate between
// GraphQL and the domain; the logic lives in the packages they call.
type Resolver struct {
	DatasetStore DatasetStore
	JobStore     JobStore
	QualityStore QualityStore
	AlertStore   AlertStore
	SourceStore  SourceStore
	UsageStore   UsageStore // nil: usage is not kept
	Popular      Popularity // nil: every dataset's popularity is 0
	Crawls       Crawls
	Index        Search
	Graph        Lineage // the lineage graph
	Log          *slog.Logger
	Now          func() time.Time

	// FreshnessDefaults apply to datasets without a policy of their own.
	FreshnessDefaults []quarry.PolicyDefault

	// pageMax is the largest page a list gives (Limits.PageMax), set by
	// NewHandler; zero means defaultPageMax.
	pageMax int

	// Tokens serves the API-token operations; nil answers them not found.
	Tokens TokenService
	// Audit records admin mutations and serves auditLog; nil records none.
	Audit AuditLog
}

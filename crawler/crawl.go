package crawler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// Crawl crawls a source of the given kind (CrawlPostgres, CrawlMySQL).
func Crawl(ctx context.Context, kind quarry.SourceKind, st Store, dsn string, o Options) (*Result, error) {
	switch kind {
	case quarry.SourcePostgres:
		return CrawlPostgres(ctx, st, dsn, o)
	case quarry.SourceMySQL:
		return CrawlMySQL(ctx, st, dsn, o)
	}
	return nil, quarry.Invalid("kind", "crawling %s sources is not supported yet; POSTGRES and MYSQL are", kind)
}

// Store is what a crawl needs of the store.
type Store interface {
	UpsertDatasets(ctx context.Context, in []quarry.Dataset) (store.UpsertResult, error)
	ReplaceEdges(ctx context.Context, origin quarry.EdgeOrigin, byTarget map[string][]quarry.Edge) error
	DatasetsUnder(ctx context.Context, namespace, prefix string) ([]store.NamedID, error)
	MarkRemoved(ctx context.Context, at time.Time, ids ...string) error
	ResolveNamespace(ns string) string
	UsageBaseline(ctx context.Context, ns, db string) (*store.UsageBaseline, error)
	RecordUsage(ctx context.Context, ns, db string, rec store.UsageRecord) error
}

// Options tune a crawl. Zero values take the defaults.
type Options struct {
	Source    string // the registered source's name, recorded on each dataset
	Namespace string // overrides the namespace derived from the DSN

	// Include and Exclude are glob patterns (path.Match) on schema names.
	// With Include set, only matching schemas are crawled; Exclude wins.
	// System schemas are always excluded.
	Include, Exclude []string

	// AllDatabases crawls every database on the server that the role may
	// connect to, instead of only the DSN's.
	AllDatabases bool

	StatementTimeout time.Duration // default 30s
	LockTimeout      time.Duration // default 1s

	// ConnectTimeout bounds connecting (default 10s), QueryTimeout each
	// catalog query (default 60s) and Timeout the whole crawl, writing
	// included (default 10m). They are counted here, not by the server:
	// StatementTimeout cannot fire in a server that is frozen or cut
	// off, and a crawl that waits on one forever would refuse every later
	// crawl of its source. A crawl that runs out of time fails with a
	// *TimeoutError and removes nothing.
	ConnectTimeout time.Duration
	QueryTimeout   time.Duration
	Timeout        time.Duration

	// AllowLocalFiles lets the DSN name files of this machine (passfile,
	// service and servicefile, sslcert, sslkey, sslrootcert) and reach its
	// Unix sockets (a host that is a path, or no host). Off by default: a
	// registered source's DSN comes from whoever may register sources, and
	// the crawl runs with the server's files. Without Trusted, the PG*
	// environment and the home directory's ~/.pgpass, ~/.pg_service.conf
	// and ~/.postgresql are never read.
	AllowLocalFiles bool

	// Dial makes the crawl's connections from the crawler's dialer; nil
	// means the dialer's own DialContext. The server passes one that
	// checks auth.outbound.allow at connect time (auth.Outbound.Dial).
	Dial func(*net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error)

	// Trusted reads the DSN as libpq's tools do, the PG* environment and
	// the home directory included, and lets it read local files: for a DSN
	// the machine's own operator gives (quarry crawl's command line).
	Trusted bool

	// ViewDefinitions reads each view's SQL with pg_get_viewdef, which
	// takes an AccessShareLock on the view (a DDL on the view can then make
	// the crawl wait up to LockTimeout). Off by default.
	ViewDefinitions bool

	// NoUsage reads no usage statistics (usage.go): the crawl reads the
	// catalog only.
	NoUsage bool

	// NoQueryText keeps no statement text in usage: the statements are
	// still parsed for the tables they touch, and users and calls are
	// kept, but query text can hold what the server's normalization left
	// (identifiers, comments), which some sites may not keep.
	NoQueryText bool

	// BatchSize is how many datasets go into one store transaction.
	// Default 1000.
	BatchSize int

	// Progress, when set, is told how far the crawl is.
	Progress func(Progress)

	// Now returns the current time; tests inject a clock.
	Now func() time.Time

	// parseView replaces the parser of MySQL view definitions (tests).
	parseView viewParser
}

// Progress is a crawl's progress: Done of Total steps of Phase.
type Progress struct {
	Database string
	Phase    string // "catalog" or "store"
	Done     int
	Total    int
}

func (o *Options) defaults() error {
	if o.StatementTimeout == 0 {
		o.StatementTimeout = 30 * time.Second
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	for _, p := range append(append([]string{}, o.Include...), o.Exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			return quarry.Invalid("include", "%q is not a glob pattern: %v", p, err)
		}
	}
	return nil
}

// TimeoutError is a crawl that ran out of time: What (connecting, a
// catalog query, the crawl) took longer than After.
type TimeoutError struct {
	What  string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out: %s took longer than %s", e.What, e.After)
}

// withTimeout bounds ctx by d; when the time is up, ctx's cause and the
// error timedOut returns is a *TimeoutError saying what ran out of time.
func withTimeout(ctx context.Context, d time.Duration, what string) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, &TimeoutError{What: what, After: d})
}

// timedOut returns err, or the *TimeoutError behind it when it failed
// because a deadline of ctx (or of a context ctx derives from) passed.
func timedOut(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if te, ok := errors.AsType[*TimeoutError](context.Cause(ctx)); ok {
		return fmt.Errorf("%w (%v)", te, err)
	}
	return err
}

func (o *Options) progress(p Progress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

// inScope reports whether a schema is crawled under the patterns.
func (o *Options) inScope(schema string) bool {
	for _, p := range o.Exclude {
		if ok, _ := path.Match(p, schema); ok {
			return false
		}
	}
	if len(o.Include) == 0 {
		return true
	}
	for _, p := range o.Include {
		if ok, _ := path.Match(p, schema); ok {
			return true
		}
	}
	return false
}

// Result is what one crawl did.
type Result struct {
	Namespace string
	Databases []string
	quarry.CrawlCounts
	Duration time.Duration
	// UsageTime is the part of Duration that reading and storing usage
	// took (usage.go).
	UsageTime time.Duration
}

// snapshot is one database's crawl, ready to write.
type snapshot struct {
	database string
	datasets []quarry.Dataset
	edges    map[string][]quarry.Edge // target dataset ID -> catalog edges into it
	seen     map[string]bool          // every in-scope name, including skipped ones
	skipped  int
	usage    *usageRead        // nil: not read
	ids      map[string]string // dataset name -> ID, if the reader kept them (datasetIDs)
}

// write stores a snapshot: datasets in batches, then catalog edges, then,
// because the snapshot is complete, removal of what it no longer has.
func write(ctx context.Context, st Store, snap *snapshot, o *Options, res *Result) error {
	// Batches go to the store two at a time: one is validated and encoded
	// while the other commits.
	total := len(snap.datasets)
	type batch struct {
		end int
		res store.UpsertResult
		err error
	}
	var pending []chan batch
	collect := func() error {
		b := <-pending[0]
		pending = pending[1:]
		if b.err != nil {
			return fmt.Errorf("store datasets: %w", b.err)
		}
		res.New += b.res.Created
		res.Restored += b.res.Restored
		res.Changed += b.res.Changed - b.res.Created - b.res.Restored
		o.progress(Progress{Database: snap.database, Phase: "store", Done: b.end, Total: total})
		return nil
	}
	var firstErr error
	for start := 0; start < total && firstErr == nil; start += o.BatchSize {
		end := min(start+o.BatchSize, total)
		ch := make(chan batch, 1)
		pending = append(pending, ch)
		go func() {
			r, err := st.UpsertDatasets(ctx, snap.datasets[start:end])
			ch <- batch{end, r, err}
		}()
		if len(pending) == 2 {
			firstErr = collect()
		}
	}
	for len(pending) > 0 {
		if err := collect(); firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return firstErr
	}
	res.Datasets += total
	res.Skipped += snap.skipped
	for _, d := range snap.datasets {
		res.Columns += len(d.Columns)
	}
	for _, es := range snap.edges {
		res.Edges += len(es)
	}
	if err := st.ReplaceEdges(ctx, quarry.OriginCatalog, snap.edges); err != nil {
		return fmt.Errorf("store view lineage: %w", err)
	}

	return nil
}

// crawl is what every kind's crawl does once it has read its DSN: in the
// namespace (the options', else derived from the DSN, then resolved
// through the store's aliases, so that a crawl through another name for a
// registered source's server computes IDs and removal scope in the
// source's namespace), read every database first (read), so that a crawl
// that fails reading or is cancelled writes nothing and removes nothing;
// then write them; and only then, with the crawl complete, mark removed
// what it no longer has. One that fails writing may have stored some
// datasets, but removes nothing. Time runs out after o.Timeout.
func crawl(ctx context.Context, st Store, o *Options, start time.Time, derived string, lay layout,
	read func(ctx context.Context, ns string, res *Result) ([]*snapshot, error)) (*Result, error) {
	ctx, cancel := withTimeout(ctx, o.Timeout, "the crawl")
	defer cancel()
	ns := o.Namespace
	if ns == "" {
		ns = derived
	}
	ns, err := quarry.NormalizeNamespace(ns)
	if err != nil {
		return nil, quarry.InField("namespace", err)
	}
	ns = st.ResolveNamespace(ns)
	res := &Result{Namespace: ns}
	snaps, err := read(ctx, ns, res)
	if err != nil {
		return res, err
	}
	for _, snap := range snaps {
		if err := prepareUsage(ctx, st, ns, snap, res); err != nil {
			return res, timedOut(ctx, err)
		}
		if err := write(ctx, st, snap, o, res); err != nil {
			return res, timedOut(ctx, err)
		}
		if err := recordUsage(ctx, st, ns, snap, o, res); err != nil {
			return res, timedOut(ctx, err)
		}
		res.Databases = append(res.Databases, snap.database)
	}
	if err := removeMissing(ctx, st, ns, snaps, lay, o, res); err != nil {
		return res, timedOut(ctx, err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// layout is what the shared core needs to know of how a source kind
// names its datasets: where a stored dataset lives (its database, and the
// unit the include/exclude patterns name: PostgreSQL's schema, MySQL's
// database), and which units belong to the system.
type layout struct {
	locate func(d store.NamedID) (db, unit string, ok bool)
	system func(unit string) bool
}

// removeMissing marks removed what a complete crawl no longer has: the
// datasets of the crawled databases (with AllDatabases, of the whole
// server) in units the crawl covers that it did not see. Where a dataset
// lives comes from the kind's layout.
func removeMissing(ctx context.Context, st Store, ns string, snaps []*snapshot, lay layout, o *Options, res *Result) error {
	seen := map[string]bool{}
	crawled := map[string]bool{}
	prefix := ""
	for _, snap := range snaps {
		crawled[snap.database] = true
		for name := range snap.seen {
			seen[name] = true
		}
		prefix = snap.database + "."
	}
	if o.AllDatabases || len(snaps) != 1 {
		prefix = ""
	}
	have, err := st.DatasetsUnder(ctx, ns, prefix)
	if err != nil {
		return err
	}
	var gone []string
	for _, d := range have {
		if d.Removed || seen[d.Name] {
			continue
		}
		db, unit, ok := lay.locate(d)
		if !ok || lay.system(unit) || !o.inScope(unit) || !crawled[db] && !o.AllDatabases {
			continue
		}
		gone = append(gone, d.ID)
	}
	if len(gone) > 0 {
		if err := st.MarkRemoved(ctx, o.Now(), gone...); err != nil {
			return fmt.Errorf("mark removed: %w", err)
		}
		res.Removed += len(gone)
	}
	return nil
}

func (o *Options) dial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.Dial == nil {
		return d.DialContext
	}
	return o.Dial(d)
}

package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
)

// Bucket names. They are part of the file format.
var (
	bucketMeta         = []byte("meta")
	bucketChangelog    = []byte("changelog")
	bucketDatasets     = []byte("datasets")           // id -> Dataset
	bucketDatasetNames = []byte("datasets_by_name")   // namespace \x00 name -> nameEntry (see names.go)
	bucketDatasetEdits = []byte("dataset_edits")      // id seq(8) n(2) -> MetadataEdit
	bucketHistory      = []byte("schema_history")     // id seq(8) n(2) -> SchemaChange
	bucketDataChanges  = []byte("data_changes")       // id at(8) seq(8) -> DataChange
	bucketEdgesOut     = []byte("edges_out")          // from to edgekey -> Edge
	bucketEdgesIn      = []byte("edges_in")           // to from edgekey -> nil
	bucketVolatile     = []byte("dataset_volatile")   // id -> volatile (row count, size, stats)
	bucketSources      = []byte("sources")            // name -> Source
	bucketCrawlRuns    = []byte("crawl_runs")         // name \x00 startedAt(8) -> CrawlRun
	bucketJobs         = []byte("jobs")               // id -> Job
	bucketRuns         = []byte("runs")               // run id -> storedRun
	bucketJobRuns      = []byte("job_runs")           // job id, first seen(8), run id -> nil
	bucketRunChildren  = []byte("run_children")       // parent run id, child run id -> nil
	bucketJobEdges     = []byte("job_edges")          // job id, edgekey -> transformation: the run edges a job asserts
	bucketEvents       = []byte("lineage_events")     // event digest -> seq(8): events already applied
	bucketChecks       = []byte("checks")             // dataset id, column \x00 name -> latest Check
	bucketCheckHistory = []byte("check_history")      // dataset id, column \x00 name \x00, at(8) seq(8) -> Check
	bucketMetrics      = []byte("dataset_metrics")    // dataset id -> latest DatasetMetrics
	bucketLineageLog   = []byte("lineage_log")        // seq(8) -> LineageEvent accepted, not yet applied: the lineage log before it had a file of its own; emptied on open
	bucketRunEdges     = []byte("run_edges")          // run id, edgekey -> transformation: the edges a run reported
	bucketPolicies     = []byte("freshness_policies") // dataset id -> FreshnessPolicy set for it

	bucketAlerts          = []byte("alerts")           // alert key -> open Alert
	bucketAlertsResolved  = []byte("alerts_resolved")  // alert key -> Alert as last resolved
	bucketAlertHistory    = []byte("alert_history")    // alert key \x00 seq(8) -> AlertEvent
	bucketAlertDeliveries = []byte("alert_deliveries") // alert key \x00 webhook -> Delivery of its latest event
	bucketAlertOutbox     = []byte("alert_outbox")     // seq(8) -> outboxEntry: an event to send to a webhook
	bucketDatasetStatus   = []byte("dataset_status")   // dataset id -> DatasetStatus, when known
	bucketDatasetJobs     = []byte("dataset_jobs")     // dataset id, 'w' or 'r', job id -> nil: jobs that read or write it, as their runs report
	bucketJobDatasets     = []byte("job_datasets")     // job id, 'w' or 'r', dataset id -> nil: the same, by job
	bucketJobClaims       = []byte("job_claims")       // job id -> jobClaim: whose report the job's edges are
	bucketUsageDays       = []byte("usage_days")       // dataset id \x00 day -> quarry.UsageDay (see usage.go)
	bucketUsageRecent     = []byte("usage_recent")     // dataset id -> UsageRecent
	bucketUsageState      = []byte("usage_state")      // namespace \x00 database -> usageState
	bucketCanBeLate       = []byte("datasets_can_be_late")
	keySchemaVersion      = []byte("schema_version")
	keyDatasetCount       = []byte("dataset_count")
	keyRemovedCount       = []byte("removed_count")
	keyLineageApplied     = []byte("lineage_applied") // sequence of the last lineage log record applied
)

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("store: closed")

// Options configure a Store. A nil *Options means all defaults.
type Options struct {
	// Timeout is how long Open waits for another process's lock on the file
	// before giving up. Zero means 1 second.
	Timeout time.Duration

	// ReadOnly opens the file with a shared lock; writes fail. Migrations
	// are not run, so the file must already be current.
	ReadOnly bool

	// MaxBatch is the most writes one group commit takes. Zero means 256.
	MaxBatch int

	// NoSync skips fsync after each commit. Only for tests and benchmarks
	// that measure something else: an acknowledged write may be lost.
	NoSync bool

	// Logger receives operational messages. Nil means slog.Default().
	Logger *slog.Logger

	// Registerer receives the store's metrics. Nil means none are exported.
	Registerer prometheus.Registerer

	// Now returns the current time. Nil means time.Now; tests inject a clock.
	Now func() time.Time

	// Postgres, when set, is a PostgreSQL connection string (URL or
	// key=value): the store's records live in that database's kv table
	// instead of the file at path, which is then not created. path still
	// names the lineage log (path + ".lineage") and the disk the space
	// probe watches. Timeout bounds connecting; NoSync turns off
	// synchronous_commit.
	Postgres string
	// RoundTripLimit is how long a PostgreSQL transaction waits for one
	// round trip before it fails as unavailable (a hung or cut-off
	// database); zero means DefaultRoundTripLimit.
	RoundTripLimit time.Duration

	// Replicas makes a PostgreSQL store one of several processes on its
	// schema (replicas.go): they share the open lock that a store opened
	// alone holds exclusively, each commit that appends to the changelog
	// notifies the others, and Changed also fires for the others' commits,
	// so that each replica's followers (search index, lineage graph) follow
	// the shared changelog. FollowPoll is how often the changelog's
	// sequence is read whatever is heard (zero: DefaultFollowPoll). Ignored
	// on bbolt.
	Replicas   bool
	FollowPoll time.Duration
	// ReleaseEvery is how often the bbolt engine drops its file's memory
	// map from the process's resident set (resident.go), so that it holds
	// about what the reads of that while touched rather than, in time,
	// the whole file. Zero means DefaultReleaseEvery; negative, never.
	ReleaseEvery time.Duration

	// LeaseCheck is how often, in replicas mode, a replica tries to take
	// the lease of singleton work another holds, and the holder checks
	// that it still holds it (RunSingleton). Zero means DefaultLeaseCheck.
	LeaseCheck time.Duration
}

// Store is Quarry's source of truth: a bbolt file with a changelog.
type Store struct {
	db     kvDB
	bolt   *bolt.DB // the bbolt engine's file, nil on PostgreSQL
	path   string
	log    *slog.Logger
	now    func() time.Time
	max    int
	m      metrics
	reqs   chan *writeReq
	closed chan struct{} // closed when Close begins
	done   chan struct{} // closed when the writer goroutine has exited
	once   sync.Once

	mu      sync.Mutex
	changed chan struct{} // closed and replaced after each commit that wrote changes
	seq     uint64        // the highest changelog sequence committed, for the gauge

	closeMu  sync.RWMutex // held for reading by bulk writes, for writing by Close
	isClosed bool

	aliases   atomic.Pointer[map[string]string] // alias namespace -> source namespace
	sourcesMu sync.Mutex                        // serializes PutSource

	space   space        // whether the disk is full (space.go)
	lin     lineageLog   // accepted lineage events, applied in the background
	writing atomic.Int64 // update calls under way, the applier's included
	records recordCache  // decoded dataset records, for reads

	leaseCheck time.Duration // Options.LeaseCheck, in replicas mode; 0 alone
	keyApplied []byte        // where the lineage log's applier records its progress: keyLineageApplied, or the replica's (replicas.go)
	queueKick  chan struct{} // buffered(1): the shared lineage queue may hold events (lineage_queue.go)
	riderMu    sync.Mutex
	rider      *writeReq // a write that joins the next group commit rather than start one (lineage_queue.go)
	stopQueue  func()    // stops the shared queue's applier; nil unless a replica
}

type metrics struct {
	commitSeconds prometheus.Histogram
	batchSize     prometheus.Histogram
	lastSeq       prometheus.Gauge
}

type writeReq struct {
	fn    func(kvTx) error
	reads []kvRead // keys fn reads, prefetched with the whole group's
	done  chan error
}

// kvRead names keys of a bucket a write will read, and prefixes whose
// keys its cursors will walk (Seek(prefix), then Next while they match).
// Keys of a read that is existsOnly are only asked whether they exist
// (has), their values not read.
type kvRead struct {
	bucket     []byte
	keys       [][]byte
	prefixes   [][]byte
	existsOnly bool
}

// initialMmapSize is the mapping a store starts with: 1 GiB of address
// space where that costs nothing. On Windows bbolt grows the file to its
// mapping, and a 32-bit process has little address space: there it starts
// from bbolt's default.
func initialMmapSize() int {
	if runtime.GOOS == "windows" || strconv.IntSize == 32 {
		return 0
	}
	return 1 << 30
}

// Open opens (creating if needed) the store file at path, runs pending
// migrations and starts the writer.
func Open(path string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout == 0 {
		o.Timeout = time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var db kvDB
	var bdb *bolt.DB
	if o.Postgres != "" {
		pg, err := openPostgres(o.Postgres, &o)
		if err != nil {
			return nil, err
		}
		db = pg
	} else {
		var err error
		if bdb, err = openBolt(path, &o); err != nil {
			return nil, err
		}
		db = boltDB{bdb}
	}
	s := &Store{
		db:      db,
		bolt:    bdb,
		path:    path,
		log:     o.Logger,
		now:     o.Now,
		max:     o.MaxBatch,
		m:       newMetrics(o.Registerer),
		reqs:    make(chan *writeReq),
		closed:  make(chan struct{}),
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		records: newRecordCache(),

		keyApplied: keyLineageApplied,
	}
	if o.Postgres != "" && o.Replicas {
		var err error
		if s.keyApplied, err = replicaAppliedKey(path, o.ReadOnly); err != nil {
			db.Close()
			return nil, err
		}
	}
	if !o.ReadOnly {
		if err := s.migrate(); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	} else if err := s.checkVersion(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	seq, err := s.LastSeq(context.Background())
	if err == nil {
		err = s.loadAliases()
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	s.seq = seq
	s.m.lastSeq.Set(float64(seq))
	s.space.init()
	if o.Registerer != nil {
		o.Registerer.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "quarry_store_disk_full",
			Help: "1 while the store refuses writes because the disk is full (see /healthz for the reason), else 0.",
		}, func() float64 {
			if s.refuseWhileFull() != nil {
				return 1
			}
			return 0
		}))
	}
	go s.writer()
	if pg, ok := db.(*pgDB); ok && o.Replicas {
		poll := o.FollowPoll
		if poll <= 0 {
			poll = DefaultFollowPoll
		}
		s.leaseCheck = o.LeaseCheck
		if s.leaseCheck <= 0 {
			s.leaseCheck = DefaultLeaseCheck
		}
		s.queueKick = make(chan struct{}, 1)
		pg.follow(poll, s.log, s.otherCommits)
		if !o.ReadOnly {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				s.RunSingleton(ctx, "lineage applier", s.applyQueue)
			}()
			s.stopQueue = func() {
				cancel()
				<-done
			}
		}
	}
	if o.ReadOnly {
		close(s.space.done)
	} else {
		go s.probe(filepath.Dir(path))
	}
	if bdb != nil {
		go s.releaseEvery(cmp.Or(o.ReleaseEvery, DefaultReleaseEvery))
	}
	if err := s.startLineageLog(o.ReadOnly, o.NoSync, o.Registerer); err != nil {
		if s.stopQueue != nil {
			s.stopQueue()
		}
		close(s.closed)
		<-s.done
		<-s.space.done
		db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt opens the bbolt engine's file.
//
// Commits do not write the freelist (it would cost each commit 8 bytes a
// free page: 2.2 ms against 1.6 at the 5,000 free pages of a million
// datasets, 5.7 against 1.5 at 50,000); Close writes it once instead
// (boltDB.Close). A file that has none, because the process that wrote it
// ended without closing it, is walked page by page when it opens to
// rebuild it: 1.3 s of CPU at a million datasets, and the whole 3.8 GB
// file pulled into memory, before the server can answer.
func openBolt(path string, o *Options) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        o.Timeout,
		ReadOnly:       o.ReadOnly,
		NoSync:         o.NoSync,
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true, // written by Close; see above
		// Address space only (on Linux the file does not grow with it): a
		// transaction that grows the file past its mapping remaps it, and
		// each remap copies every page the transaction has touched to the
		// heap. A bulk write of 100 MB (a large dbt import, a large crawl)
		// remapped a dozen times on its way up from a small file, which
		// cost 80% of its time and 1.5 GB of allocation.
		InitialMmapSize: initialMmapSize(),
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: another process (a running quarry server?) holds it", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "quarry_store_commit_seconds",
			Help:    "Time to commit (and fsync) one bbolt write transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "quarry_store_group_commit_writes",
			Help:    "Number of writes shared by one group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		lastSeq: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "quarry_changelog_sequence",
			Help: "Sequence number of the newest changelog record.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.commitSeconds, m.batchSize, m.lastSeq)
	}
	return m
}

// Close waits for queued writes to commit, then closes the file. Writes
// submitted after Close began fail with ErrClosed.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		if s.stopQueue != nil {
			s.stopQueue() // it writes through the writer, which stops next
		}
		close(s.closed)
		<-s.done
		<-s.lin.done
		<-s.space.done
		s.lin.wal.Close()
		s.closeMu.Lock()
		s.isClosed = true
		s.closeMu.Unlock()
		err = s.db.Close()
	})
	return err
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Changed returns a channel that is closed after the next commit that
// appended to the changelog. Followers of the changelog wait on it.
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// update runs fn in a write transaction shared with other concurrent
// writers, and returns once that transaction committed. If fn fails, the
// transaction it ran in is not committed with its effects: fn's group is
// retried without it, and fn is run again alone to produce its answer.
//
// fn may run more than once, so it must only touch the transaction (and
// variables it resets at its start).
func (s *Store) update(ctx context.Context, fn func(kvTx) error) error {
	return s.updateReading(ctx, nil, fn)
}

// updateReading is update for a write that says which keys it will read:
// on an engine that reads in batches (PostgreSQL) the group commit reads
// the keys of all its writes in one statement before it runs
// them, rather than each write's Gets costing a round trip each inside
// the cluster-wide writer's lock. What fn reads is the same either way.
func (s *Store) updateReading(ctx context.Context, reads []kvRead, fn func(kvTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.refuseWhileFull(); err != nil {
		return err
	}
	reads, fn = fenced(ctx, reads, fn) // singleton work's writes: fence.go
	s.writing.Add(1)
	defer s.writing.Add(-1)
	r := &writeReq{fn: fn, reads: reads, done: make(chan error, 1)}
	select {
	case s.reqs <- r:
	case <-s.closed:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the write may commit: wait for the answer rather than
	// report a cancellation for something that happened.
	return <-r.done
}

// writer is the one goroutine that commits. It takes one write, then every
// other write already waiting (up to MaxBatch), and commits them together.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*writeReq, 0, s.max)
	for {
		var first *writeReq
		select {
		case first = <-s.reqs:
		case <-s.closed:
			// Writers blocked in update see closed too; none is left queued
			// because reqs is unbuffered.
			return
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < s.max {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if r := s.takeRider(); r != nil {
			batch = append(batch, r)
		}
		s.commit(batch)
	}
}

func (s *Store) commit(batch []*writeReq) {
	for len(batch) > 0 {
		failed := -1
		start := time.Now()
		var before, after uint64
		err := s.db.Update(func(tx kvTx) error {
			prefetchReads(tx, batch) // first: PostgreSQL sends it with BEGIN and the sequences
			before = tx.Bucket(bucketChangelog).Sequence()
			for i, r := range batch {
				if err := safeCall(r.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			after = tx.Bucket(bucketChangelog).Sequence()
			return nil
		})
		if failed < 0 {
			err = s.reachable("the write is not stored", s.noteWrite("the store file", err, after > before))
			s.m.commitSeconds.Observe(time.Since(start).Seconds())
			s.m.batchSize.Observe(float64(len(batch)))
			if err == nil {
				s.afterCommit(before, after)
			}
			for _, r := range batch {
				r.done <- err
			}
			return
		}
		bad := batch[failed]
		batch = append(batch[:failed:failed], batch[failed+1:]...)
		bad.done <- s.solo(bad.fn)
	}
}

// prefetchReads reads the keys the batch's writes said they read, in one
// statement, where the engine reads in batches. bbolt reads its memory map
// and gains nothing (prefetchAll does nothing there).
func prefetchReads(tx kvTx, batch []*writeReq) {
	var reads []kvRead
	for _, r := range batch {
		reads = append(reads, r.reads...)
	}
	if len(reads) > 0 {
		prefetchAll(tx, reads)
	}
}

// solo runs one write in its own transaction.
func (s *Store) solo(fn func(kvTx) error) error {
	var before, after uint64
	start := time.Now()
	err := s.db.Update(func(tx kvTx) error {
		before = tx.Bucket(bucketChangelog).Sequence()
		if err := safeCall(fn, tx); err != nil {
			return err
		}
		after = tx.Bucket(bucketChangelog).Sequence()
		return nil
	})
	err = s.reachable("the write is not stored", s.noteWrite("the store file", err, after > before))
	s.m.commitSeconds.Observe(time.Since(start).Seconds())
	s.m.batchSize.Observe(1)
	if err == nil {
		s.afterCommit(before, after)
	}
	return err
}

// bulk runs fn in a transaction of its own, outside the group commit: one
// large all-or-nothing write should not hold small ones back behind it, nor
// be failed by them.
func (s *Store) bulk(ctx context.Context, fn func(kvTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.refuseWhileFull(); err != nil {
		return err
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.isClosed {
		return ErrClosed
	}
	_, fn = fenced(ctx, nil, fn)
	return s.solo(fn)
}

func (s *Store) afterCommit(before, after uint64) {
	if after == before {
		return
	}
	s.reached(after, true)
}

// reached records that the changelog reached seq and wakes the followers
// (Changed) if that moved it, or always when wake is set (this store's
// own commit).
func (s *Store) reached(seq uint64, wake bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq > s.seq {
		s.seq = seq
		s.m.lastSeq.Set(float64(seq))
		wake = true
	}
	if wake {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

func safeCall(fn func(kvTx) error, tx kvTx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return fn(tx)
}

// view runs fn in a read transaction.
func (s *Store) view(fn func(kvTx) error) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.isClosed {
		return ErrClosed
	}
	return s.reachable("read the store", s.db.View(fn))
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// fileSize reports the size of the store file (on PostgreSQL, of its
// tables), for /healthz and backups.
func (s *Store) fileSize() int64 {
	if pg, ok := s.db.(*pgDB); ok {
		return pg.size()
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

package search

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/searcher"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/internal/mapped"
)

// mappingVersion changes whenever the mapping or the documents change
// shape; an index of another version is rebuilt.
// 8: a job's SQL indexed but not stored; 9 and 10: the words field and
// accent folding (issue 18), on top of 8; 11: deprecated (issue 20); 12:
// updated, for the sort by it (issue 20); 13: name_starts holds the word
// tails alone (names has the dotted ones), column_suggest and deprecated
// gone, and only path stored (issue 24); 14: term vectors only where phrases
// read them (issue 24).
const mappingVersion = "14"

var (
	keySeq     = []byte("quarry_seq")
	keyVersion = []byte("quarry_mapping_version")
)

// Store is what the index needs of the store.
type Store interface {
	quarry.ChangeSource // the changelog Run follows
	Dataset(ctx context.Context, id string) (*quarry.Dataset, error)
	DatasetsByID(ctx context.Context, ids []string) ([]*quarry.Dataset, error)
	Job(ctx context.Context, id string) (*quarry.Job, error)
	DatasetStatus(ctx context.Context, id string) (quarry.DatasetStatus, error)
	LastSeq(ctx context.Context) (uint64, error)
}

// Index is the search index of a catalog.
type Index struct {
	dir    string
	st     Store
	log    *slog.Logger
	follow quarry.FollowOptions // Run's

	mu     sync.RWMutex // held for reading by searches and catch-up, for writing by a swap
	idx    bleve.Index
	facets *facetColumns // of idx's segments
	// automata are the Levenshtein automata of fuzzy clauses (fuzzy.go),
	// 8 MB at most.
	automata *automatonCache
	// words splits a query into its words; stop leaves some out; synonyms
	// are the configured alternatives of a word (query.go).
	words    analysis.Analyzer
	fold     analysis.CharFilter
	compound compoundFilter // its known words
	stop     analysis.TokenMap
	synonyms map[string][]string
	// filterPath makes tests take one way through a filter: "columns" or
	// "conjunction" ("": the filter's and the text's counts choose).
	filterPath string
	// popularity ranks and sorts by use (popularity.go); nil: none.
	popularity *Popularity

	catchUp  sync.Mutex // one catch-up at a time
	rebuild1 sync.Mutex // one rebuild at a time
	// rebuildBatch is how many records a rebuild indexes at once (heal.go);
	// tests make it small to build several segments.
	rebuildBatch int
	applied      atomic.Uint64
	closed       bool
	// storeShown: Options.storeShown, for the indexes this one creates.
	storeShown bool

	// How the index notices damage and heals (heal.go).
	stateMu  sync.Mutex
	state    health
	verifyMu sync.Mutex // one verification at a time
	// verifyAtStart: Open trusted segment files as they were when the
	// index was closed; Run verifies them at once (heal).
	poke          chan struct{} // wakes Run's healer
	verifyEvery   time.Duration
	verifyAtStart bool
	// warmTerms are the terms whose postings were decoded when the index
	// last closed, decoded again in the background (hot.go); warm takes
	// them (on Run's goroutine).
	warmTerms []fieldTerm
	// warmed is closed once Run's first warm-up has ended (Warmed).
	warmed     chan struct{}
	warmedOnce sync.Once
	metrics    healMetrics
	testWrite  func() error // a test's: called before each write, may panic
	testBeside func()       // a test's: called as a count beside a page begins (pageBeside), may panic
	// full is why the follower stopped for a full disk (disk.go), nil
	// while it applies; guarded by stateMu.
	full      error
	fullSince time.Time
	fullNeed  int64 // the free bytes that end it
}

// Options configure Open; nil means defaults.
type Options struct {
	Logger *slog.Logger
	// DisjunctionHeapTakeover is the number of clauses above which bleve
	// keeps a disjunction's clauses in a heap ordered by their current
	// document instead of scanning them; zero means 32 (bleve's own is
	// 10). A search's main disjunction has about 18 clauses of which a hit
	// matches two or three, and the heap's pops and pushes, comparing
	// document IDs as byte slices, cost more than a scan. It is a bleve
	// package variable (searcher.DisjunctionHeapTakeover): it applies to
	// every bleve search in the process, and the last Open sets it.
	DisjunctionHeapTakeover int
	// Follow tunes how Run follows the changelog. Its zero fields take
	// quarry's defaults, but for Gather: catchUpDelay. Its Logger and Name
	// are the index's.
	Follow quarry.FollowOptions
	// Registerer receives the index's metrics (faults noticed, rebuilds);
	// nil exports none.
	Registerer prometheus.Registerer
	// Synonyms are groups of words a search takes for one another
	// ([[rep, representative], [cust, customer]]): a query's word matches
	// wherever any word of its group would. They apply when a query is
	// built, so changing them needs no rebuild. A word in several groups
	// has the words of all of them.
	Synonyms [][]string
	// VerifyInterval is how often Run verifies the checksums of the
	// index's segment files, besides when a search fails; zero means
	// every 10 minutes, less than zero never.
	VerifyInterval time.Duration
	// storeShown stores the values of the fields a hit shows, which
	// bleve's highlighter reads: tests compare Search's matches with its.
	storeShown bool
}

// defaultVerifyInterval is Options.VerifyInterval's default: reading the
// segments of a 20k-dataset index back costs tens of milliseconds.
const defaultVerifyInterval = 10 * time.Minute

// Open opens the index in dir, or creates an empty one when it is missing,
// unreadable or damaged (a segment fails its checksum). It does not catch
// up: CatchUp does, or Run, which also rebuilds an index of an older
// mapping while that one keeps serving. A new index answers searches with
// an unavailable error until it has caught up with the store.
func Open(ctx context.Context, dir string, st Store, o *Options) (*Index, error) {
	x := &Index{dir: dir, st: st, log: slog.Default(), facets: newFacetColumns(), automata: newAutomatonCache(8 << 20), poke: make(chan struct{}, 1), verifyEvery: defaultVerifyInterval, rebuildBatch: rebuildBatch, warmed: make(chan struct{})}
	takeover := defaultDisjunctionHeapTakeover
	var reg prometheus.Registerer
	if o != nil {
		if o.Logger != nil {
			x.log = o.Logger
		}
		if o.DisjunctionHeapTakeover > 0 {
			takeover = o.DisjunctionHeapTakeover
		}
		x.follow = o.Follow
		reg = o.Registerer
		if o.VerifyInterval != 0 {
			x.verifyEvery = max(o.VerifyInterval, 0)
		}
		x.storeShown = o.storeShown
	}
	x.metrics = newHealMetrics(reg)
	if err := x.setQueryAnalysis(o); err != nil {
		return nil, err
	}
	setDisjunctionHeapTakeover(takeover)
	if x.follow.Gather == 0 {
		x.follow.Gather = catchUpDelay
	}
	x.follow.Logger, x.follow.Name = x.log, "search index"
	x.warmTerms = readHotTerms(dir)
	idx, trusted, err := openChecked(dir, readClosedSegments(dir))
	x.verifyAtStart = trusted
	switch {
	case err == nil:
		x.state.available = true
		if v, _ := idx.GetInternal(keyVersion); string(v) != mappingVersion {
			x.log.Info("search index has another mapping version; it serves while a new one is built", "have", string(v), "want", mappingVersion)
			x.state.pending = reasonMapping
		}
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
	case errors.Is(err, errDamaged):
		x.metrics.faults.WithLabelValues("checksum").Inc()
		x.log.Error("search index damaged; building a new one from the store", "err", err)
	default:
		x.log.Warn("search index unreadable; building a new one from the store", "err", err)
	}
	if err != nil {
		if idx, err = create(dir, x.storeShown, scorchConfig()); isDiskFull(err) {
			// Not even an empty index fits: come up without one (searches
			// answer unavailable) and let the healer build it once there is
			// space, rather than not start.
			x.log.Error("search index: no space to create it; it is built once space is freed", "err", err)
			x.metrics.faults.WithLabelValues("disk_full").Inc()
			x.full, x.fullSince, x.fullNeed = errFull(err), time.Now(), fullFree
			if idx, err = placeholder(); err == nil {
				x.state = health{pending: reasonDamaged}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	x.idx = idx
	x.applied.Store(appliedSeq(idx))
	last, err := st.LastSeq(ctx)
	// An index ahead of its store (a restored backup beside a newer index)
	// would skip the writes that reuse its sequence numbers.
	if err == nil && x.applied.Load() > last {
		x.log.Warn("search index is ahead of the store; rebuilding", "index", x.applied.Load(), "store", last)
		idx.Close()
		if x.idx, err = create(dir, x.storeShown, scorchConfig()); err != nil {
			return nil, err
		}
		x.applied.Store(0)
		x.state = health{}
	}
	if err == nil && x.applied.Load() == last {
		x.state.available = true // nothing to catch up (an empty store)
	}
	return x, nil
}

// openVerified opens the index in dir and verifies its segments: bleve
// opens a damaged one without a word, and its searches fail or lie.
func openVerified(dir string) (bleve.Index, error) {
	idx, _, err := openChecked(dir, nil)
	return idx, err
}

// openChecked opens the index in dir after verifying its segment files,
// but those that closed lists as they were when the index was closed
// (closedSegments): it reports whether it left any unverified.
func openChecked(dir string, closed map[string]segmentStamp) (idx bleve.Index, trusted bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: open panicked: %v", errDamaged, p)
		}
	}()
	// The segment files are verified before bleve opens them: bleve opens
	// an index whose snapshot names a segment it cannot load (bytes
	// damaged where it reads on opening, as the dictionaries' and doc
	// values' offsets) without it, saying so only in its log, and would
	// serve an empty index. Files no snapshot names are verified too.
	files, err := filepath.Glob(filepath.Join(dir, "store", "*.zap"))
	if err != nil {
		return nil, false, err
	}
	for _, f := range files {
		if st, ok := stampOf(f); ok && closed[filepath.Base(f)] == st {
			trusted = true
			continue
		}
		if err := verifyFile(f); err != nil {
			return nil, false, err
		}
	}
	idx, err = bleve.OpenUsing(dir, scorchConfig())
	return idx, trusted, err
}

// closeQuietly closes an index that may be damaged, whatever bleve does.
func closeQuietly(idx bleve.Index) {
	defer func() { recover() }()
	idx.Close()
}

// defaultDisjunctionHeapTakeover is Options.DisjunctionHeapTakeover's
// default.
const defaultDisjunctionHeapTakeover = 32

// takeoverMu orders the writes of bleve's package variable: indexes may be
// opened concurrently (in tests, several servers), and each Open sets it.
var takeoverMu sync.Mutex

func setDisjunctionHeapTakeover(n int) {
	takeoverMu.Lock()
	defer takeoverMu.Unlock()
	if searcher.DisjunctionHeapTakeover != n { // written once, unless Opens disagree
		searcher.DisjunctionHeapTakeover = n
	}
}

func appliedSeq(idx bleve.Index) uint64 {
	if v, _ := idx.GetInternal(keySeq); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// create creates an empty index in dir with the given scorch config (which
// is not kept: an index opened again takes scorchConfig's).
func create(dir string, storeShown bool, config map[string]any) (bleve.Index, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	m, err := newMapping(storeShown)
	if err != nil {
		return nil, err
	}
	idx, err := bleve.NewUsing(dir, m, scorch.Name, scorch.Name, config)
	if err != nil {
		os.RemoveAll(dir) // what it began (on a full disk, the space it took)
		return nil, fmt.Errorf("create search index: %w", err)
	}
	if err := idx.SetInternal(keyVersion, []byte(mappingVersion)); err != nil {
		closeQuietly(idx)
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create search index: %w", err)
	}
	return idx, nil
}

// scorchConfig is the scorch config of the serving index and of a
// rebuild's: its merger follows bulkPlan, which Run's compact tightens
// once the follower keeps up with the writes (compact.go).
func scorchConfig() map[string]any {
	o := bulkPlan()
	return map[string]any{"scorchMergePlanOptions": map[string]any{
		"MaxSegmentsPerTier": o.MaxSegmentsPerTier, "SegmentsPerMergeTask": o.SegmentsPerMergeTask, "FloorSegmentSize": o.FloorSegmentSize,
	}}
}

// Close closes the index. Closing it again does nothing.
func (x *Index) Close() error {
	x.catchUp.Lock()
	defer x.catchUp.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil
	}
	x.closed = true
	err := x.idx.Close()
	if err == nil {
		writeClosedSegments(x.dir)
		writeHotTerms(x.dir, x.facets.hot.terms())
	}
	return err
}

// Applied is the sequence of the last changelog record in the index.
func (x *Index) Applied() uint64 { return x.applied.Load() }

// CatchUp applies every changelog record after the last one applied.
func (x *Index) CatchUp(ctx context.Context) error {
	seq, err := quarry.ApplyChanges(ctx, x.st, x.applied.Load(), x.follow.Limit, x.applyChanges)
	if err == nil {
		x.built(ctx, seq)
	}
	return err
}

// applyChanges indexes changes in the serving index, those it holds
// already (after a rebuild, or another catch-up) left out. While the
// index awaits a rebuild for damage or a failed write it writes nothing:
// the rebuild takes every change committed before its swap.
func (x *Index) applyChanges(ctx context.Context, changes []quarry.Change) error {
	x.catchUp.Lock()
	defer x.catchUp.Unlock()
	// Stopped for a full disk: resumes once there is space (disk.go).
	if err := x.resumeAfterFull(); err != nil {
		return err
	}
	err := x.applyServing(ctx, changes)
	if isDiskFull(err) || errors.Is(err, errWritePanic) && lowOnSpace(x.dir) {
		return x.stopForFull(err, fullFree)
	}
	return err
}

// applyServing is applyChanges' part under x.mu.
func (x *Index) applyServing(ctx context.Context, changes []quarry.Change) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.closed {
		return errors.New("search index closed")
	}
	if !x.applying() {
		return nil
	}
	applied := x.applied.Load()
	for len(changes) > 0 && changes[0].Seq <= applied {
		changes = changes[1:]
	}
	if len(changes) == 0 {
		return nil
	}
	if err := x.indexChanges(ctx, x.idx, changes, indexBatch); err != nil {
		// On a full disk, what panicked is reopened from disk instead
		// (applyChanges): that ends the suspicion without a rebuild.
		if errors.Is(err, errWritePanic) && !lowOnSpace(x.dir) {
			x.wantRebuild(reasonSuspect)
		}
		return err
	}
	x.applied.Store(changes[len(changes)-1].Seq)
	x.built(ctx, changes[len(changes)-1].Seq)
	return nil
}

// errWritePanic marks a write that panicked inside bleve.
var errWritePanic = errors.New("panic in bleve")

// indexChanges is the package's indexChanges with a panic inside bleve
// (zapx's, on a full disk) made an error wrapping errWritePanic: bleve's
// state is unknown then, but the process must live on.
func (x *Index) indexChanges(ctx context.Context, idx bleve.Index, changes []quarry.Change, part int) error {
	if x.testWrite != nil {
		if err := x.guardWrite(x.testWrite); err != nil {
			return err
		}
	}
	return indexChanges(ctx, x.st, idx, changes, part, x.guardWrite)
}

// guardWrite runs write, a panic in it made an error (see indexChanges).
func (x *Index) guardWrite(write func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			x.metrics.faults.WithLabelValues("write_panic").Inc()
			x.log.Error("search index: panic in bleve while writing", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("write search index: %w: %v", errWritePanic, p)
		}
	}()
	return write()
}

// docOps are the changelog operations that change what a dataset's
// document holds. Lineage, data changes and check results do not: they
// arrive with every run a job reports, and reindexing for them would only
// churn segments. Freshness and check status come from the alert
// evaluator, which records a status change only when one happens.
var docOps = map[string]bool{quarry.OpUpsert: true, quarry.OpEdit: true, quarry.OpRemove: true, quarry.OpRestore: true, quarry.OpStatus: true}

// indexBatch is the most documents the follower indexes in one bleve
// batch, which becomes a segment.
const indexBatch = 1000

// batchesInFlight is how many bleve batches a rebuild writes at once.
// bleve analyzes a batch's documents on its workers, but builds the
// segment on the caller's goroutine, and the batch then waits for the
// segment to be persisted: one batch at a time, a rebuild kept 1.4 of 2
// cores busy. Two batches of 1,000 at once rebuilt 100k datasets in 41 s
// instead of 51 (batches of 2,000, one at a time), 562 MB of anonymous
// memory at the peak instead of 507; two of 2,000, 41 s and 1 GB.
//
// The follower writes one batch at a time: while datasets are being
// written, two at once took the CPU from the writers (at 100k, stored
// 5,339 → 3,812 datasets a second) for 7% more searchable a second.
const batchesInFlight = 2

// indexChanges indexes the current state of what changes name into idx,
// in bleve batches of at most part documents, batchesInFlight at once, and
// then the last change's sequence, so that the index never claims a
// change it does not hold. write runs each write to the index (guardWrite).
//
// Each document is in one batch: its newest state, read when its batch is
// built. Batches that land in another order than they were made are
// alike then; a chunk's batches all land before the next chunk's begin.
func indexChanges(ctx context.Context, st Store, idx bleve.Index, changes []quarry.Change, part int, write func(func() error) error) error {
	var docs []quarry.Change
	done := map[string]bool{}
	for i := len(changes) - 1; i >= 0; i-- { // the newest state of each dataset, once
		c := changes[i]
		job := c.Entity == quarry.EntityJob && c.Op == quarry.OpUpsert
		if done[c.ID] || !job && (c.Entity != quarry.EntityDataset || !docOps[c.Op]) {
			continue
		}
		done[c.ID] = true
		docs = append(docs, c)
	}
	seq := binary.BigEndian.AppendUint64(nil, changes[len(changes)-1].Seq)
	if len(docs) <= part {
		return write(func() error { return indexDocs(ctx, st, idx, docs, seq) })
	}
	n := (len(docs) + part - 1) / part
	size := (len(docs) + n - 1) / n // n batches alike
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(batchesInFlight)
	for i := 0; i < len(docs); i += size {
		batch := docs[i:min(i+size, len(docs))]
		g.Go(func() error {
			if err := gctx.Err(); err != nil { // another batch failed
				return err
			}
			return write(func() error { return indexDocs(gctx, st, idx, batch, nil) })
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return write(func() error {
		if err := idx.SetInternal(keySeq, seq); err != nil {
			return fmt.Errorf("write search index: %w", err)
		}
		return nil
	})
}

// indexDocs indexes the current state of the datasets and jobs changes
// name (each once) into idx in one batch, with seq as the index's
// sequence unless it is nil.
func indexDocs(ctx context.Context, st Store, idx bleve.Index, changes []quarry.Change, seq []byte) error {
	b := idx.NewBatch()
	for _, c := range changes {
		if c.Entity == quarry.EntityJob {
			j, err := st.Job(ctx, c.ID)
			if err != nil {
				return err
			}
			if err := addDoc(b, idx.Mapping(), c.ID, newJobDoc(j)); err != nil {
				return fmt.Errorf("index job %s: %w", c.ID, err)
			}
			continue
		}
		d, err := st.Dataset(ctx, c.ID)
		switch {
		case quarry.ErrorCode(err) == quarry.ENOTFOUND:
			b.Delete(c.ID)
		case err != nil:
			return err
		default:
			status, err := st.DatasetStatus(ctx, c.ID)
			if err != nil {
				return err
			}
			if err := addDoc(b, idx.Mapping(), c.ID, newDatasetDoc(d, status)); err != nil {
				return fmt.Errorf("index %s: %w", c.ID, err)
			}
		}
	}
	if seq != nil {
		b.SetInternal(keySeq, seq)
	}
	if err := idx.Batch(b); err != nil {
		return fmt.Errorf("write search index: %w", err)
	}
	return nil
}

// Rebuild builds a new index from the whole changelog beside the one that
// serves, which keeps serving meanwhile (unless it is damaged: searches
// answer unavailable then), then swaps it in. It builds in large batches
// and merges what it built into one segment before the swap (heal.go:
// rebuildBatch, settleRebuilt), so that the new index serves settled.
func (x *Index) Rebuild(ctx context.Context) error {
	if !x.rebuild1.TryLock() {
		return quarry.Errorf(quarry.ECONFLICT, "the search index is being rebuilt already")
	}
	defer x.rebuild1.Unlock()
	x.stateMu.Lock()
	reason := cmp.Or(x.state.pending, reasonRequested)
	x.state.rebuilding = true
	x.stateMu.Unlock()
	defer func() {
		x.stateMu.Lock()
		x.state.rebuilding = false
		x.stateMu.Unlock()
	}()
	next := x.dir + ".next"
	idx, err := create(next, x.storeShown, scorchConfig())
	if err != nil {
		return err
	}
	start := time.Now()
	into := func(ctx context.Context, changes []quarry.Change) error {
		return x.indexChanges(ctx, idx, changes, x.rebuildBatch)
	}
	// Its merges read its segments: their pages leave the resident set
	// as the serving index's do (resident.go).
	building, built := context.WithCancel(ctx)
	released := make(chan struct{})
	go func() {
		defer close(released)
		mapped.Every(building.Done(), releaseInterval, func() {
			if r, err := reader(idx); err == nil {
				releaseSegments(r)
			}
		})
	}()
	seq, err := quarry.ApplyChanges(ctx, x.st, 0, rebuildChunk*x.rebuildBatch, into)
	if err == nil {
		err = x.settleRebuilt(ctx, idx)
	}
	built()
	<-released
	if err != nil {
		closeQuietly(idx)
		os.RemoveAll(next)
		return err
	}
	// Hold off catch-ups and searches for the swap; take what was committed
	// during the build first.
	x.catchUp.Lock()
	defer x.catchUp.Unlock()
	if seq, err = quarry.ApplyChanges(ctx, x.st, seq, x.follow.Limit, into); err == nil {
		err = idx.Close()
	} else {
		closeQuietly(idx)
	}
	if err != nil {
		os.RemoveAll(next)
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		os.RemoveAll(next)
		return errors.New("search index closed")
	}
	// Swap directories with the old index still open, and keep serving it
	// unless the new one opens.
	old := x.dir + ".old"
	os.RemoveAll(old)
	// x.dir may be missing: Open found no space to create it.
	if err := os.Rename(x.dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(next)
		return err
	}
	if err := os.Rename(next, x.dir); err != nil {
		os.Rename(old, x.dir)
		return err
	}
	fresh, err := openVerified(x.dir)
	if err != nil {
		os.Rename(x.dir, next)
		os.Rename(old, x.dir)
		os.RemoveAll(next)
		return fmt.Errorf("open the rebuilt index: %w", err)
	}
	closeQuietly(x.idx) // it may be damaged
	os.RemoveAll(old)
	x.idx, x.facets = fresh, newFacetColumns()
	x.applied.Store(seq)
	x.stateMu.Lock()
	x.state = health{available: true}
	x.full = nil // the new index was written: there was space
	x.stateMu.Unlock()
	x.metrics.rebuilds.WithLabelValues(reason).Inc()
	x.log.Info("search index rebuilt", "reason", reason, "seq", seq, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// Run keeps the index caught up with the store until ctx ends: each commit
// that appends to the changelog wakes it, and a failed catch-up is retried
// with a backoff. Beside it, Run heals the index (heal.go): it rebuilds an
// index of an older mapping, or one found damaged or whose write panicked,
// retrying a rebuild that fails, and verifies the segments now and then;
// it compacts the index when writes pause (compact.go); and it drops the
// segments' maps from the resident set every releaseInterval, sooner when
// mapped files pass mapped.Budget (resident.go).
func (x *Index) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { x.heal(ctx) })
	wg.Go(func() { x.compact(ctx) })
	wg.Go(func() { mapped.Every(ctx.Done(), releaseInterval, x.releaseMapped) })
	wg.Go(func() { x.watchWrites(ctx) })
	wg.Go(func() {
		t := time.NewTicker(warmEvery)
		defer t.Stop()
		for {
			x.warm()
			x.warmedOnce.Do(func() { close(x.warmed) })
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	// A failed catch-up is retried within followMaxBackoff: a retry while
	// the disk is full costs a statfs (disk.go), and once space is freed
	// new writes should not wait half a minute to be searchable.
	follow := x.follow
	if follow.MaxBackoff <= 0 {
		follow.MaxBackoff = max(followMaxBackoff, follow.Backoff)
	}
	quarry.FollowChanges(ctx, x.st, x.Applied(), x.applyChanges, &follow)
}

// warmEvery is how often Run builds the facet columns of the segments new
// to the serving index (made by writes, or merged), which the first
// search to see them would build: 200 ms for a segment of a million
// datasets, the first search after a start or a merge. (The name order
// of an empty query's list is left to it: a second at a million, under
// the lock every search's facets take.)
const warmEvery = time.Second

// warm builds the facet columns of the serving index's segments that have
// none yet.
func (x *Index) warm() {
	idx, err := x.serving()
	if err != nil {
		return
	}
	r, err := reader(idx)
	cols := x.facets
	x.mu.RUnlock()
	if err != nil {
		return
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return
	}
	if err := (&facetCounter{cols: cols}).prepare(snap); err != nil {
		x.log.Warn("search: facet columns", "err", err)
	}
	terms := x.warmTerms // warm runs on Run's goroutine alone
	x.warmTerms = nil
	if err := cols.hot.warm(snap, terms); err != nil {
		x.log.Warn("search: decoding the postings in use when the index closed", "err", err)
	}
}

// Warmed returns a channel that is closed once Run has warmed the index
// up after its start (the facet columns of its segments, the postings in
// use when it last closed; warm) or found it unavailable: at a million
// datasets, 0.6 s of CPU that the first searches would otherwise share
// the cores with. What else a start sets off in the background (the
// lineage graph's load, the index's verification) waits for it.
func (x *Index) Warmed() <-chan struct{} { return x.warmed }

// followMaxBackoff is the longest wait between the follower's retries
// unless Options.Follow says otherwise.
const followMaxBackoff = 5 * time.Second

// catchUpDelay is how long Run lets commits gather before indexing them:
// one segment for a burst of writes instead of one each, well within the
// second a write may take to become searchable.
const catchUpDelay = 100 * time.Millisecond

// serving returns the serving bleve index if it is sound (else an
// unavailable error); release with x.mu.RUnlock.
func (x *Index) serving() (bleve.Index, error) {
	idx, err := x.current()
	if err != nil {
		return nil, err
	}
	if err := x.available(); err != nil {
		x.mu.RUnlock()
		return nil, err
	}
	return idx, nil
}

// current returns the serving bleve index; release with x.mu.RUnlock.
func (x *Index) current() (bleve.Index, error) {
	x.mu.RLock()
	if x.closed {
		x.mu.RUnlock()
		return nil, errors.New("search index closed")
	}
	return x.idx, nil
}

// Field names of the index. Several are the same value analyzed in
// different ways.
const (
	fType        = "type"
	fQName       = "qname"       // full name, exact
	fNames       = "names"       // the name and each dot-separated tail, exact
	fNameStarts  = "name_starts" // where a typed name may start inside its last segment: word tails, exact
	fName        = "name"        // last segment, camelCase split
	fNameParts   = "name_parts"  // last segment, split at punctuation
	fNameStem    = "name_stem"   // last segment, stemmed
	fNameInside  = "name_inside" // suffixes of the last segment's words, for words inside words
	fPath        = "path"        // full name, camelCase split
	fPathParts   = "path_parts"  // full name, split at punctuation
	fColumns     = "columns"     // column names, camelCase split
	fColumnExact = "column"      // column names, exact
	fColumnStem  = "column_stem" // column names, stemmed
	fDesc        = "description"
	fColumnDesc  = "column_description"
	fTags        = "tags"      // exact, for facets and filters
	fTagsText    = "tags_text" // split, for search
	fOwners      = "owners"
	fNamespace   = "namespace"
	fDatabase    = "database"
	fSchema      = "schema"
	fKind        = "kind"
	fRemoved     = "removed"
	fFreshness   = "freshness" // FRESH, WARN, ERROR; absent when unknown
	fHealth      = "health"    // the worst latest check result; absent without checks
	fSQL         = "sql"       // a job's SQL, identifiers split
	fUpdated     = "updated"   // when the data (else the metadata) last changed, Unix seconds: for the sort by it
	fWords       = "words"     // every word of the qualified name, columns, tags and descriptions, stemmed: where a query's words are looked for
)

// Document types: datasets, and the jobs that move data between them.
const (
	typeDataset = "dataset"
	typeJob     = "job"
)

// datasetDoc is what the index holds of a dataset.
type datasetDoc struct {
	Type       string   `json:"type"`
	QName      string   `json:"qname"`
	Names      []string `json:"names"`
	NameStarts []string `json:"name_starts"`
	Name       string   `json:"name"`
	Path       string   `json:"path"`
	Columns    []string `json:"columns"`
	Desc       string   `json:"description"`
	ColumnDesc []string `json:"column_description"`
	Tags       []string `json:"tags"`
	Owners     []string `json:"owners"`
	Namespace  string   `json:"namespace"`
	Database   string   `json:"database"`
	Schema     string   `json:"schema"`
	Kind       string   `json:"kind"`
	Removed    bool     `json:"removed"`
	Freshness  string   `json:"freshness,omitempty"`
	Health     string   `json:"health,omitempty"`
	Updated    float64  `json:"updated,omitempty"`
}

// BleveType tells bleve which document mapping applies.
func (*datasetDoc) BleveType() string { return typeDataset }

func newDatasetDoc(d *quarry.Dataset, status quarry.DatasetStatus) *datasetDoc {
	doc := &datasetDoc{
		Type: typeDataset, QName: d.Name, Path: d.Name, Desc: d.Description(),
		Tags: d.Tags(), Owners: d.Owners(), Namespace: d.Namespace, Kind: string(d.Kind), Removed: d.Removed(),
		Database: d.Database, Schema: d.Schema, Freshness: string(status.Freshness), Health: string(status.Health),
	}
	if d.LastUpdatedAt != nil {
		doc.Updated = float64(d.LastUpdatedAt.Unix())
	} else if !d.UpdatedAt.IsZero() {
		doc.Updated = float64(d.UpdatedAt.Unix())
	}
	parts := strings.Split(d.Name, ".")
	for i := range parts {
		doc.Names = append(doc.Names, strings.Join(parts[i:], "."))
	}
	doc.Name = parts[len(parts)-1]
	// Autocomplete finds where a typed name may start in the dotted tails
	// (names) and in these: each a term of its own, unique to the dataset
	// as names' are, which makes them costly to index and merge, so they
	// are not indexed twice.
	if !d.Removed() { // autocomplete reads these terms, unfiltered
		for i, r := range doc.Name { // fct_order_items -> order_items, items
			if i > 0 && (r == '_' || r == '-') && i+1 < len(doc.Name) {
				doc.NameStarts = append(doc.NameStarts, doc.Name[i+1:])
			}
		}
	}
	if doc.Database == "" && len(parts) >= 3 { // db.schema.table from a producer
		doc.Database, doc.Schema = parts[0], parts[1]
	}
	doc.Columns, doc.ColumnDesc = columnTexts(d)
	return doc
}

// columnTexts are the values of the column fields, in the order of their
// array positions: every column's name, and the descriptions there are.
func columnTexts(d *quarry.Dataset) (names, descs []string) {
	for _, c := range d.ShownColumns() {
		names = append(names, c.Name)
		if c.Description != "" {
			descs = append(descs, c.Description)
		}
	}
	return names, descs
}

// newTextsDoc is newDatasetDoc's texts that matches are marked in alone.
func newTextsDoc(d *quarry.Dataset) *datasetDoc {
	doc := &datasetDoc{Path: d.Name, Desc: d.Description(), Tags: d.Tags()}
	doc.Name = d.Name[strings.LastIndexByte(d.Name, '.')+1:]
	doc.Columns, doc.ColumnDesc = columnTexts(d)
	return doc
}

// jobDoc is what the index holds of a job: its name, namespace,
// description and SQL, in the fields a dataset's name and description use,
// so that the same text query finds both.
type jobDoc struct {
	Type      string   `json:"type"`
	QName     string   `json:"qname"`
	Names     []string `json:"names"`
	Name      string   `json:"name"`
	Path      string   `json:"path"`
	Desc      string   `json:"description"`
	SQL       string   `json:"sql"`
	Owners    []string `json:"owners"`
	Namespace string   `json:"namespace"`
}

// BleveType tells bleve which document mapping applies.
func (*jobDoc) BleveType() string { return typeJob }

func newJobDoc(j *quarry.Job) *jobDoc {
	doc := &jobDoc{Type: typeJob, QName: j.Name, Path: j.Name, Desc: j.Description, SQL: j.SQL, Owners: j.Owners, Namespace: j.Namespace}
	parts := strings.Split(j.Name, ".")
	for i := range parts {
		doc.Names = append(doc.Names, strings.Join(parts[i:], "."))
	}
	doc.Name = parts[len(parts)-1]
	return doc
}

func newMapping(storeShown bool) (mapping.IndexMapping, error) {
	m := bleve.NewIndexMapping()
	if err := addAnalyzers(m); err != nil {
		return nil, err
	}
	// shown: a field whose matched words a hit shows (highlightFields).
	// No field is stored but path (autocomplete shows it), nor has term
	// vectors but the descriptions' (their phrases read positions),
	// unless a test asks for bleve's highlighter: a page's matches are
	// found in the store's texts (marks.go), and stored values and
	// locations were built for every document and copied by every merge
	// for no reader.
	field := func(name, analyzer string, shown bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Name, f.Analyzer, f.Store = name, analyzer, shown && storeShown
		f.IncludeTermVectors = shown && storeShown
		f.IncludeInAll = false
		f.DocValues = false // only sorting reads them (facets read postings)
		return f
	}
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fType, field(fType, keyword.Name, false))
	qname := field(fQName, analyzerExact, false)
	qname.DocValues = true // empty queries list by name
	dm.AddFieldMappingsAt(fQName, qname)
	dm.AddFieldMappingsAt(fNames, field(fNames, analyzerExact, false))
	dm.AddFieldMappingsAt(fNameStarts, field(fNameStarts, analyzerExact, false))
	dm.AddFieldMappingsAt(fName, field(fName, analyzerIdent, true), field(fNameParts, analyzerParts, false), field(fNameStem, analyzerIdentStem, false), field(fNameInside, analyzerSuffixes, false))
	// fWords gathers the words of every field a query's word may be in
	// (as Elasticsearch's copy_to), so that a query of several words finds
	// the datasets that have them all by a conjunction of one term each.
	words := field(fWords, analyzerIdentStem, false)
	path := field(fPath, analyzerIdent, true)
	path.Store = true
	dm.AddFieldMappingsAt(fPath, path, field(fPathParts, analyzerParts, false), words)
	dm.AddFieldMappingsAt(fColumns, field(fColumns, analyzerIdent, true), field(fColumnExact, analyzerExact, false), field(fColumnStem, analyzerIdentStem, false), words)
	desc, colDesc := field(fDesc, analyzerText, true), field(fColumnDesc, analyzerText, true)
	desc.IncludeTermVectors, colDesc.IncludeTermVectors = true, true // nearPhrase
	dm.AddFieldMappingsAt(fDesc, desc, words)
	dm.AddFieldMappingsAt(fColumnDesc, colDesc, words)
	dm.AddFieldMappingsAt(fTags, field(fTags, keyword.Name, false), field(fTagsText, analyzerIdent, true), words)
	for _, f := range []string{fOwners, fNamespace, fDatabase, fSchema, fKind, fFreshness, fHealth} {
		dm.AddFieldMappingsAt(f, field(f, keyword.Name, false))
	}
	updated := bleve.NewNumericFieldMapping()
	// DocValues: only the sort by it reads it (one term: sortOnlyNumber).
	updated.Name, updated.IncludeInAll, updated.Store = fUpdated, false, false
	dm.AddFieldMappingsAt(fUpdated, updated)
	removed := bleve.NewBooleanFieldMapping()
	removed.Name, removed.DocValues, removed.Store, removed.IncludeInAll = fRemoved, false, false, false
	dm.AddFieldMappingsAt(fRemoved, removed)
	// No field is in _all, which no query reads; it would cost every
	// field of every document a visit.
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	m.AddDocumentMapping(typeDataset, dm)
	jm := bleve.NewDocumentStaticMapping()
	for _, name := range []string{fType, fQName, fNames, fName, fPath, fDesc, fOwners, fNamespace} {
		jm.AddSubDocumentMapping(name, dm.Properties[name]) // analyzed as a dataset's are
	}
	// A job's SQL (up to a MiB) is searched, never shown: stored with its
	// term vectors it was copied again by every merge of its segment,
	// which ordinary writes keep causing (issue 15).
	jm.AddFieldMappingsAt(fSQL, field(fSQL, analyzerIdent, false))
	jm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	m.AddDocumentMapping(typeJob, jm)
	m.TypeField = fType
	m.DefaultMapping = bleve.NewDocumentDisabledMapping()
	return m, nil
}

// Settling reports whether the index is still merging and persisting
// segments in the background (after a large batch, for a while): searches
// are slower meanwhile.
func (x *Index) Settling() bool {
	idx, err := x.current()
	if err != nil {
		return false
	}
	defer x.mu.RUnlock()
	stats, _ := idx.StatsMap()["index"].(map[string]any)
	active, _ := stats["index_bgthreads_active"].(bool)
	return active
}

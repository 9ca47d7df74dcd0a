package search

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
)

// How the serving index merges its segments. bleve's own merger follows
// bulkPlan (scorchConfig): up to bulkSegments segments in each size tier
// before they are merged, all at once. While the follower is behind the
// store (a bulk load, a crawl), that is all the merging there is, so that
// a document is rewritten about once before the load ends. Once it has
// caught up, compact merges by writePlan as the writes come, up to ten
// segments a tier (bleve's default), a document rewritten about once per
// tier (log10 of the catalog over a batch); and once the writes have
// paused for compactAfter, to compactPlan, one segment a tier (four at a
// million datasets): a search pays per segment for each term, fuzzy and
// prefix clause it opens. The serving index used to merge two a tier as
// it wrote, which rewrote each document about log3 of the catalog over a
// batch times: at 100k datasets a fifth of the CPU indexing took
// (BenchmarkIndexSkewed: 1,067 settled documents per CPU-second, 1,319
// with ten a tier), and it still left seven segments after a million
// (searches took 40% more CPU than with two). Merged ten a tier while
// it loaded, merging was still 17% of the CPU a load of 100k datasets
// took and about 30% of a million's. Tiers keep a compaction after a few
// writes to the small segments: the large ones are merged again only
// once the small ones have grown to their tier.
func compactPlan() *mergeplan.MergePlanOptions {
	o := writePlan()
	o.MaxSegmentsPerTier = 1
	return o
}

// bulkPlan is the plan bleve's merger follows in the serving index.
func bulkPlan() *mergeplan.MergePlanOptions {
	o := writePlan()
	o.MaxSegmentsPerTier, o.SegmentsPerMergeTask = bulkSegments, bulkSegments
	return o
}

// bulkSegments is how many segments a size tier holds before bleve's
// merger merges them, that many at once (bleve's default is ten): in the
// serving index while the follower is behind, and in a rebuild's, so that
// few documents are rewritten before settleRebuilt merges them all in one
// pass. A rebuild with bleve's plan took 68-69 s at 100k datasets and
// 12m10s at 1M; with this one 59-65 s and 11m34s (its peak RSS 0.73 ->
// 0.76-0.82 GB at 100k, 1.26 GB at 1M). The bound keeps a large catalog's
// segment files (each mapped and open until the end) in the hundreds.
const bulkSegments = 100

// writePlan is the plan compact merges the serving index by while writes
// come and the follower keeps up with them.
func writePlan() *mergeplan.MergePlanOptions {
	o := mergeplan.DefaultMergePlanOptions
	o.FloorSegmentSize = mergeFloor.Load()
	return &o
}

// mergeFloor is the size, in documents, of the merge plans' smallest tier:
// bleve's default, which tests lower to see the tiers of a few documents
// (atomic: a test's index may still compact as the next test sets it).
var mergeFloor = func() *atomic.Int64 {
	var f atomic.Int64
	f.Store(mergeplan.DefaultMergePlanOptions.FloorSegmentSize)
	return &f
}()

// compactAfter is how long the serving index must have had no write
// before compact merges it to compactPlan; compactEvery is how often it
// looks.
const (
	compactAfter = 2 * time.Second
	compactEvery = time.Second
)

// compact merges the serving index, once a second, by writePlan when the
// follower has caught up with the store since it last did, and to
// compactPlan once the writes have paused for compactAfter, until ctx
// ends. bleve's merger retries a merge that fails (on a full disk: disk.go
// watches its failures) until it succeeds, its index closes or ctx ends.
func (x *Index) compact(ctx context.Context) {
	tick := time.NewTicker(compactEvery)
	defer tick.Stop()
	// Applied sequences: at the last compaction, at the last merge by
	// writePlan, at the last look.
	var compacted, merged, seen uint64
	quietSince := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := x.applied.Load()
		if now != seen {
			seen, quietSince = now, time.Now()
		}
		compacting := now != compacted && time.Since(quietSince) >= compactAfter
		if !compacting && (now == merged || !x.caughtUp(ctx, now)) {
			continue
		}
		plan := writePlan()
		if compacting {
			plan = compactPlan()
		}
		idx, err := x.current()
		if err != nil {
			return
		}
		x.mu.RUnlock()
		// The serving index may be swapped for a rebuilt one meanwhile:
		// ForceMerge of a closed index returns at its close.
		if s := scorchOf(idx); s != nil {
			if err := mergeBy(ctx, s, plan); err != nil {
				continue // ctx ended, or another forced merge runs: tried again at the next tick
			}
		}
		merged = now
		if compacting {
			compacted = now
		}
	}
}

// caughtUp reports whether the index has applied the store's last change
// (applied, read before).
func (x *Index) caughtUp(ctx context.Context, applied uint64) bool {
	last, err := x.st.LastSeq(ctx)
	return err == nil && applied >= last
}

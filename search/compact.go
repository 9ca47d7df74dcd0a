package search

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
)

// How the serving index merges its segments. While writes come, bleve's
// default plan (scorchConfig): up to ten segments in each size tier before
// they are merged, so that a document is rewritten about once per tier
// (log10 of the catalog over a batch). Once the writes have paused for
// compactAfter, compact merges to compactPlan, one segment a tier (four
// at a million datasets): a search pays per segment for each term, fuzzy
// and prefix clause it opens. The serving index used to merge two a tier
// as it wrote, which rewrote each document about log3 of the catalog over
// a batch times: at 100k datasets a fifth of the CPU indexing took
// (BenchmarkIndexSkewed: 1,067 settled documents per CPU-second, 1,319
// with ten a tier), and it still left seven segments after a million
// (searches took 40% more CPU than with two). Tiers keep a compaction
// after a few writes to the small segments: the large ones are merged
// again only once the small ones have grown to their tier.
func compactPlan() *mergeplan.MergePlanOptions {
	o := writePlan()
	o.MaxSegmentsPerTier = 1
	return o
}

// writePlan is the plan the serving index merges by while writes come
// (scorchConfig names what it changes of bleve's default).
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

// compact merges the serving index to compactPlan whenever writes have
// paused for compactAfter since it last did, until ctx ends. bleve's
// merger retries a merge that fails (on a full disk: disk.go watches its
// failures) until it succeeds, its index closes or ctx ends.
func (x *Index) compact(ctx context.Context) {
	tick := time.NewTicker(compactEvery)
	defer tick.Stop()
	var compacted, seen uint64 // applied sequences: at the last compaction, at the last look
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
		if now == compacted || time.Since(quietSince) < compactAfter {
			continue
		}
		idx, err := x.current()
		if err != nil {
			return
		}
		x.mu.RUnlock()
		// The serving index may be swapped for a rebuilt one meanwhile:
		// ForceMerge of a closed index returns at its close.
		if s := scorchOf(idx); s != nil {
			if err := mergeBy(ctx, s, compactPlan()); err != nil {
				continue // ctx ended, or another forced merge runs: tried again at the next tick
			}
		}
		compacted = now
	}
}

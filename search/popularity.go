package search

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	bsearch "github.com/blevesearch/bleve/v2/search"

	"github.com/quarrydata/quarry"
)

// Popularity (see doc.go, "Popularity") is kept beside the index, not in
// it: usage changes at every crawl of every used table, and reindexing
// their documents for it would cost more than the searches it ranks. A
// search reads the percentiles from memory, recounted from the store at
// most every popularityTTL.

// SortPopularity orders a search's hits by popularity, the most used
// first; hits alike in use by relevance.
const SortPopularity = "popularity"

// popularityBoost is the most a hit's score gains from popularity on a
// page: a tenth at the 100th percentile, half of it for any use (so that a
// used dataset wins a near tie: twins' scores differ by a few percent with
// their documents' lengths), beside the ten times more that
// an exact name adds over a name's words (boostExactName, boostNameWords),
// so use orders equal matches and never lifts a worse match over a better.
const popularityBoost = 0.14

// popularityTTL is how long computed percentiles serve before they are
// recounted.
const popularityTTL = time.Minute

// UsageReader gives what popularity counts of each used dataset
// (store.Store.PopularityInputs).
type UsageReader interface {
	PopularityInputs(ctx context.Context, since string) (map[string]quarry.PopularityInput, error)
}

// Popularity computes and caches the datasets' popularity percentiles.
type Popularity struct {
	src UsageReader
	now func() time.Time

	mu    sync.Mutex
	at    time.Time
	pct   map[string]float64
	dirty bool
}

// NewPopularity returns the popularity of the datasets src reports; now
// nil means time.Now.
func NewPopularity(src UsageReader, now func() time.Time) *Popularity {
	if now == nil {
		now = time.Now
	}
	return &Popularity{src: src, now: now}
}

// Invalidate makes the next read recount (after a crawl recorded usage).
func (p *Popularity) Invalidate() {
	p.mu.Lock()
	p.dirty = true
	p.mu.Unlock()
}

// Popularity returns a dataset's percentile (0: unused).
func (p *Popularity) Popularity(ctx context.Context, id string) (float64, error) {
	pct, err := p.Percentiles(ctx)
	return pct[id], err
}

// Percentiles returns every used dataset's percentile, by id. The map is
// shared: read it, never change it.
func (p *Popularity) Percentiles(ctx context.Context) (map[string]float64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.pct != nil && !p.dirty && now.Sub(p.at) < popularityTTL {
		return p.pct, nil
	}
	since := quarry.UsageDayOf(now.AddDate(0, 0, -(quarry.PopularityDays - 1)))
	in, err := p.src.PopularityInputs(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("popularity: %w", err)
	}
	p.pct, p.at, p.dirty = Percentiles(in), now, false
	return p.pct, nil
}

// PopularityScore is a dataset's use as one number (doc.go): reads,
// distinct users and reading jobs, each on a log scale so that no one of
// them decides alone, users and jobs weighing three times reads.
func PopularityScore(in quarry.PopularityInput) float64 {
	return math.Log1p(float64(max(in.Reads, 0))) + 3*math.Log1p(float64(max(in.Users, 0))) + 3*math.Log1p(float64(max(in.ReaderJobs, 0)))
}

// Percentiles turns inputs into percentiles: the share (0 to 100) of the
// used datasets whose score is at most a dataset's own. Unused datasets
// (score 0) are left out: their popularity is 0.
func Percentiles(in map[string]quarry.PopularityInput) map[string]float64 {
	type scored struct {
		id    string
		score float64
	}
	all := make([]scored, 0, len(in))
	for id, v := range in {
		if s := PopularityScore(v); s > 0 {
			all = append(all, scored{id, s})
		}
	}
	slices.SortFunc(all, func(a, b scored) int { return cmp.Compare(a.score, b.score) })
	out := make(map[string]float64, len(all))
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].score == all[i].score {
			j++
		}
		pct := math.Round(1000*float64(j)/float64(len(all))) / 10 // ties share the highest rank
		for _, s := range all[i:j] {
			out[s.id] = pct
		}
		i = j
	}
	return out
}

// UsePopularity makes searches rank with p (doc.go, rule 8) and sort by it
// (SortPopularity). Call it before serving searches.
func (x *Index) UsePopularity(p *Popularity) { x.popularity = p }

// popularityHits lifts each hit of a page by its popularity (at most
// popularityBoost of its score) and orders them again.
func (x *Index) popularityHits(ctx context.Context, hits bsearch.DocumentMatchCollection) error {
	if x.popularity == nil || len(hits) < 2 {
		return nil
	}
	pct, err := x.popularity.Percentiles(ctx)
	if err != nil || len(pct) == 0 {
		return err
	}
	for _, h := range hits {
		if p := pct[h.ID]; p > 0 { // any use counts half: a used dataset wins a near tie
			h.Score *= 1 + popularityBoost*(0.5+p/200)
		}
	}
	slices.SortStableFunc(hits, func(a, b *bsearch.DocumentMatch) int { return cmp.Compare(b.Score, a.Score) })
	return nil
}

// popularityOrder is the sort of SortPopularity: by percentile, highest
// first, over every hit (not a page): a search's collector asks each hit's
// value by its document ID.
func (x *Index) popularityOrder(ctx context.Context) (bsearch.SortOrder, error) {
	var pct map[string]float64
	if x.popularity != nil {
		var err error
		if pct, err = x.popularity.Percentiles(ctx); err != nil {
			return nil, err
		}
	}
	return bsearch.SortOrder{&popularOrder{pct: pct, desc: true}, &bsearch.SortScore{Desc: true}, &bsearch.SortDocID{}}, nil
}

type popularOrder struct {
	pct  map[string]float64
	desc bool
}

// Value is the percentile in tenths, zero-padded: string order is number
// order.
func (o *popularOrder) Value(d *bsearch.DocumentMatch) string {
	return fmt.Sprintf("%04d", int(math.Round(o.pct[d.ID]*10)))
}

func (o *popularOrder) UpdateVisitor(string, []byte) {}
func (o *popularOrder) DecodeValue(v string) string  { return v }
func (o *popularOrder) Descending() bool             { return o.desc }
func (o *popularOrder) RequiresDocID() bool          { return true }
func (o *popularOrder) RequiresScoring() bool        { return false }
func (o *popularOrder) RequiresFields() []string     { return nil }
func (o *popularOrder) Reverse()                     { o.desc = !o.desc }
func (o *popularOrder) Copy() bsearch.SearchSort     { c := *o; return &c }

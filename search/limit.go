package search

import (
	"context"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydata/quarry"
)

// Searcher is what a Limiter bounds: an Index's searches.
type Searcher interface {
	Search(ctx context.Context, q Query) (*Results, error)
	Autocomplete(ctx context.Context, prefix string, limit int) ([]Suggestion, error)
	SearchJobs(ctx context.Context, text string, first int) ([]JobHit, error)
}

// LimiterOptions configure NewLimiter; nil means defaults.
type LimiterOptions struct {
	// Slots is how many searches run at once; zero or less means
	// GOMAXPROCS (the cores the process may use).
	Slots int
	// Registerer receives the limiter's metrics; nil exports none.
	Registerer prometheus.Registerer
}

// Limiter runs at most a fixed number of searches at once; the others
// queue, each until a slot is free or its context ends (then it answers
// unavailable). A search is CPU-bound, so more of them at once than there
// are cores finish no sooner, while each running one holds its collector
// and its hits: at 1M datasets 8 concurrent searches on 2 cores took the
// heap from 0.9 to 3.4 GB (issue 24). Queued, they cost a goroutine each.
type Limiter struct {
	s      Searcher
	slots  chan struct{}
	queued prometheus.Gauge
	waited prometheus.Histogram
}

// NewLimiter bounds s's searches.
func NewLimiter(s Searcher, o *LimiterOptions) *Limiter {
	var opt LimiterOptions
	if o != nil {
		opt = *o
	}
	if opt.Slots <= 0 {
		opt.Slots = runtime.GOMAXPROCS(0)
	}
	l := &Limiter{
		s:     s,
		slots: make(chan struct{}, opt.Slots),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "quarry_search_queued",
			Help: "Searches waiting for one of the slots that bound how many run at once.",
		}),
		waited: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "quarry_search_queue_seconds",
			Help:    "How long searches waited for a slot (0 when one was free).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 15),
		}),
	}
	if opt.Registerer != nil {
		opt.Registerer.MustRegister(l.queued, l.waited)
	}
	return l
}

// acquire takes a slot, waiting until one is free or ctx ends.
func (l *Limiter) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		l.waited.Observe(0)
		return nil
	default:
	}
	start := time.Now()
	l.queued.Inc()
	defer l.queued.Dec()
	select {
	case l.slots <- struct{}{}:
		l.waited.Observe(time.Since(start).Seconds())
		// The release that let this search in made it the next goroutine
		// its P runs, in its time slice; each release hands on to a queued
		// search that way, so under a steady queue the Ps run searches from
		// their own run queues and look at the global one (where the
		// network poller puts a connection whose request has arrived) only
		// every 61st time. A request then waited 100-400 ms to be read
		// while searches ran in 5 (8 clients at 1M, issue 24). Yielding
		// puts this search on the global queue behind what arrived first.
		runtime.Gosched()
		return nil
	case <-ctx.Done():
		return quarry.Errorf(quarry.EUNAVAILABLE, "too many searches at once: this one waited %v for its turn; try again", time.Since(start).Round(time.Millisecond))
	}
}

func (l *Limiter) release() { <-l.slots }

// Search runs s's Search in a slot.
func (l *Limiter) Search(ctx context.Context, q Query) (*Results, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	return l.s.Search(ctx, q)
}

// Autocomplete runs s's Autocomplete in a slot.
func (l *Limiter) Autocomplete(ctx context.Context, prefix string, limit int) ([]Suggestion, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	return l.s.Autocomplete(ctx, prefix, limit)
}

// SearchJobs runs s's SearchJobs in a slot.
func (l *Limiter) SearchJobs(ctx context.Context, text string, first int) ([]JobHit, error) {
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	defer l.release()
	return l.s.SearchJobs(ctx, text, first)
}

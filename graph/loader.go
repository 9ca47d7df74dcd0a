package graph

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/search"
)

// Reads of a list's elements in one go. Where the elements of a list are
// the parents of a field, the field can be a gqlgen batch resolver
// (batch: true in gqlgen.yml), called once with all of them: a lineage
// graph's edges' jobs, a list of runs' jobs. It is one only where that
// measured cheaper: gqlgen's batch costs about 3 to 6 k instructions a
// parent (graphql.BatchParentsFor builds the field's path), more than a
// read transaction of a record the store caches, so autocomplete's
// suggestions and a search's job hits read each element alone (gqlgen.yml
// gives the numbers).
//
// A page of datasets reads their fields through the operation's
// datasetLoader, primed by the resolver that answers the page
// (SearchResults.hits, Query.datasets): the first dataset's freshness
// reads the policies of every dataset of the page in one read, and the
// others find theirs read. gqlgen's batches cannot do it: a search page's
// datasets are each the dataset of its hit, not the elements of a list of
// datasets, which are all that gqlgen groups. A dataset no page primed is
// read alone, as it was, and never kept: a mutation's answer reads what
// the mutation wrote.

// datasetLoader is one operation's reads of the datasets of its pages
// and of their freshness and checks. A nil *datasetLoader (an executor
// without withLoaders) reads each dataset alone.
type datasetLoader struct {
	mu       sync.Mutex        // the operation's root fields run side by side
	page     []*quarry.Dataset // primed, to have their fields read together
	primed   map[string]bool   // ids of page
	unread   []string          // ids of listed datasets not read yet
	datasets reads[*quarry.Dataset]
	policies reads[*quarry.FreshnessPolicy]
	inferred reads[*quarry.FreshnessPolicy]
	checks   reads[[]quarry.Check]
}

// reads is what a loader read of one thing of its datasets, by id: of
// each id read, nil or what it is.
type reads[V any] map[string]V

type loaderKey struct{}

// withLoaders has each operation read through its own datasetLoader (an
// AroundOperations middleware).
func withLoaders(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, loaderKey{}, &datasetLoader{}))
}

func loaderOf(ctx context.Context) *datasetLoader {
	l, _ := ctx.Value(loaderKey{}).(*datasetLoader)
	return l
}

// prime adds a page of datasets, to have their fields read together.
func (l *datasetLoader) prime(ds []*quarry.Dataset) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range ds {
		l.add(d)
	}
}

// primeHits adds a search page: the datasets the search read, and the
// ids of those it did not, to be read together when the first is asked.
func (l *datasetLoader) primeHits(hits []search.Hit) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.primed == nil {
		l.primed = make(map[string]bool, len(hits))
		l.page = make([]*quarry.Dataset, 0, len(hits))
	}
	for i := range hits {
		if d := hits[i].Dataset; d != nil {
			l.add(d)
		} else {
			l.unread = append(l.unread, hits[i].ID)
		}
	}
}

// add primes d; l.mu is held.
func (l *datasetLoader) add(d *quarry.Dataset) {
	if l.primed == nil {
		l.primed = make(map[string]bool)
	}
	if !l.primed[d.ID] {
		l.primed[d.ID] = true
		l.page = append(l.page, d)
	}
}

// has reports whether d was primed, to be read with others.
func (l *datasetLoader) has(d *quarry.Dataset) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.primed[d.ID]
}

// load returns what *m holds of id; when it holds nothing, it first reads,
// in one read, id's and that of each of more (called with l.mu held) that
// *m does not hold. l.mu is held.
func load[V any](ctx context.Context, m *reads[V], id string, more func() []string, read func(context.Context, []string) ([]V, error)) (V, error) {
	if v, ok := (*m)[id]; ok {
		return v, nil
	}
	ids := []string{id}
	for _, k := range more() {
		if _, ok := (*m)[k]; !ok && k != id {
			ids = append(ids, k)
		}
	}
	slices.Sort(ids) // in key order, as bbolt reads them best
	ids = slices.Compact(ids)
	vs, err := read(ctx, ids)
	if err != nil {
		var zero V
		return zero, err
	}
	if *m == nil {
		*m = make(reads[V], len(ids))
	}
	for i, k := range ids {
		(*m)[k] = vs[i]
	}
	return (*m)[id], nil
}

// pageIDs returns the ids of the page's datasets that want accepts; l.mu
// is held.
func (l *datasetLoader) pageIDs(want func(*quarry.Dataset) bool) func() []string {
	return func() []string {
		var ids []string
		for _, d := range l.page {
			if want == nil || want(d) {
				ids = append(ids, d.ID)
			}
		}
		return ids
	}
}

// listedDataset is the dataset of id, or nil when it is not found: read
// with the others of its list when one was primed with it.
func (l *datasetLoader) listedDataset(ctx context.Context, r *Resolver, id string) (*quarry.Dataset, error) {
	if l == nil {
		return nullIfNotFound(r.DatasetStore.Dataset(ctx, id))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, read := l.datasets[id]; read {
		return d, nil
	}
	if !slices.Contains(l.unread, id) {
		return nullIfNotFound(r.DatasetStore.Dataset(ctx, id))
	}
	d, err := load(ctx, &l.datasets, id, func() []string { return l.unread }, r.datasetsOf)
	if err != nil {
		return nil, err
	}
	for _, k := range l.unread { // all read now: their fields are read together
		if d := l.datasets[k]; d != nil {
			l.add(d)
		}
	}
	l.unread = nil
	return d, nil
}

// policy is the freshness policy set on d, or nil.
func (l *datasetLoader) policy(ctx context.Context, r *Resolver, d *quarry.Dataset) (*quarry.FreshnessPolicy, error) {
	if !l.has(d) {
		return r.QualityStore.FreshnessPolicy(ctx, d.ID)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return load(ctx, &l.policies, d.ID, l.pageIDs(nil), r.QualityStore.FreshnessPolicies)
}

// inferredPolicy is the policy learned from d's updates, or nil. It reads
// those of the page's datasets whose freshness is inferred too: with no
// policy set (as read already) and none by default, seen to change.
func (l *datasetLoader) inferredPolicy(ctx context.Context, r *Resolver, d *quarry.Dataset) (*quarry.FreshnessPolicy, error) {
	if !l.has(d) {
		return r.QualityStore.InferredPolicy(ctx, d.ID)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return load(ctx, &l.inferred, d.ID, l.pageIDs(func(p *quarry.Dataset) bool {
		set, read := l.policies[p.ID]
		_, byDefault := quarry.DefaultPolicy(r.FreshnessDefaults, p)
		return read && set == nil && !byDefault && p.LastUpdatedAt != nil
	}), r.QualityStore.InferredPolicies)
}

// checksOf is the latest result of each of d's checks.
func (l *datasetLoader) checksOf(ctx context.Context, r *Resolver, d *quarry.Dataset) ([]quarry.Check, error) {
	if !l.has(d) {
		return r.QualityStore.Checks(ctx, d.ID)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return load(ctx, &l.checks, d.ID, l.pageIDs(nil), r.QualityStore.ChecksOf)
}

// datasetsOf returns the dataset of each id (nil for none, or one not
// found), from one read.
func (r *Resolver) datasetsOf(ctx context.Context, ids []string) ([]*quarry.Dataset, error) {
	return byID(ctx, ids, r.DatasetStore.DatasetsByID, func(d *quarry.Dataset) string { return d.ID })
}

// jobsOf returns the job of each id (nil for none, or one not found), from
// one read.
func (r *Resolver) jobsOf(ctx context.Context, ids []string) ([]*quarry.Job, error) {
	return byID(ctx, ids, r.JobStore.JobsByID, func(j *quarry.Job) string { return j.ID })
}

// byID reads the records of ids (but "") with read, which skips those it
// does not find, and returns them in the order of ids.
func byID[T any](ctx context.Context, ids []string, read func(context.Context, []string) ([]*T, error), id func(*T) string) ([]*T, error) {
	uniq := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			uniq = append(uniq, id)
		}
	}
	slices.Sort(uniq) // in key order, as bbolt reads them best
	uniq = slices.Compact(uniq)
	out := make([]*T, len(ids))
	if len(uniq) == 0 {
		return out, nil
	}
	found, err := read(ctx, uniq)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*T, len(found))
	for _, v := range found {
		m[id(v)] = v
	}
	for i, k := range ids {
		out[i] = m[k]
	}
	return out, nil
}

// requiredJobs is jobsOf for a batch resolver of a non-null job: a
// parent whose job is not found gets the error that reading it alone
// (JobStore.Job) answers.
func (r *Resolver) requiredJobs(ctx context.Context, ids []string) ([]*quarry.Job, error) {
	jobs, err := r.jobsOf(ctx, ids)
	if err != nil {
		return nil, fieldError(ctx, err)
	}
	var errs graphql.BatchErrorList
	for i, j := range jobs {
		if j == nil {
			if errs == nil {
				errs = make(graphql.BatchErrorList, len(jobs))
			}
			errs[i] = fieldError(ctx, quarry.Errorf(quarry.ENOTFOUND, "job %s not found", ids[i]))
		}
	}
	if errs != nil {
		return jobs, errs
	}
	return jobs, nil
}

// fieldError is err as a resolver of one parent answers it: at the
// field's place in the query. gqlgen gives each parent of a batch the
// error at its own path, but not the place (graphql.AddBatchError).
func fieldError(ctx context.Context, err error) error {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Position == nil || fc.Field.Position.Line == 0 {
		return err
	}
	if e, ok := errors.AsType[*gqlerror.Error](err); ok {
		if e.Locations == nil {
			e.Locations = []gqlerror.Location{{Line: fc.Field.Position.Line, Column: fc.Field.Position.Column}}
		}
		return err
	}
	e := gqlerror.WrapPath(nil, err)
	e.Locations = []gqlerror.Location{{Line: fc.Field.Position.Line, Column: fc.Field.Position.Column}}
	return e
}

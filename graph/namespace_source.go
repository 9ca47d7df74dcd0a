package graph

import (
	"context"

	"github.com/quarrydata/quarry/search"
)

// namespaceSource is the source a dataset of the namespace names (a
// crawled dataset records its source), for a namespace no registered
// source has; "" when none of its first datasets names one.
func (r *Resolver) namespaceSource(ctx context.Context, ns string) (string, error) {
	if r.Index == nil {
		return "", nil
	}
	res, err := r.Index.Search(ctx, search.Query{First: 5, NoMatches: true, Filter: search.Filter{Namespaces: []string{ns}, IncludeRemoved: true}})
	if err != nil {
		return "", err
	}
	for _, h := range res.Hits {
		d, err := r.DatasetStore.Dataset(ctx, h.ID)
		if err != nil {
			continue // left the store since it was indexed
		}
		if d.Source != "" {
			return d.Source, nil
		}
	}
	return "", nil
}

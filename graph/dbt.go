package graph

import (
	"context"
	"maps"
	"slices"

	"github.com/quarrydata/quarry"
)

// DbtInfo is a dataset's dbt layer with the dataset it belongs to, which
// its code and its tests' results are read by.
type DbtInfo struct {
	*quarry.DBTInfo
	DatasetID string
}

// dbtCodeStore reads a dbt model's SQL, kept apart from its dataset.
type dbtCodeStore interface {
	DBTCode(ctx context.Context, id string) (*quarry.DBTCode, error)
}

// dbtCode reads the code of the dataset, nil when the store has none.
func (r *Resolver) dbtCode(ctx context.Context, obj *DbtInfo) (*quarry.DBTCode, error) {
	cs, ok := r.DatasetStore.(dbtCodeStore)
	if !ok {
		return nil, nil
	}
	return cs.DBTCode(ctx, obj.DatasetID)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func properties(m map[string]string) []*quarry.Property {
	out := make([]*quarry.Property, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, &quarry.Property{Key: k, Value: m[k]})
	}
	return out
}

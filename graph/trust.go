package graph

import (
	"context"
	"errors"

	"github.com/quarrydata/quarry"
)

// problemSource is the store areas Dataset.upstreamProblems reads.
type problemSource struct {
	AlertStore
	DatasetStore
	JobStore
}

// editTrust applies a deprecation or endorsement edit: what the mutations
// share.
func (r *mutationResolver) editTrust(ctx context.Context, id string, u quarry.DatasetUpdate) (*quarry.Dataset, error) {
	id, err := quarry.ParseID("id", id)
	if err != nil {
		return nil, err
	}
	d, err := r.DatasetStore.UpdateDataset(ctx, id, u)
	if e, ok := errors.AsType[*quarry.Error](err); ok {
		// The store names the dataset's fields; point at the arguments.
		if f, ok := map[string]string{"deprecated.note": "input.note", "deprecated.replacement": "input.replacementId", "endorsed.note": "note"}[e.Field]; ok {
			return nil, &quarry.Error{Code: e.Code, Field: f, Message: e.Message}
		}
	}
	return d, err
}

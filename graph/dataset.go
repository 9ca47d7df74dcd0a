package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/quarrydata/quarry"
)

// dataset converts the GraphQL input to the domain type. Validation is the
// domain's (Dataset.Normalize), so every entry point checks the same way.
func (in *DatasetInput) dataset() quarry.Dataset {
	d := quarry.Dataset{
		Namespace: in.Namespace,
		Name:      in.Name,
		Kind:      deref(in.Kind),
		Provided: quarry.Metadata{
			Description: deref(in.Description),
			Owners:      in.Owners,
			Tags:        in.Tags,
		},
		RowCount:  in.RowCount,
		SizeBytes: in.SizeBytes,
	}
	if in.Columns != nil {
		d.Columns = make([]quarry.Column, len(in.Columns))
		for i, c := range in.Columns {
			d.Columns[i] = quarry.Column{
				Name:        c.Name,
				Type:        deref(c.Type),
				Nullable:    c.Nullable == nil || *c.Nullable,
				Description: deref(c.Description),
				Default:     deref(c.Default),
				PrimaryKey:  deref(c.PrimaryKey),
			}
			if fk := c.ForeignKey; fk != nil {
				d.Columns[i].ForeignKey = &quarry.ColumnRef{Namespace: fk.Namespace, Name: fk.Name, Column: fk.Column}
			}
		}
	}
	return d
}

func (r *mutationResolver) setRemoved(ctx context.Context, id string, removed bool) (*quarry.Dataset, error) {
	id, err := quarry.ParseID("id", id)
	if err != nil {
		return nil, err
	}
	if removed {
		err = r.DatasetStore.MarkRemoved(ctx, r.Now(), id)
	} else {
		err = r.DatasetStore.Restore(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return r.DatasetStore.Dataset(ctx, id)
}

// nullIfNotFound turns a not_found error into a null result: looking up a
// dataset that does not exist is an answer, not an error.
func nullIfNotFound[T any](v *T, err error) (*T, error) {
	if quarry.ErrorCode(err) == quarry.ENOTFOUND {
		return nil, nil
	}
	return v, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// slicePtrs adapts a store call's ([]T, error) to gqlgen's ([]*T, error).
func slicePtrs[T any](s []T, err error) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	return pointers(s), nil
}

func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// wantsField reports whether the query selects the named field of the
// field being resolved, so costly parts are computed only when asked for.
func wantsField(ctx context.Context, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// wantsSubfield reports whether the query selects any of the named fields
// of the field being resolved's field parent (hits { matches }).
func wantsSubfield(ctx context.Context, parent string, names ...string) bool {
	oc := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name != parent {
			continue
		}
		for _, sub := range graphql.CollectFields(oc, f.Selections, nil) {
			if slices.Contains(names, sub.Name) {
				return true
			}
		}
	}
	return false
}

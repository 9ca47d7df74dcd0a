package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/quarrydata/quarry"
)

func putHistory(tx kvTx, id string, seq uint64, at time.Time, changes []quarry.SchemaChange) error {
	b := tx.Bucket(bucketHistory)
	for i, c := range changes {
		c.Seq, c.At = seq, at
		v, err := json.Marshal(c)
		if err != nil {
			return err
		}
		k := append(append([]byte(id), u64(seq)...), byte(i>>8), byte(i))
		if err := b.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

// SchemaHistory returns the dataset's schema changes, newest first (within
// one change, in the order they were found). It ends with DATASET_CREATED,
// derived from the dataset's creation time and first kind.
func (s *Store) SchemaHistory(ctx context.Context, id string) ([]quarry.SchemaChange, error) {
	var groups [][]quarry.SchemaChange
	var d *quarry.Dataset
	err := s.view(func(tx kvTx) error {
		var err error
		if d, err = getDataset(tx, id); err != nil {
			return err
		}
		c := tx.Bucket(bucketHistory).Cursor()
		prefix := []byte(id)
		var last uint64
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var sc quarry.SchemaChange
			if err := json.Unmarshal(v, &sc); err != nil {
				return fmt.Errorf("decode schema history of %s: %w", id, err)
			}
			if len(groups) == 0 || sc.Seq != last {
				groups = append(groups, nil)
				last = sc.Seq
			}
			groups[len(groups)-1] = append(groups[len(groups)-1], sc)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(groups) // read oldest first; shown newest first
	out := slices.Concat(groups...)
	if !slices.ContainsFunc(out, func(c quarry.SchemaChange) bool { return c.Kind == quarry.DatasetCreated }) {
		first := string(d.Kind) // unless a kind change says what it was first
		for _, c := range out {
			if c.Kind == quarry.KindChanged {
				first = c.Old
			}
		}
		out = append(out, quarry.SchemaChange{At: d.CreatedAt, Kind: quarry.DatasetCreated, New: first})
	}
	return out, nil
}

func putDataChange(tx kvTx, id string, seq uint64, c quarry.DataChange) error {
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	k := append(append([]byte(id), u64(uint64(c.At.UnixNano()))...), u64(seq)...)
	return tx.Bucket(bucketDataChanges).Put(k, v)
}

// DataChanges returns up to limit observations that the dataset's data
// changed, newest first.
func (s *Store) DataChanges(ctx context.Context, id string, limit int) ([]quarry.DataChange, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []quarry.DataChange
	err := s.view(func(tx kvTx) (err error) {
		out, err = newestFirstJSON[quarry.DataChange](tx.Bucket(bucketDataChanges).Cursor(), []byte(id), limit, "data change of "+id)
		return err
	})
	return out, err
}

// newestFirst calls fn with the values of up to limit keys under prefix,
// from the last key down: keys that end in a time or sequence give the
// newest first.
func newestFirst(c kvCursor, prefix []byte, limit int, fn func(v []byte) error) error {
	k, v := lastBefore(c, pastPrefix(prefix))
	for n := 0; k != nil && bytes.HasPrefix(k, prefix) && n < limit; k, v = c.Prev() {
		if err := fn(v); err != nil {
			return err
		}
		n++
	}
	return nil
}

// newestFirstJSON decodes the values of up to limit keys under prefix,
// newest first (see newestFirst); what names them in errors.
func newestFirstJSON[T any](c kvCursor, prefix []byte, limit int, what string) ([]T, error) {
	var out []T
	err := newestFirst(c, prefix, limit, func(v []byte) error {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("decode %s: %w", what, err)
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// prefixJSON decodes the values of the keys under prefix (nil: every key),
// in key order; what names them in errors.
func prefixJSON[T any](c kvCursor, prefix []byte, what string) ([]T, error) {
	var out []T
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return out, fmt.Errorf("decode %s %q: %w", what, k, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// lastBefore moves c to the last key before key (nil when there is none).
func lastBefore(c kvCursor, key []byte) ([]byte, []byte) {
	if k, _ := c.Seek(key); k == nil {
		return c.Last()
	}
	return c.Prev()
}

// pastPrefix is a key after every key under prefix (keys under our
// prefixes never continue with 0xff: UUIDs, names and big-endian times).
func pastPrefix(prefix []byte) []byte { return append(slices.Clone(prefix), 0xff) }

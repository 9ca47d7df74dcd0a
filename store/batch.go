package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/quarrydata/quarry"
)

// Reads of one thing of many datasets in one read transaction, for a page
// of them (a search page asks each hit's freshness and health): the same
// answers as the reads of one dataset each, at the cost of one
// transaction instead of one per dataset. Their results are in the order
// of ids.

// FreshnessPolicies returns the policy set for each dataset (nil where none
// is), as FreshnessPolicy does for one.
func (s *Store) FreshnessPolicies(ctx context.Context, ids []string) ([]*quarry.FreshnessPolicy, error) {
	out := make([]*quarry.FreshnessPolicy, len(ids))
	err := s.view(func(tx kvTx) error {
		prefetchAll(tx, []kvRead{{bucket: bucketPolicies, keys: idKeys(ids)}})
		b := tx.Bucket(bucketPolicies)
		for i, id := range ids {
			raw := b.Get([]byte(id))
			if raw == nil {
				continue
			}
			p := new(quarry.FreshnessPolicy)
			if err := json.Unmarshal(raw, p); err != nil {
				return fmt.Errorf("decode freshness policy of %s: %w", id, err)
			}
			out[i] = p
		}
		return ctx.Err()
	})
	return out, err
}

// InferredPolicies returns the policy learned from each dataset's update
// history (nil where it is too short), as InferredPolicy does for one.
func (s *Store) InferredPolicies(ctx context.Context, ids []string) ([]*quarry.FreshnessPolicy, error) {
	out := make([]*quarry.FreshnessPolicy, len(ids))
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketDataChanges).Cursor()
		var times []time.Time
		for i, id := range ids {
			times = changeTimes(c, []byte(id), times[:0])
			if p, ok := quarry.InferPolicy(times); ok {
				out[i] = &p
			}
		}
		return ctx.Err()
	})
	return out, err
}

// ChecksOf returns the latest result of each check on each dataset, as
// Checks does for one.
func (s *Store) ChecksOf(ctx context.Context, ids []string) ([][]quarry.Check, error) {
	out := make([][]quarry.Check, len(ids))
	err := s.view(func(tx kvTx) error {
		prefetchAll(tx, []kvRead{{bucket: bucketChecks, prefixes: idKeys(ids)}}) // each dataset's checks, read whole
		c := tx.Bucket(bucketChecks).Cursor()
		for i, id := range ids {
			var err error
			if out[i], err = prefixJSON[quarry.Check](c, []byte(id), "check"); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	return out, err
}

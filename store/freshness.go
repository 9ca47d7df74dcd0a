package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/quarrydata/quarry"
)

// SetFreshnessPolicy sets the freshness policy of a dataset; nil removes it.
func (s *Store) SetFreshnessPolicy(ctx context.Context, id string, p *quarry.FreshnessPolicy) error {
	if p != nil {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx kvTx) error {
		if tx.Bucket(bucketDatasets).Get([]byte(id)) == nil {
			return quarry.Errorf(quarry.ENOTFOUND, "dataset %s not found", id)
		}
		b := tx.Bucket(bucketPolicies)
		if p == nil {
			if b.Get([]byte(id)) == nil {
				return nil
			}
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		} else if err := putJSON(b, []byte(id), p); err != nil {
			return err
		}
		_, err := appendChange(tx, s.now().UTC(), quarry.EntityDataset, id, quarry.OpPolicy)
		return err
	})
}

// FreshnessPolicy returns the policy set for a dataset, or nil.
func (s *Store) FreshnessPolicy(ctx context.Context, id string) (*quarry.FreshnessPolicy, error) {
	var p *quarry.FreshnessPolicy
	err := s.view(func(tx kvTx) error {
		raw := tx.Bucket(bucketPolicies).Get([]byte(id))
		if raw == nil {
			return nil
		}
		p = new(quarry.FreshnessPolicy)
		if err := json.Unmarshal(raw, p); err != nil {
			return fmt.Errorf("decode freshness policy of %s: %w", id, err)
		}
		return nil
	})
	return p, err
}

// RecordDataChange records that a dataset's data changed at the given time,
// as a tool that knows says (signal manual): a data change observation, and
// LastUpdatedAt when it is the newest.
func (s *Store) RecordDataChange(ctx context.Context, id string, at time.Time, detail string) (*quarry.Dataset, error) {
	var out *quarry.Dataset
	err := s.update(ctx, func(tx kvTx) error {
		d, err := getDataset(tx, id)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if at.IsZero() {
			at = now
		}
		at = at.UTC()
		if err := quarry.CheckTime("at", at); err != nil {
			return err
		}
		if at.After(now.Add(5 * time.Minute)) {
			return quarry.Invalid("at", "%s is in the future", at.Format(time.RFC3339))
		}
		if d.LastUpdatedAt == nil || at.After(*d.LastUpdatedAt) {
			d.LastUpdatedAt = &at
			if err := putDataset(tx, d); err != nil {
				return err
			}
		}
		seq, err := appendChange(tx, now, quarry.EntityDataset, id, quarry.OpData)
		if err != nil {
			return err
		}
		out = d
		return putDataChange(tx, id, seq, quarry.DataChange{At: at, Signal: quarry.SignalManual, Detail: detail})
	})
	return out, err
}

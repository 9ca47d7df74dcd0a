package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/quarrydata/quarry"
)

// Checks returns the latest result of each check on a dataset, ordered by
// column (dataset-level checks first) and name.
func (s *Store) Checks(ctx context.Context, datasetID string) ([]quarry.Check, error) {
	var out []quarry.Check
	err := s.view(func(tx kvTx) (err error) {
		out, err = prefixJSON[quarry.Check](tx.Bucket(bucketChecks).Cursor(), []byte(datasetID), "check")
		return err
	})
	return out, err
}

// CheckHistory returns up to limit results of one check, newest first.
func (s *Store) CheckHistory(ctx context.Context, datasetID, column, name string, limit int) ([]quarry.Check, error) {
	var out []quarry.Check
	err := s.view(func(tx kvTx) (err error) {
		prefix := checkKey(&quarry.Check{DatasetID: datasetID, Column: column, Name: name})
		out, err = newestFirstJSON[quarry.Check](tx.Bucket(bucketCheckHistory).Cursor(), prefix, limit, "check of "+datasetID)
		return err
	})
	return out, err
}

// Metrics returns the latest figures a job measured on a dataset, or nil.
func (s *Store) Metrics(ctx context.Context, datasetID string) (*quarry.DatasetMetrics, error) {
	var m *quarry.DatasetMetrics
	err := s.view(func(tx kvTx) error {
		raw := tx.Bucket(bucketMetrics).Get([]byte(datasetID))
		if raw == nil {
			return nil
		}
		m = new(quarry.DatasetMetrics)
		return json.Unmarshal(raw, m)
	})
	return m, err
}

// PutCheck records a check result on a dataset (a quarry.ENOTFOUND error
// for an unknown one): the check's latest result, unless a newer one is
// stored, and an entry of its history. It returns the result as stored.
func (s *Store) PutCheck(ctx context.Context, c quarry.Check) (*quarry.Check, error) {
	if err := c.Normalize(); err != nil {
		return nil, err
	}
	var out quarry.Check
	err := s.update(ctx, func(tx kvTx) error {
		if tx.Bucket(bucketDatasets).Get([]byte(c.DatasetID)) == nil {
			return quarry.Errorf(quarry.ENOTFOUND, "dataset %s not found", c.DatasetID)
		}
		out = c
		now := s.now().UTC()
		if out.ObservedAt.IsZero() {
			out.ObservedAt = now
		}
		if out.ObservedAt.After(now.Add(5 * time.Minute)) { // it would stay the latest result until then
			return quarry.Invalid("observedAt", "%s is in the future", out.ObservedAt.Format(time.RFC3339))
		}
		seq, err := appendChange(tx, now, quarry.EntityDataset, out.DatasetID, quarry.OpCheck)
		if err != nil {
			return err
		}
		return putCheck(tx, seq, 0, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

package store

import (
	"context"

	"github.com/quarrydata/quarry"
)

// What a dataset's upstream problems read of many datasets and jobs at
// once: one read transaction each, for every page view.

// OpenAlertsOf returns the open alerts of the given datasets, in the order
// of ids, each dataset's as DatasetAlerts orders them.
func (s *Store) OpenAlertsOf(ctx context.Context, ids []string) ([]quarry.Alert, error) {
	var out []quarry.Alert
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketAlerts).Cursor()
		for _, id := range ids {
			var mine []quarry.Alert
			for _, prefix := range []string{quarry.FreshnessAlertKey(id), quarry.CheckAlertsPrefix(id)} {
				alerts, err := prefixJSON[quarry.Alert](c, []byte(prefix), "alert")
				if err != nil {
					return err
				}
				for _, a := range alerts {
					if a.Open() {
						mine = append(mine, a)
					}
				}
			}
			sortAlerts(mine)
			out = append(out, mine...)
		}
		return ctx.Err()
	})
	return out, err
}

// LatestRuns returns the latest run of each job, in the order of jobIDs,
// nil for a job without runs.
func (s *Store) LatestRuns(ctx context.Context, jobIDs []string) ([]*quarry.Run, error) {
	out := make([]*quarry.Run, len(jobIDs))
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketJobRuns).Cursor()
		for i, id := range jobIDs {
			prefix := []byte(id)
			k, _ := lastBefore(c, pastPrefix(prefix))
			if k == nil || len(k) < len(prefix)+8 || string(k[:len(prefix)]) != id {
				continue
			}
			r, err := getRun(tx, string(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			if r != nil {
				run := r.Run
				out[i] = &run
			}
		}
		return ctx.Err()
	})
	return out, err
}

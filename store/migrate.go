package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/quarrydata/quarry"
)

// migration upgrades the file from version-1 to version. Migrations run in
// order, each in the transaction that also records the new version, so a
// crash leaves the file at one version or the next.
type migration struct {
	version int
	name    string
	run     func(tx kvTx) error
}

// migrations is the file format's history. Append; never edit or reorder.
var migrations = []migration{
	{1, "create buckets", func(tx kvTx) error {
		for _, b := range [][]byte{bucketMeta, bucketChangelog, bucketDatasets, bucketDatasetNames, bucketDatasetEdits} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	}},
	{2, "schema history, data changes, lineage edges, sources", func(tx kvTx) error {
		for _, b := range [][]byte{bucketHistory, bucketDataChanges, bucketEdgesOut, bucketEdgesIn, bucketSources, bucketCrawlRuns} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	}},
	{3, "split volatile figures from dataset records; removal, digest and source in the name index", migrateSplitDatasets},
	{4, "jobs, runs, lineage events, checks, metrics", func(tx kvTx) error {
		for _, b := range [][]byte{bucketJobs, bucketRuns, bucketJobRuns, bucketRunChildren, bucketJobEdges, bucketEvents, bucketChecks, bucketCheckHistory, bucketMetrics} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	}},
	{5, "lineage log", func(tx kvTx) error {
		_, err := tx.CreateBucketIfNotExists(bucketLineageLog)
		return err
	}},
	{6, "a run's edges beside its record", migrateRunEdges},
	{7, "freshness policies", func(tx kvTx) error {
		_, err := tx.CreateBucketIfNotExists(bucketPolicies)
		return err
	}},
	{8, "alerts", func(tx kvTx) error {
		for _, b := range [][]byte{bucketAlerts, bucketAlertsResolved, bucketAlertHistory, bucketAlertDeliveries, bucketAlertOutbox} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	}},
	{9, "dataset status", func(tx kvTx) error {
		_, err := tx.CreateBucketIfNotExists(bucketDatasetStatus)
		return err
	}},
	{10, "the datasets each job reads and writes, from their runs", migrateDatasetJobs},
	{11, "job edge claims beside the job records", migrateJobClaims},
	{12, "usage read by crawls", func(tx kvTx) error {
		for _, b := range [][]byte{bucketUsageDays, bucketUsageRecent, bucketUsageState} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	}},
	{13, "the datasets that can be late, for the alert evaluator", migrateCanBeLate},
}

// migrateCanBeLate lists the datasets that can be late (alert.go), so that
// the alert evaluator's first pass reads those rather than every record.
func migrateCanBeLate(tx kvTx) error {
	b, err := tx.CreateBucketIfNotExists(bucketCanBeLate)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketCanBeLate, err)
	}
	var ids [][]byte
	err = tx.Bucket(bucketDatasets).ForEach(func(k, v []byte) error {
		can, err := recordCanBeLate(v)
		if err != nil {
			return fmt.Errorf("dataset %s: %w", k, err)
		}
		if can {
			ids = append(ids, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids { // writing while iterating is not allowed
		if err := b.Put(id, canBeLate); err != nil {
			return err
		}
	}
	return nil
}

// migrateJobClaims moves whose report a job's edges are out of the job's
// record (where claiming rewrote the job's SQL at every completed run)
// into a bucket of its own.
func migrateJobClaims(tx kvTx) error {
	claims, err := tx.CreateBucketIfNotExists(bucketJobClaims)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketJobClaims, err)
	}
	type legacy struct {
		quarry.Job
		EdgesRun string    `json:"edgesRun"`
		EdgesAt  time.Time `json:"edgesAt"`
	}
	var jobs []legacy
	err = tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
		var j legacy
		if err := json.Unmarshal(v, &j); err != nil {
			return fmt.Errorf("job %s: %w", k, err)
		}
		if j.EdgesRun != "" || !j.EdgesAt.IsZero() {
			jobs = append(jobs, j)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, j := range jobs { // rewriting while iterating a bucket is not allowed
		if err := putJSON(claims, []byte(j.ID), jobClaim{Run: j.EdgesRun, At: j.EdgesAt}); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bucketJobs), []byte(j.ID), &storedJob{Job: j.Job}); err != nil {
			return err
		}
	}
	return nil
}

// migrateDatasetJobs indexes the datasets each job's runs reported, so
// that a job that only writes (a seed, a load from outside) is among a
// dataset's writers though no lineage edge goes through it. Runs are
// folded in the order they ended, the newest completed one last, as they
// would have been applied.
func migrateDatasetJobs(tx kvTx) error {
	for _, b := range [][]byte{bucketDatasetJobs, bucketJobDatasets} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	var runs []storedRun
	err := tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
		var r storedRun
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("run %s: %w", k, err)
		}
		runs = append(runs, r)
		return nil
	})
	if err != nil {
		return err
	}
	end := func(r *storedRun) time.Time {
		if r.EndedAt != nil {
			return *r.EndedAt
		}
		return r.FirstSeen
	}
	slices.SortFunc(runs, func(a, b storedRun) int { return end(&a).Compare(end(&b)) })
	for i := range runs {
		r := &runs[i]
		if err := setJobDatasets(tx, r.JobID, r.Inputs, r.Outputs, r.State == quarry.RunComplete); err != nil {
			return err
		}
	}
	return nil
}

// migrateRunEdges moves the edges each run reported out of its record, so
// that an event of a run decodes a small record.
func migrateRunEdges(tx kvTx) error {
	re, err := tx.CreateBucketIfNotExists(bucketRunEdges)
	if err != nil {
		return err
	}
	type legacyRun struct {
		storedRun
		Edges []quarry.Edge `json:"edges,omitempty"`
	}
	var runs []legacyRun
	err = tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
		var r legacyRun
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("run %s: %w", k, err)
		}
		if len(r.Edges) > 0 {
			runs = append(runs, r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range runs {
		for i := range r.Edges {
			if err := re.Put(append([]byte(r.ID), edgeKey(&r.Edges[i])...), []byte(r.Edges[i].Transformation)); err != nil {
				return err
			}
		}
		if err := putJSON(tx.Bucket(bucketRuns), []byte(r.ID), &r.storedRun); err != nil {
			return err
		}
	}
	return nil
}

// migrateSplitDatasets moves row counts, sizes and stats out of dataset
// records into their own bucket, and writes name index entries with the
// removal mark and provided digest, so that a crawl can compare and list
// datasets without decoding them.
func migrateSplitDatasets(tx kvTx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketVolatile); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketVolatile, err)
	}
	var all []*quarry.Dataset
	err := tx.Bucket(bucketDatasets).ForEach(func(k, v []byte) error {
		var d quarry.Dataset
		if err := unmarshalRecord(v, &d); err != nil {
			return fmt.Errorf("dataset %s: %w", k, err)
		}
		all = append(all, &d)
		return nil
	})
	if err != nil {
		return err
	}
	for _, d := range all { // rewriting while iterating a bucket is not allowed
		if err := putDataset(tx, d); err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion is the file format version this build writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

func (s *Store) migrate() error {
	// A current file is not written to: opening must not need disk space
	// (a server restarted on a full disk comes up, degraded).
	var have int
	err := s.db.View(func(tx kvTx) (err error) {
		have, err = fileVersion(tx)
		return err
	})
	if err == nil && have == SchemaVersion() {
		return nil
	}
	return s.db.Update(func(tx kvTx) error {
		have, err := fileVersion(tx)
		if err != nil {
			return err
		}
		for _, m := range migrations {
			if m.version <= have {
				continue
			}
			if err := m.run(tx); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
			s.log.Info("store migrated", "version", m.version, "migration", m.name)
			have = m.version
		}
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64(uint64(have)))
	})
}

func (s *Store) checkVersion() error {
	return s.db.View(func(tx kvTx) error {
		have, err := fileVersion(tx)
		if err != nil {
			return err
		}
		if have != SchemaVersion() {
			return fmt.Errorf("file is at schema version %d, this build needs %d: open it read-write once to migrate", have, SchemaVersion())
		}
		return nil
	})
}

func fileVersion(tx kvTx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keySchemaVersion)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("schema version key is %d bytes, want 8: not a Quarry store?", len(v))
	}
	have := int(binary.BigEndian.Uint64(v))
	if have > SchemaVersion() {
		return 0, fmt.Errorf("written by a newer Quarry (schema version %d; this build knows up to %d)", have, SchemaVersion())
	}
	return have, nil
}

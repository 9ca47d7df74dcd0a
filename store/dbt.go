package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
)

// A dbt project's import: its datasets' dbt layer, their SQL, the jobs that
// build them, their lineage (origin DBT), their tests' results, sources'
// data changes, and the removal of what left the project, all in one
// transaction. The buckets are created by the first import.
var (
	bucketDBTCode     = []byte("dbt_code")     // dataset id -> DBTCode
	bucketDBTProjects = []byte("dbt_projects") // namespace \x00 project -> dbtProject
)

// dbtProject is what the last import of a project wrote: the datasets it
// named, so that the next import knows which left the project.
type dbtProject struct {
	Datasets []string  `json:"datasets"`
	At       time.Time `json:"at"`
}

// ImportDBT writes a dbt project's import in one transaction, all or
// nothing: every input is validated before anything is written, and a
// failure part-way rolls the whole transaction back.
//
// For each dataset: the dbt layer (quarry.Dataset.DBT) is replaced; a
// dataset no registered source crawls takes its kind, row count and size
// from the import, and its columns when the import created it or it has
// none; a crawled dataset keeps the crawler's. Its SQL is stored beside it,
// its DBT edges become exactly its upstream, its job's datasets what it
// reads and writes, test results not stored yet are added, and a newer
// max_loaded_at is a data change. Datasets the previous import of the same
// project and namespace named and this one does not lose their dbt layer
// and edges; those the import created and no crawler reads are marked
// removed. Importing the same artifacts again writes nothing.
func (s *Store) ImportDBT(ctx context.Context, im *quarry.DBTImport) (quarry.DBTResult, error) {
	res := quarry.DBTResult{Project: im.Project, Counts: im.Counts, Warnings: im.Warnings}
	if im.Project == "" {
		return res, quarry.Invalid("project", "must not be empty")
	}
	ns, err := quarry.NormalizeNamespace(im.Namespace)
	if err != nil {
		return res, quarry.InField("namespace", err)
	}
	now := s.now().UTC()
	// Validate and normalize everything first.
	ds := make([]quarry.Dataset, len(im.Datasets))
	seen := make(map[string]int, len(ds))
	for i := range im.Datasets {
		in := &im.Datasets[i]
		d := in.Dataset
		d.Columns = slices.Clone(d.Columns)
		if err := d.Normalize(); err != nil {
			return res, quarry.InField(fmt.Sprintf("datasets[%d]", i), err)
		}
		s.applyAliases(&d)
		if j, dup := seen[d.ID]; dup {
			return res, quarry.Invalid(fmt.Sprintf("datasets[%d]", i), "names the same dataset as datasets[%d] (%s %s)", j, d.Namespace, d.Name)
		}
		seen[d.ID] = i
		if in.Info.Freshness != nil {
			if err := in.Info.Freshness.Validate(); err != nil {
				return res, quarry.InField(fmt.Sprintf("datasets[%d].freshness", i), err)
			}
		}
		for j := range in.Results {
			c := &in.Results[j]
			if err := c.Normalize(); err != nil {
				return res, quarry.InField(fmt.Sprintf("datasets[%d].results[%d]", i, j), err)
			}
		}
		for _, u := range in.Upstream {
			if u < 0 || u >= len(im.Datasets) {
				return res, quarry.Invalid(fmt.Sprintf("datasets[%d].upstream", i), "%d is not a dataset of the import", u)
			}
		}
		if in.Job >= len(im.Jobs) {
			return res, quarry.Invalid(fmt.Sprintf("datasets[%d].job", i), "%d is not a job of the import", in.Job)
		}
		ds[i] = d
	}
	jobs := slices.Clone(im.Jobs)
	for i := range jobs {
		if err := jobs[i].Normalize(); err != nil {
			return res, quarry.InField(fmt.Sprintf("jobs[%d]", i), err)
		}
	}
	projectKey := nameKey(ns, im.Project)

	write := func(tx kvTx) error {
		res.Created, res.Changed, res.Removed = 0, 0, 0
		code, err := tx.CreateBucketIfNotExists(bucketDBTCode)
		if err != nil {
			return err
		}
		projects, err := tx.CreateBucketIfNotExists(bucketDBTProjects)
		if err != nil {
			return err
		}
		var prev dbtProject
		if raw := projects.Get(projectKey); raw != nil {
			if err := json.Unmarshal(raw, &prev); err != nil {
				return fmt.Errorf("decode dbt project %s: %w", im.Project, err)
			}
		}
		byID := make([]*quarry.Job, len(jobs))
		for i := range jobs {
			byID[i] = &jobs[i]
		}
		slices.SortFunc(byID, func(a, b *quarry.Job) int { return strings.Compare(a.ID, b.ID) })
		for _, j := range byID {
			if err := upsertJob(tx, j, now); err != nil {
				return err
			}
		}
		ids := make([]string, len(ds))
		for i := range ds {
			ids[i] = ds[i].ID
		}
		// In key order: bbolt inserts into a page's sorted slice, so keys in
		// order append, where random ones would move the page's tail each
		// time (and this transaction writes thousands of them).
		order := make([]int, len(ds))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return strings.Compare(ids[a], ids[b]) })
		for n, i := range order {
			if n%256 == 255 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			in := &im.Datasets[i]
			o, err := importDBTDataset(tx, &ds[i], in, now)
			if err != nil {
				return fmt.Errorf("dbt %s: %w", in.Info.UniqueID, err)
			}
			if o == created {
				res.Created++
			}
			if o != unchanged {
				res.Changed++
			}
			if err := putDBTCode(code, ds[i].ID, in.Code); err != nil {
				return err
			}
			if err := putDBTResults(tx, ds[i].ID, in.Results, now); err != nil {
				return err
			}
		}
		// Lineage: each dataset's DBT edges are exactly its upstream.
		byJob := map[string][2][]string{}
		for _, i := range order {
			in := &im.Datasets[i]
			jobID := ""
			if in.Job >= 0 {
				jobID = jobs[in.Job].ID
			}
			edges := make([]quarry.Edge, 0, len(in.Upstream))
			var ins []string
			for _, u := range in.Upstream {
				edges = append(edges, quarry.Edge{From: ids[u], To: ids[i], JobID: jobID, Origin: quarry.OriginDBT})
				ins = append(ins, ids[u])
			}
			if err := replaceEdges(tx, now, ids[i], quarry.OriginDBT, edges); err != nil {
				return err
			}
			if jobID != "" {
				io := byJob[jobID]
				io[0] = append(io[0], ins...)
				io[1] = append(io[1], ids[i])
				byJob[jobID] = io
			}
		}
		for jobID, io := range byJob {
			if err := setJobDatasets(tx, jobID, io[0], io[1], true); err != nil {
				return err
			}
		}
		// What left the project.
		for _, id := range prev.Datasets {
			if _, still := seen[id]; still {
				continue
			}
			removed, err := leaveDBTProject(tx, id, im.Project, now)
			if err != nil {
				return err
			}
			if removed {
				res.Removed++
			}
			if err := code.Delete([]byte(id)); err != nil {
				return err
			}
		}
		next := dbtProject{Datasets: ids, At: now}
		slices.Sort(next.Datasets)
		if raw := projects.Get(projectKey); raw != nil {
			var have dbtProject
			if json.Unmarshal(raw, &have) == nil && slices.Equal(have.Datasets, next.Datasets) {
				return nil
			}
		}
		return putJSON(projects, projectKey, &next)
	}
	if err := s.bulk(ctx, write); err != nil {
		return quarry.DBTResult{Project: im.Project, Counts: im.Counts, Warnings: im.Warnings}, err
	}
	return res, nil
}

// importDBTDataset creates or updates one dataset's dbt layer.
func importDBTDataset(tx kvTx, in *quarry.Dataset, im *quarry.DBTDataset, now time.Time) (outcome, error) {
	info := im.Info
	raw := tx.Bucket(bucketDatasets).Get([]byte(in.ID))
	if raw == nil {
		d := *in
		info.Created = true
		d.DBT = &info
		d.Edited = quarry.Edits{}
		d.CreatedAt, d.UpdatedAt, d.LastUpdatedAt, d.RemovedAt = now, now, nil, nil
		if im.LoadedAt != nil {
			t := im.LoadedAt.UTC()
			d.LastUpdatedAt = &t
		}
		if err := putDataset(tx, &d); err != nil {
			return 0, err
		}
		if err := addCounter(tx, keyDatasetCount, 1); err != nil {
			return 0, err
		}
		seq, err := appendChange(tx, now, quarry.EntityDataset, d.ID, quarry.OpUpsert)
		if err != nil {
			return 0, err
		}
		if d.LastUpdatedAt != nil {
			err = putDataChange(tx, d.ID, seq, quarry.DataChange{At: *d.LastUpdatedAt, Signal: quarry.SignalDBT, Detail: "dbt source freshness: max_loaded_at"})
		}
		return created, err
	}
	d, err := decodeDataset(tx, in.ID, raw)
	if err != nil {
		return 0, err
	}
	old := *d
	info.Created = d.DBT != nil && d.DBT.Created
	var history []quarry.SchemaChange
	if d.Source == "" {
		// No registered source crawls it: dbt knows its kind (dbt-ol's
		// events do not say it), and its columns when the import created
		// it or nobody gave any.
		d.Kind, d.Database, d.Schema = in.Kind, in.Database, in.Schema
		if info.Created || len(d.Columns) == 0 {
			d.Columns = in.Columns
		}
		history = quarry.DiffSchema(&old, d)
	}
	// The catalog's figures, where no crawler gives any.
	if in.RowCount != nil && (d.Source == "" || d.RowCount == nil) {
		d.RowCount = in.RowCount
	}
	if in.SizeBytes != nil && (d.Source == "" || d.SizeBytes == nil) {
		d.SizeBytes = in.SizeBytes
	}
	d.DBT = &info
	op := quarry.OpUpsert
	if d.RemovedAt != nil && info.Created {
		// A model that came back to the project.
		d.RemovedAt, op = nil, quarry.OpRestore
		history = append([]quarry.SchemaChange{{Kind: quarry.DatasetRestored}}, history...)
		if err := addCounter(tx, keyRemovedCount, -1); err != nil {
			return 0, err
		}
	}
	var change *quarry.DataChange
	if im.LoadedAt != nil && (d.LastUpdatedAt == nil || im.LoadedAt.After(*d.LastUpdatedAt)) {
		t := im.LoadedAt.UTC()
		d.LastUpdatedAt = &t
		change = &quarry.DataChange{At: t, Signal: quarry.SignalDBT, Detail: "dbt source freshness: max_loaded_at"}
	}
	rec, err := encodeRecord(d)
	if err != nil {
		return 0, err
	}
	oldV, v := volatileOf(&old), volatileOf(d)
	if bytes.Equal(rec, raw) {
		return unchanged, putVolatile(tx, []byte(d.ID), &v, &oldV)
	}
	d.UpdatedAt = now
	if err := putDataset(tx, d); err != nil {
		return 0, err
	}
	seq, err := appendChange(tx, now, quarry.EntityDataset, d.ID, op)
	if err != nil {
		return 0, err
	}
	if err := putHistory(tx, d.ID, seq, now, history); err != nil {
		return 0, err
	}
	if change != nil {
		if err := putDataChange(tx, d.ID, seq, *change); err != nil {
			return 0, err
		}
	}
	if op == quarry.OpRestore {
		return restored, nil
	}
	return changed, nil
}

// leaveDBTProject drops the dbt layer and DBT edges of a dataset that left
// project, and marks it removed when the import created it and no
// registered source crawls it. It reports whether it marked it removed.
func leaveDBTProject(tx kvTx, id, project string, now time.Time) (bool, error) {
	d, err := getDataset(tx, id)
	if quarry.ErrorCode(err) == quarry.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if d.DBT == nil || d.DBT.Project != project {
		return false, nil // another project took it over, its edges too
	}
	if err := replaceEdges(tx, now, id, quarry.OriginDBT, nil); err != nil {
		return false, err
	}
	remove := d.DBT.Created && d.Source == "" && d.RemovedAt == nil
	op := quarry.OpUpsert
	if remove {
		t := now
		d.RemovedAt, op = &t, quarry.OpRemove
		// It keeps its dbt layer, so that it is known as the import's if
		// the model comes back.
		if err := addCounter(tx, keyRemovedCount, 1); err != nil {
			return false, err
		}
	} else {
		d.DBT = nil
	}
	d.UpdatedAt = now
	if err := putDataset(tx, d); err != nil {
		return false, err
	}
	seq, err := appendChange(tx, now, quarry.EntityDataset, id, op)
	if err != nil {
		return false, err
	}
	if remove {
		return true, putHistory(tx, id, seq, now, []quarry.SchemaChange{{Kind: quarry.DatasetRemoved}})
	}
	return false, nil
}

func putDBTCode(b kvBucket, id string, c *quarry.DBTCode) error {
	if c == nil || *c == (quarry.DBTCode{}) {
		if b.Get([]byte(id)) == nil {
			return nil
		}
		return b.Delete([]byte(id))
	}
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if bytes.Equal(b.Get([]byte(id)), v) {
		return nil
	}
	return b.Put([]byte(id), v)
}

// putDBTResults stores the test results not stored yet (a result is known
// by its check and time).
func putDBTResults(tx kvTx, id string, results []quarry.Check, now time.Time) error {
	if len(results) == 0 {
		return nil
	}
	hist := tx.Bucket(bucketCheckHistory)
	var seq uint64
	for i := range results {
		c := results[i]
		c.DatasetID = id
		if c.ObservedAt.IsZero() {
			c.ObservedAt = now
		}
		prefix := append(checkKey(&c), u64(uint64(c.ObservedAt.UnixNano()))...)
		if k, _ := hist.Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
			continue // stored by an earlier import of the same results
		}
		if seq == 0 {
			var err error
			if seq, err = appendChange(tx, now, quarry.EntityDataset, id, quarry.OpCheck); err != nil {
				return err
			}
		}
		if err := putCheck(tx, seq, i, &c); err != nil {
			return err
		}
	}
	return nil
}

// DBTCode returns the SQL of a dataset's dbt model, or nil.
func (s *Store) DBTCode(ctx context.Context, id string) (*quarry.DBTCode, error) {
	var c *quarry.DBTCode
	err := s.view(func(tx kvTx) error {
		b := tx.Bucket(bucketDBTCode)
		if b == nil {
			return nil
		}
		raw := b.Get([]byte(id))
		if raw == nil {
			return nil
		}
		c = new(quarry.DBTCode)
		return json.Unmarshal(raw, c)
	})
	return c, err
}

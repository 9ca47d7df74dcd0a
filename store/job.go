package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/quarrydata/quarry"
)

// Job returns the job with the given ID, or a quarry.ENOTFOUND error.
func (s *Store) Job(ctx context.Context, id string) (*quarry.Job, error) {
	var j *quarry.Job
	err := s.view(func(tx kvTx) (err error) {
		j, err = getJob(tx, id)
		return err
	})
	if err == nil && j == nil {
		err = quarry.Errorf(quarry.ENOTFOUND, "job %s not found", id)
	}
	return j, err
}

// JobByName returns the job named (namespace, name), normalizing both.
func (s *Store) JobByName(ctx context.Context, namespace, name string) (*quarry.Job, error) {
	j := quarry.Job{Namespace: namespace, Name: name}
	if err := j.Normalize(); err != nil {
		return nil, err
	}
	return s.Job(ctx, j.ID)
}

// JobSQL returns a job's SQL ("" when it has none), or a
// quarry.ENOTFOUND error. Jobs and JobsByID leave it out.
func (s *Store) JobSQL(ctx context.Context, id string) (string, error) {
	var j struct {
		SQL string `json:"sql"`
	}
	err := s.view(func(tx kvTx) error {
		raw := tx.Bucket(bucketJobs).Get([]byte(id))
		if raw == nil {
			return quarry.Errorf(quarry.ENOTFOUND, "job %s not found", id)
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return fmt.Errorf("decode job %s: %w", id, err)
		}
		return nil
	})
	return j.SQL, err
}

// jobWithoutSQL decodes a job's record but for its SQL, which lists of
// jobs leave out (JobSQL reads it when asked): with an SQL text of up to
// a MiB a job, a page of jobs or a lineage graph's jobs decoded and
// dropped megabytes a request for a field few queries ask for. Its SQL
// field hides the job's from encoding/json, and skipJSON copies nothing.
type jobWithoutSQL struct {
	quarry.Job
	SQL skipJSON `json:"sql"`
}

type skipJSON struct{}

func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

func decodeJobWithoutSQL(k, v []byte) (*quarry.Job, error) {
	var j jobWithoutSQL
	if err := json.Unmarshal(v, &j); err != nil {
		return nil, fmt.Errorf("decode job %s: %w", k, err)
	}
	return &j.Job, nil
}

// Jobs returns every job, ordered by namespace and name, without their
// SQL (JobSQL).
func (s *Store) Jobs(ctx context.Context) ([]quarry.Job, error) {
	var out []quarry.Job
	err := s.view(func(tx kvTx) error {
		return tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			j, err := decodeJobWithoutSQL(k, v)
			if err != nil {
				return err
			}
			out = append(out, *j)
			return ctx.Err()
		})
	})
	slices.SortFunc(out, func(a, b quarry.Job) int {
		return cmpPair(a.Namespace, a.Name, b.Namespace, b.Name)
	})
	return out, err
}

func cmpPair(a1, a2, b1, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}

// Run returns the run with the given ID, or a quarry.ENOTFOUND error.
func (s *Store) Run(ctx context.Context, id string) (*quarry.Run, error) {
	var r *storedRun
	err := s.view(func(tx kvTx) (err error) {
		r, err = getRun(tx, strings.ToLower(id))
		return err
	})
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, quarry.Errorf(quarry.ENOTFOUND, "run %s not found", id)
	}
	return &r.Run, nil
}

// RunPage is one page of a job's runs, newest first.
type RunPage struct {
	Runs    []quarry.Run
	Cursors []string // after Cursors[i] comes the run after Runs[i]
	More    bool
}

// Runs returns up to first runs of a job, newest first (by start, or first
// event for runs that never started), after the given cursor.
func (s *Store) Runs(ctx context.Context, jobID string, first int, after string) (*RunPage, error) {
	var from []byte
	if after != "" {
		k, err := hex.DecodeString(after)
		if err != nil || !bytes.HasPrefix(k, []byte(jobID)) {
			return nil, quarry.Invalid("after", "is not a cursor of this job's runs")
		}
		from = k
	}
	page := &RunPage{}
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketJobRuns).Cursor()
		prefix := []byte(jobID)
		if from == nil {
			from = pastPrefix(prefix)
		}
		for k, _ := lastBefore(c, from); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if len(page.Runs) == first {
				page.More = true
				break
			}
			r, err := getRun(tx, string(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			if r != nil {
				page.Runs = append(page.Runs, r.Run)
				page.Cursors = append(page.Cursors, hex.EncodeToString(k))
			}
		}
		return nil
	})
	return page, err
}

// RunChildren returns the runs whose parent is the given run (the tasks of
// a DAG run, the models of a dbt run), by start.
func (s *Store) RunChildren(ctx context.Context, id string) ([]quarry.Run, error) {
	var out []quarry.Run
	err := s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketRunChildren).Cursor()
		prefix := []byte(strings.ToLower(id))
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			r, err := getRun(tx, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			if r != nil {
				out = append(out, r.Run)
			}
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b quarry.Run) int {
		return (&storedRun{Run: a}).listedAt().Compare((&storedRun{Run: b}).listedAt())
	})
	return out, err
}

// JobDatasets returns the datasets a job reads and writes, as its lineage
// edges say (table level) and its latest run reported (a job that only
// writes, or only reads, has no edges), each list sorted.
func (s *Store) JobDatasets(ctx context.Context, jobID string) (inputs, outputs []string, err error) {
	err = s.view(func(tx kvTx) error {
		k, _ := lastBefore(tx.Bucket(bucketJobRuns).Cursor(), pastPrefix([]byte(jobID))) // its latest run
		if k != nil && bytes.HasPrefix(k, []byte(jobID)) {
			r, err := getRun(tx, string(k[len(jobID)+8:]))
			if err != nil {
				return err
			}
			if r != nil {
				inputs, outputs = union(inputs, r.Inputs), union(outputs, r.Outputs)
			}
		}
		c := tx.Bucket(bucketJobEdges).Cursor()
		prefix := []byte(jobID)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			ek := k[len(prefix):]
			if len(ek) < 2*idLen {
				continue
			}
			inputs = union(inputs, []string{string(ek[:idLen])})
			outputs = union(outputs, []string{string(ek[idLen : 2*idLen])})
		}
		return nil
	})
	slices.Sort(inputs)
	slices.Sort(outputs)
	return inputs, outputs, err
}

// DatasetJobs returns the IDs of the jobs that write a dataset and of those
// that read it, as lineage edges say, each sorted.
func (s *Store) DatasetJobs(ctx context.Context, id string) (writers, readers []string, err error) {
	jobOf := func(k []byte) string { // edge key: from to origin \0 job \0 ...
		parts := bytes.SplitN(k[2*idLen:], []byte{0}, 3)
		if len(parts) < 2 {
			return ""
		}
		return string(parts[1])
	}
	err = s.view(func(tx kvTx) error {
		for _, side := range []struct {
			bucket []byte
			role   byte
			into   *[]string
		}{{bucketEdgesIn, roleWrites, &writers}, {bucketEdgesOut, roleReads, &readers}} {
			c := tx.Bucket(side.bucket).Cursor()
			prefix := []byte(id)
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				if j := jobOf(k); j != "" {
					*side.into = union(*side.into, []string{j})
				}
			}
			// Jobs that reported it without an edge through it: one that
			// only writes has no input to draw an edge from.
			c = tx.Bucket(bucketDatasetJobs).Cursor()
			prefix = append([]byte(id), side.role)
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				*side.into = union(*side.into, []string{string(k[len(prefix):])})
			}
		}
		return nil
	})
	slices.Sort(writers)
	slices.Sort(readers)
	return writers, readers, err
}

// PutEdge stores an edge a person declared (origin MANUAL).
func (s *Store) PutEdge(ctx context.Context, e quarry.Edge) error {
	return s.manualEdge(ctx, e, true)
}

// DeleteEdge removes an edge a person declared; a missing one is
// quarry.ENOTFOUND.
func (s *Store) DeleteEdge(ctx context.Context, e quarry.Edge) error {
	return s.manualEdge(ctx, e, false)
}

func (s *Store) manualEdge(ctx context.Context, e quarry.Edge, put bool) error {
	e.Origin, e.JobID = quarry.OriginManual, ""
	if e.From == e.To && e.FromColumn == e.ToColumn {
		return quarry.Invalid("to", "an edge must lead to another node")
	}
	if (e.FromColumn == "") != (e.ToColumn == "") {
		return quarry.Invalid("toColumn", "a column edge names both columns")
	}
	return s.update(ctx, func(tx kvTx) error {
		for _, f := range []struct{ field, id, col string }{{"from", e.From, e.FromColumn}, {"to", e.To, e.ToColumn}} {
			d, err := getDataset(tx, f.id)
			if err != nil {
				return quarry.InField(f.field, err)
			}
			if f.col != "" && d.Column(f.col) == nil {
				return &quarry.Error{Code: quarry.ENOTFOUND, Field: f.field + "Column", Message: fmt.Sprintf("%s has no column %q", d.Name, f.col)}
			}
		}
		out, in := tx.Bucket(bucketEdgesOut), tx.Bucket(bucketEdgesIn)
		k := edgeKey(&e)
		now := s.now().UTC()
		switch have := out.Get(k) != nil; {
		case put && have:
			return nil
		case put:
			e.UpdatedAt = now
			if err := putJSON(out, k, &e); err != nil {
				return err
			}
			if err := in.Put(swapEnds(k), nil); err != nil {
				return err
			}
		case !have:
			return quarry.Errorf(quarry.ENOTFOUND, "no manual edge from %s to %s", e.From, e.To)
		default:
			if err := out.Delete(k); err != nil {
				return err
			}
			if err := in.Delete(swapEnds(k)); err != nil {
				return err
			}
		}
		_, err := appendChange(tx, now, quarry.EntityDataset, e.To, quarry.OpLineage)
		return err
	})
}

// JobsByID returns the jobs with the given IDs, in order, skipping unknown
// ones, in one read transaction, without their SQL (JobSQL).
func (s *Store) JobsByID(ctx context.Context, ids []string) ([]*quarry.Job, error) {
	out := make([]*quarry.Job, 0, len(ids))
	err := s.view(func(tx kvTx) error {
		b := tx.Bucket(bucketJobs)
		for _, id := range ids {
			raw := b.Get([]byte(id))
			if raw == nil {
				continue
			}
			j, err := decodeJobWithoutSQL([]byte(id), raw)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
		return nil
	})
	return out, err
}

// Roles in the dataset_jobs index.
const (
	roleWrites = 'w'
	roleReads  = 'r'
)

// setJobDatasets records that a job reads ins and writes outs, as the
// dataset_jobs index and its mirror job_datasets hold it. Like a job's
// edges, what a running run reports adds to it, and what the run that
// completed last reported replaces it (replace).
func setJobDatasets(tx kvTx, jobID string, ins, outs []string, replace bool) error {
	dj, jd := tx.Bucket(bucketDatasetJobs), tx.Bucket(bucketJobDatasets)
	want := make(map[string]bool, len(ins)+len(outs))
	for _, side := range []struct {
		role byte
		ids  []string
	}{{roleReads, ins}, {roleWrites, outs}} {
		for _, id := range side.ids {
			k := make([]byte, 0, len(jobID)+1+len(id))
			k = append(append(append(k, jobID...), side.role), id...)
			want[string(k)] = true
		}
	}
	prefix := []byte(jobID)
	if replace {
		var stale [][]byte
		c := jd.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if !want[string(k)] {
				stale = append(stale, bytes.Clone(k))
			}
		}
		for _, k := range stale {
			if err := jd.Delete(k); err != nil {
				return err
			}
			if err := dj.Delete(flipJobDataset(k, len(jobID))); err != nil {
				return err
			}
		}
	}
	for k := range want {
		if jd.Get([]byte(k)) != nil {
			continue
		}
		if err := jd.Put([]byte(k), nil); err != nil {
			return err
		}
		if err := dj.Put(flipJobDataset([]byte(k), len(jobID)), nil); err != nil {
			return err
		}
	}
	return nil
}

// flipJobDataset turns a job_datasets key (job, role, dataset) into its
// dataset_jobs key (dataset, role, job).
func flipJobDataset(k []byte, jobLen int) []byte {
	job, role, ds := k[:jobLen], k[jobLen], k[jobLen+1:]
	out := make([]byte, 0, len(k))
	return append(append(append(out, ds...), role), job...)
}

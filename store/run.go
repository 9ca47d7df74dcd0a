package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/quarrydata/quarry"
)

// Runs as lineage events write them: a run's record accumulates its
// events, and the job_runs and run_children indexes list it.

// storedRun is a run with what the store keeps to accumulate its events.
// The edges its events reported are in bucketRunEdges.
type storedRun struct {
	quarry.Run
	FirstSeen time.Time `json:"firstSeen"` // event time of the first event applied
}

// addRunEdges records edges a run reported.
func addRunEdges(tx kvTx, runID string, edges []quarry.Edge) error {
	b := tx.Bucket(bucketRunEdges)
	for i := range edges {
		k := append([]byte(runID), edgeKey(&edges[i])...)
		if t := edges[i].Transformation; b.Get(k) == nil || string(b.Get(k)) != t {
			if err := b.Put(k, []byte(t)); err != nil {
				return err
			}
		}
	}
	return nil
}

// runEdges returns every edge a run reported.
func runEdges(tx kvTx, runID string) ([]quarry.Edge, error) {
	var out []quarry.Edge
	c := tx.Bucket(bucketRunEdges).Cursor()
	prefix := []byte(runID)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		e, err := parseEdgeKey(k[len(prefix):])
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", runID, err)
		}
		e.Transformation = string(v)
		out = append(out, e)
	}
	return out, nil
}

// parseEdgeKey is edgeKey's inverse: from to origin \0 job \0 fromColumn \0 toColumn.
func parseEdgeKey(k []byte) (quarry.Edge, error) {
	if len(k) < 2*idLen {
		return quarry.Edge{}, fmt.Errorf("edge key %q is too short", k)
	}
	parts := strings.SplitN(string(k[2*idLen:]), "\x00", 4)
	if len(parts) != 4 {
		return quarry.Edge{}, fmt.Errorf("edge key %q has %d parts, want 4", k, len(parts))
	}
	return quarry.Edge{From: string(k[:idLen]), To: string(k[idLen : 2*idLen]), Origin: quarry.EdgeOrigin(parts[0]), JobID: parts[1], FromColumn: parts[2], ToColumn: parts[3]}, nil
}

// listedAt orders a job's runs: by start, or first event when not started.
func (r *storedRun) listedAt() time.Time {
	if r.StartedAt != nil {
		return *r.StartedAt
	}
	return r.FirstSeen
}

func jobRunKey(jobID string, at time.Time, runID string) []byte {
	k := make([]byte, 0, 2*idLen+8)
	k = append(k, jobID...)
	k = append(k, u64(uint64(at.UnixNano()))...)
	return append(k, runID...)
}

func getRun(tx kvTx, id string) (*storedRun, error) {
	raw := tx.Bucket(bucketRuns).Get([]byte(id))
	if raw == nil {
		return nil, nil
	}
	var r storedRun
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode run %s: %w", id, err)
	}
	return &r, nil
}

// errRunOfAnotherJob answers an event whose run id a run of another job has.
func errRunOfAnotherJob(runID string) error {
	return &quarry.Error{Code: quarry.ECONFLICT, Field: "run.runId", Message: fmt.Sprintf("run %s belongs to another job", runID)}
}

func applyRun(tx kvTx, p *quarry.EventPlan, at, now time.Time) (*storedRun, quarry.RunState, error) {
	rep := p.Event.Run
	r, err := getRun(tx, rep.ID)
	if err != nil {
		return nil, "", err
	}
	var oldKey []byte
	if r == nil {
		r = &storedRun{Run: quarry.Run{ID: rep.ID, JobID: p.Job.ID, CreatedAt: now}, FirstSeen: at}
	} else {
		if r.JobID != p.Job.ID {
			return nil, "", errRunOfAnotherJob(rep.ID)
		}
		oldKey = jobRunKey(r.JobID, r.listedAt(), r.ID)
	}
	before := r.State
	r.Observe(rep, at)
	r.Inputs = union(r.Inputs, p.Inputs)
	r.Outputs = union(r.Outputs, p.Outputs)
	if err := addRunEdges(tx, r.ID, p.Edges); err != nil {
		return nil, "", err
	}
	r.UpdatedAt = now
	if err := putJSON(tx.Bucket(bucketRuns), []byte(r.ID), r); err != nil {
		return nil, "", err
	}
	jr := tx.Bucket(bucketJobRuns)
	if k := jobRunKey(r.JobID, r.listedAt(), r.ID); !bytes.Equal(k, oldKey) {
		if oldKey != nil {
			if err := jr.Delete(oldKey); err != nil {
				return nil, "", err
			}
		}
		if err := jr.Put(k, nil); err != nil {
			return nil, "", err
		}
	}
	if r.ParentRunID != "" {
		kids, k := tx.Bucket(bucketRunChildren), []byte(r.ParentRunID+r.ID)
		if have, _ := kids.Cursor().Seek(k); !bytes.Equal(have, k) {
			if err := kids.Put(k, nil); err != nil {
				return nil, "", err
			}
		}
	}
	_, err = appendChange(tx, now, quarry.EntityJob, r.JobID, quarry.OpRun)
	return r, before, err
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

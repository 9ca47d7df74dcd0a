package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/quarrydata/quarry"
)

// A job's record as lineage events write it, and the lineage edges its
// runs report.

// storedJob is a job's record.
type storedJob struct {
	quarry.Job
}

// jobClaim says whose report a job's lineage edges are. It is kept beside
// the job's record, not in it: the record holds the job's SQL (up to a
// MiB), and claiming rewrote all of it at every run that completed, so a
// large sql facet was copied, encoded and written again by every run of
// its job (issue 15: RSS grew ~15 MB/s under ordinary writes).
type jobClaim struct {
	Run string    `json:"run,omitempty"` // the run whose edges the job's are; empty for static lineage
	At  time.Time `json:"at"`            // when that run ended, or the JobEvent's time
}

func getStoredJob(tx kvTx, id string) (*storedJob, error) {
	raw := tx.Bucket(bucketJobs).Get([]byte(id))
	if raw == nil {
		return nil, nil
	}
	var j storedJob
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("decode job %s: %w", id, err)
	}
	return &j, nil
}

// claimJobEdges makes run (ended at) the source of the job's edges unless
// a report of a later time is, and reports whether it did.
func claimJobEdges(tx kvTx, jobID, runID string, at time.Time) (bool, error) {
	if !has(tx.Bucket(bucketJobs), []byte(jobID)) {
		return false, nil
	}
	claims := tx.Bucket(bucketJobClaims)
	if raw := claims.Get([]byte(jobID)); raw != nil {
		var c jobClaim
		if err := json.Unmarshal(raw, &c); err != nil {
			return false, fmt.Errorf("decode the edge claim of job %s: %w", jobID, err)
		}
		if c.At.After(at) {
			return false, nil
		}
	}
	return true, putJSON(claims, []byte(jobID), jobClaim{Run: runID, At: at})
}

// upsertJob creates a job or fills in what the event's facets say of it.
func upsertJob(tx kvTx, in *quarry.Job, now time.Time) error {
	if !carriesFacets(in) && has(tx.Bucket(bucketJobs), []byte(in.ID)) {
		return nil // nothing to fill in: the record (and its SQL) need not be decoded
	}
	stored, err := getStoredJob(tx, in.ID)
	if err != nil {
		return err
	}
	sj := storedJob{Job: *in}
	j := &sj.Job
	if stored != nil {
		sj = *stored
		old := &stored.Job
		for _, f := range []struct{ dst, src *string }{
			{&j.Type, &in.Type}, {&j.Description, &in.Description}, {&j.SQL, &in.SQL}, {&j.SourceURL, &in.SourceURL},
		} {
			if *f.src != "" {
				*f.dst = *f.src
			}
		}
		if len(in.Owners) > 0 {
			j.Owners = in.Owners
		}
		facts, factsChanged := old.Facts.Merge(in.Facts)
		j.Facts = facts
		if j.Type == old.Type && j.Description == old.Description && j.SQL == old.SQL && j.SourceURL == old.SourceURL && slices.Equal(j.Owners, old.Owners) && !factsChanged {
			return nil
		}
	} else {
		j.CreatedAt = now
	}
	j.UpdatedAt = now
	if err := putJSON(tx.Bucket(bucketJobs), []byte(j.ID), &sj); err != nil {
		return err
	}
	var oldFacts *quarry.JobFacts
	if stored != nil {
		oldFacts = stored.Facts
	}
	if err := indexJobDAG(tx, j, oldFacts); err != nil {
		return err
	}
	_, err = appendChange(tx, now, quarry.EntityJob, j.ID, quarry.OpUpsert)
	return err
}

// carriesFacets reports whether an event's job says anything of the job
// beyond its name: only then is its stored record read and rewritten.
func carriesFacets(in *quarry.Job) bool {
	return in.Type != "" || in.Description != "" || in.SQL != "" || in.SourceURL != "" || len(in.Owners) > 0 || in.Facts != nil
}

func getJob(tx kvTx, id string) (*quarry.Job, error) {
	j, err := getStoredJob(tx, id)
	if j == nil {
		return nil, err
	}
	return &j.Job, nil
}

// setJobEdges makes the job's run edges the given ones (replace), or adds
// the given ones to them. Each dataset whose incoming edges change gets a
// changelog record.
func setJobEdges(tx kvTx, now time.Time, jobID string, edges []quarry.Edge, replace bool) error {
	out, in, je := tx.Bucket(bucketEdgesOut), tx.Bucket(bucketEdgesIn), tx.Bucket(bucketJobEdges)
	want := make(map[string]*quarry.Edge, len(edges))
	for i := range edges {
		want[string(edgeKey(&edges[i]))] = &edges[i]
	}
	targets := map[string]bool{}
	prefix := []byte(jobID)
	var stale [][]byte
	c := je.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		ek := string(k[len(prefix):])
		if e, keep := want[ek]; keep {
			if string(v) == e.Transformation {
				delete(want, ek) // stored as given
			}
		} else if replace {
			stale = append(stale, slices.Clone(k))
		}
	}
	for _, k := range stale {
		ek := k[len(prefix):]
		for _, del := range []func() error{
			func() error { return je.Delete(k) },
			func() error { return out.Delete(ek) },
			func() error { return in.Delete(swapEnds(ek)) },
		} {
			if err := del(); err != nil {
				return err
			}
		}
		targets[string(ek[idLen:2*idLen])] = true
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		e := *want[k]
		e.UpdatedAt = now
		if err := putJSON(out, []byte(k), &e); err != nil {
			return err
		}
		if err := in.Put(swapEnds([]byte(k)), nil); err != nil {
			return err
		}
		if err := je.Put(append(slices.Clone(prefix), k...), []byte(e.Transformation)); err != nil {
			return err
		}
		targets[e.To] = true
	}
	for _, to := range slices.Sorted(maps.Keys(targets)) {
		if _, err := appendChange(tx, now, quarry.EntityDataset, to, quarry.OpLineage); err != nil {
			return err
		}
	}
	return nil
}

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

// Applying a lineage event: the rules that need the store (what it holds
// already decides what an event changes). The rules that need nothing but
// the event (validation, normalization, the datasets and edges it names)
// are the domain's: quarry.LineageEvent.Plan.

// LineageResult says what applying one lineage event did.
type LineageResult struct {
	Duplicate bool            // the event was applied before; nothing changed
	JobID     string          // empty for a DatasetEvent
	RunID     string          // RunEvents only
	State     quarry.RunState // the run's state after the event
}

// ApplyLineage applies one lineage event (an OpenLineage event or a
// reportRun) in one transaction, shared with concurrent writers:
//
//   - its job is created or updated with the facets it carries;
//   - its run accumulates state, times, datasets and edges (quarry.Run.Observe);
//   - unknown datasets are created as uncrawled datasets; the schema facet
//     sets the columns of uncrawled datasets only; documentation and ownership
//     facets fill empty descriptions and owners; lifecycle DROP marks a
//     dataset removed, RENAME records the rename;
//   - check results and metrics are stored on their datasets;
//   - the job's lineage edges grow with what its running run reports, and
//     become exactly what the run reported once it completes (a JobEvent's
//     static lineage replaces them at once);
//   - the outputs of a COMPLETE run observe a data change.
//
// An event whose digest was applied before changes nothing (Duplicate).
// An invalid event changes nothing either.
func (s *Store) ApplyLineage(ctx context.Context, ev *quarry.LineageEvent) (LineageResult, error) {
	p, err := s.prepareEvent(ev)
	if err != nil {
		return LineageResult{}, err
	}
	// It claims its run while it applies, as an accepted event does until
	// applied: neither may take a run id the other is giving another job.
	if run := claimOf(p); run != "" {
		if err := s.awaitRecovered(ctx); err != nil {
			return LineageResult{}, err
		}
		s.lin.mu.Lock()
		ok := s.lin.claim(run, p.Job.ID)
		s.lin.mu.Unlock()
		if !ok {
			return LineageResult{}, errRunOfAnotherJob(run)
		}
		defer s.releaseClaim(run)
	}
	var res LineageResult
	var reads []kvRead
	if run := claimOf(p); run != "" && s.Replicas() {
		reads = []kvRead{{bucket: bucketQueueClaims, keys: [][]byte{[]byte(run)}}}
	}
	err = s.updateReading(ctx, reads, func(tx kvTx) (err error) {
		if s.Replicas() {
			if err := queueClaimConflict(tx, p); err != nil { // the shared queue's claims: lineage_queue.go
				return err
			}
		}
		res, err = applyEvent(tx, p, s.now().UTC())
		return err
	})
	return res, err
}

// ApplyLineageBatch applies events in one transaction and reports each
// one's result or error: an invalid event fails alone. If the shared
// transaction fails, each valid event is retried in its own.
func (s *Store) ApplyLineageBatch(ctx context.Context, evs []quarry.LineageEvent) ([]LineageResult, []error) {
	res := make([]LineageResult, len(evs))
	errs := make([]error, len(evs))
	ps := make([]*quarry.EventPlan, len(evs))
	for i := range evs {
		ps[i], errs[i] = s.prepareEvent(&evs[i])
	}
	// Claimed while they apply, as ApplyLineage does.
	if err := s.awaitRecovered(ctx); err != nil {
		for i := range errs {
			errs[i], ps[i] = err, nil
		}
		return res, errs
	}
	var claimed []string
	s.lin.mu.Lock()
	for i, p := range ps {
		if run := claimOfPlan(p); run != "" {
			if !s.lin.claim(run, p.Job.ID) {
				errs[i], ps[i] = errRunOfAnotherJob(run), nil
				continue
			}
			claimed = append(claimed, run)
		}
	}
	s.lin.mu.Unlock()
	defer func() {
		s.lin.mu.Lock()
		for _, run := range claimed {
			s.lin.release(run)
		}
		s.lin.mu.Unlock()
	}()
	err := s.bulk(ctx, func(tx kvTx) error {
		now := s.now().UTC()
		for i, p := range ps {
			if p == nil {
				continue
			}
			if s.Replicas() {
				if err := queueClaimConflict(tx, p); err != nil {
					return err // each event is tried alone next: this one fails, alone
				}
			}
			r, err := applyEvent(tx, p, now)
			if err != nil {
				return err
			}
			res[i] = r
		}
		return nil
	})
	if err == nil {
		return res, errs
	}
	for i, p := range ps {
		if p != nil {
			res[i] = LineageResult{}
			err := s.update(ctx, func(tx kvTx) (err error) {
				if s.Replicas() {
					if err := queueClaimConflict(tx, p); err != nil {
						return err
					}
				}
				res[i], err = applyEvent(tx, p, s.now().UTC())
				return err
			})
			errs[i] = err
		}
	}
	return res, errs
}

// prepareEvent validates and normalizes an event outside the write
// transaction, with the sources' namespace aliases as they are now.
func (s *Store) prepareEvent(ev *quarry.LineageEvent) (*quarry.EventPlan, error) {
	return ev.Plan(s.applyAliases)
}

// eventKey is the events bucket's key for a digest: its bytes when it is
// hex (32 bytes for quarry.EventDigest's SHA-256), else the digest itself.
func eventKey(digest string) []byte {
	var b [64]byte
	if len(digest) <= 128 {
		if n, err := hexDecode(b[:], digest); err == nil {
			return slices.Clone(b[:n])
		}
	}
	return []byte(digest)
}

func hexDecode(dst []byte, s string) (int, error) {
	if len(s)%2 != 0 || len(s)/2 > len(dst) {
		return 0, fmt.Errorf("not hex")
	}
	val := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		}
		return 0, false
	}
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := val(s[i])
		lo, ok2 := val(s[i+1])
		if !ok1 || !ok2 {
			return 0, fmt.Errorf("not hex")
		}
		dst[i/2] = hi<<4 | lo
	}
	return len(s) / 2, nil
}

func applyEvent(tx kvTx, p *quarry.EventPlan, now time.Time) (LineageResult, error) {
	ev := p.Event
	var res LineageResult
	if p.Job != nil {
		res.JobID = p.Job.ID
	}
	if ev.Run != nil {
		res.RunID = ev.Run.ID
	}
	key := eventKey(ev.Digest)
	if tx.Bucket(bucketEvents).Get(key) != nil {
		res.Duplicate = true
		if ev.Run != nil {
			if r, err := getRun(tx, ev.Run.ID); err == nil && r != nil {
				res.State = r.State
			}
		}
		return res, nil
	}
	if err := tx.Bucket(bucketEvents).Put(key, u64(uint64(now.UnixNano()))); err != nil {
		return res, err
	}
	at := p.At
	if at.IsZero() {
		at = now
	}
	if p.Job != nil {
		if err := upsertJob(tx, p.Job, now); err != nil {
			return res, err
		}
	}
	var run *storedRun
	completed := false // this event is the one that completed the run
	if ev.Kind == quarry.RunEvent {
		var before quarry.RunState
		var err error
		if run, before, err = applyRun(tx, p, at, now); err != nil {
			return res, err
		}
		res.State = run.State
		completed = before != quarry.RunComplete && run.State == quarry.RunComplete
	}
	for i := range p.Datasets {
		if err := applyDataset(tx, p, &p.Datasets[i], run, completed, at, now); err != nil {
			return res, err
		}
	}
	switch {
	case completed:
		// The job's lineage becomes what this run reported, unless a run
		// that ended later set it already (this one completed late).
		if newest, err := claimJobEdges(tx, p.Job.ID, run.ID, *run.EndedAt); err != nil || !newest {
			return res, err
		}
		edges, err := runEdges(tx, run.ID)
		if err != nil {
			return res, err
		}
		if err := setJobDatasets(tx, p.Job.ID, run.Inputs, run.Outputs, true); err != nil {
			return res, err
		}
		return res, setJobEdges(tx, now, p.Job.ID, edges, true)
	case run != nil && !run.State.Terminal():
		if err := setJobDatasets(tx, p.Job.ID, p.Inputs, p.Outputs, false); err != nil {
			return res, err
		}
		return res, setJobEdges(tx, now, p.Job.ID, p.Edges, false)
	case ev.Kind == quarry.JobEvent:
		if _, err := claimJobEdges(tx, p.Job.ID, "", at); err != nil {
			return res, err
		}
		if err := setJobDatasets(tx, p.Job.ID, p.Inputs, p.Outputs, true); err != nil {
			return res, err
		}
		return res, setJobEdges(tx, now, p.Job.ID, p.Edges, true)
	}
	return res, nil
}

// lineageActor is the actor of edits that lineage facets make to crawled
// datasets: a crawl does not overwrite them.
const lineageActor = "openlineage"

// applyDataset creates or updates one dataset an event names.
func applyDataset(tx kvTx, p *quarry.EventPlan, pd *quarry.DatasetPlan, run *storedRun, complete bool, at, now time.Time) error {
	r := pd.Report
	raw := tx.Bucket(bucketDatasets).Get([]byte(pd.Dataset.ID))
	if raw != nil && !(pd.Output && complete) && pd.PrevID == "" && (r == nil || r.Lifecycle == "" && len(r.Checks) == 0 && r.Metrics == nil) &&
		!reportChanges(tx, pd) {
		return nil // a known dataset the event says nothing new of
	}
	var d *quarry.Dataset
	op := ""
	var history []quarry.SchemaChange
	if raw == nil {
		nd := pd.Dataset
		nd.CreatedAt, nd.UpdatedAt = now, now
		d, op = &nd, quarry.OpUpsert
		if err := addCounter(tx, keyDatasetCount, 1); err != nil {
			return err
		}
	} else {
		var err error
		if d, err = decodeDataset(tx, pd.Dataset.ID, raw); err != nil {
			return err
		}
		old := *d
		if r != nil {
			if d.Source == "" && len(pd.Dataset.Columns) > 0 {
				d.Columns = pd.Dataset.Columns
			}
			if d.Source == "" && d.Provided.Description == "" && pd.Dataset.Provided.Description != "" {
				d.Provided.Description = pd.Dataset.Provided.Description
			}
			if d.Source == "" && len(d.Provided.Owners) == 0 && len(pd.Dataset.Provided.Owners) > 0 {
				d.Provided.Owners = pd.Dataset.Provided.Owners
			}
		}
		history = quarry.DiffSchema(&old, d)
		if len(history) > 0 || !slices.Equal(old.Provided.Owners, d.Provided.Owners) {
			op = quarry.OpUpsert
		}
	}
	lifecycle := ""
	if r != nil {
		lifecycle = r.Lifecycle
	}
	switch {
	case lifecycle == "DROP":
		if d.RemovedAt == nil {
			t := at
			d.RemovedAt, op = &t, quarry.OpRemove
			history = append(history, quarry.SchemaChange{Kind: quarry.DatasetRemoved})
			if err := addCounter(tx, keyRemovedCount, 1); err != nil {
				return err
			}
		}
	case d.RemovedAt != nil && pd.Output && (lifecycle == "CREATE" || lifecycle == "OVERWRITE" || lifecycle == "RENAME" || complete):
		d.RemovedAt, op = nil, quarry.OpRestore
		history = append([]quarry.SchemaChange{{Kind: quarry.DatasetRestored}}, history...)
		if err := addCounter(tx, keyRemovedCount, -1); err != nil {
			return err
		}
	}
	if pd.PrevID != "" && pd.PrevID != d.ID {
		history = append(history, quarry.SchemaChange{Kind: quarry.DatasetRenamed, Old: pd.PrevName, New: d.Namespace + "/" + d.Name})
		if op == "" {
			op = quarry.OpUpsert
		}
	}
	var changes []quarry.DataChange
	if pd.Output && complete {
		detail := "run " + run.ID
		if p.Job != nil {
			detail = fmt.Sprintf("job %s %s, run %s", p.Job.Namespace, p.Job.Name, run.ID)
		}
		changes = append(changes, quarry.DataChange{At: at, Signal: quarry.SignalRun, Detail: detail})
	}
	if r != nil && r.Metrics != nil {
		m := *r.Metrics
		if m.ObservedAt.IsZero() {
			m.ObservedAt = at
		}
		if m.RunID == "" && run != nil {
			m.RunID = run.ID
		}
		if err := putJSON(tx.Bucket(bucketMetrics), []byte(d.ID), &m); err != nil {
			return err
		}
		if m.LastUpdated != nil {
			changes = append(changes, quarry.DataChange{At: m.LastUpdated.UTC(), Signal: quarry.SignalMetric, Detail: "dataQualityMetrics.lastUpdated"})
		}
	}
	for _, c := range changes {
		if d.LastUpdatedAt == nil || c.At.After(*d.LastUpdatedAt) {
			t := c.At
			d.LastUpdatedAt = &t
			if op == "" {
				op = quarry.OpData
			}
		}
	}
	checks := reportChecks(r)
	if op == "" && len(changes) == 0 && len(checks) == 0 {
		return fillFromFacets(tx, d, pd, now)
	}
	if op == "" {
		op = quarry.OpCheck
		if len(changes) > 0 {
			op = quarry.OpData
		}
	} else {
		d.UpdatedAt = now
		if err := putDataset(tx, d); err != nil {
			return err
		}
	}
	seq, err := appendChange(tx, now, quarry.EntityDataset, d.ID, op)
	if err != nil {
		return err
	}
	if err := putHistory(tx, d.ID, seq, now, history); err != nil {
		return err
	}
	for _, c := range changes {
		if err := putDataChange(tx, d.ID, seq, c); err != nil {
			return err
		}
	}
	for n, c := range checks {
		c.DatasetID = d.ID
		if c.ObservedAt.IsZero() {
			c.ObservedAt = at
		}
		if c.RunID == "" && run != nil {
			c.RunID = run.ID
		}
		if err := putCheck(tx, seq, n, &c); err != nil {
			return err
		}
	}
	return fillFromFacets(tx, d, pd, now)
}

// reportChanges reports whether the schema, documentation and ownership
// facets of a dataset's report could change it, deciding from its name
// index entry where it can: a dataset no crawler reads whose provided facts
// already are what the facets say (the digest matches) is left as it is,
// as is a crawled one when the report carries columns only (a crawl owns
// them).
func reportChanges(tx kvTx, pd *quarry.DatasetPlan) bool {
	r := pd.Report
	if r == nil || len(r.Columns) == 0 && r.Description == "" && len(r.Owners) == 0 {
		return false
	}
	d := &pd.Dataset
	e := decodeNameEntry(tx.Bucket(bucketDatasetNames).Get(nameKey(d.Namespace, d.Name)))
	switch {
	case e.source == "":
		return !bytes.Equal(e.digest, pd.Digest[:])
	case r.Description == "" && len(r.Owners) == 0:
		return false
	}
	return true
}

// fillFromFacets fills the empty description and owners of a crawled
// dataset from the documentation and ownership facets, as edits: the
// next crawl would overwrite provided metadata.
func fillFromFacets(tx kvTx, d *quarry.Dataset, pd *quarry.DatasetPlan, now time.Time) error {
	if pd.Report == nil || d.Source == "" {
		return nil
	}
	var u quarry.DatasetUpdate
	if desc := pd.Dataset.Provided.Description; desc != "" && d.Description() == "" {
		u.Description = &desc
	}
	if owners := pd.Dataset.Provided.Owners; len(owners) > 0 && len(d.Owners()) == 0 {
		u.Owners = &owners
	}
	if u.Description == nil && u.Owners == nil {
		return nil
	}
	return editDataset(tx, d, u, lineageActor, now)
}

func reportChecks(r *quarry.DatasetReport) []quarry.Check {
	if r == nil {
		return nil
	}
	return r.Checks
}

func putJSON(b kvBucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

func checkKey(c *quarry.Check) []byte {
	k := make([]byte, 0, idLen+len(c.Column)+len(c.Name)+2)
	k = append(k, c.DatasetID...)
	k = append(k, c.Column...)
	k = append(k, 0)
	k = append(k, c.Name...)
	return append(k, 0)
}

// putCheck records a check result in its history and, unless a newer
// result is stored, as the check's latest. n orders the results of one
// change (an assertion may repeat with other parameters).
func putCheck(tx kvTx, seq uint64, n int, c *quarry.Check) error {
	k := checkKey(c)
	hk := append(append(append(slices.Clone(k), u64(uint64(c.ObservedAt.UnixNano()))...), u64(seq)...), byte(n>>8), byte(n))
	if err := putJSON(tx.Bucket(bucketCheckHistory), hk, c); err != nil {
		return err
	}
	latest := tx.Bucket(bucketChecks)
	if raw := latest.Get(k); raw != nil {
		var have quarry.Check
		if err := json.Unmarshal(raw, &have); err == nil && have.ObservedAt.After(c.ObservedAt) {
			return nil
		}
	}
	return putJSON(latest, k, c)
}

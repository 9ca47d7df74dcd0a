package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry"
)

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
	var res LineageResult
	err = s.update(ctx, func(tx *bolt.Tx) (err error) {
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
	ps := make([]*preparedEvent, len(evs))
	for i := range evs {
		ps[i], errs[i] = s.prepareEvent(&evs[i])
	}
	err := s.bulk(ctx, func(tx *bolt.Tx) error {
		now := s.now().UTC()
		for i, p := range ps {
			if p == nil {
				continue
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
			err := s.update(ctx, func(tx *bolt.Tx) (err error) {
				res[i], err = applyEvent(tx, p, s.now().UTC())
				return err
			})
			errs[i] = err
		}
	}
	return res, errs
}

// preparedEvent is an event validated and normalized outside the write
// transaction.
type preparedEvent struct {
	ev       *quarry.LineageEvent
	at       time.Time // event time, or zero: the commit time
	job      *quarry.Job
	parent   *quarry.Job
	datasets []preparedDataset
	ins      []string      // input dataset IDs
	outs     []string      // output dataset IDs
	edges    []quarry.Edge // table-level inputs x outputs, then column-level
}

type preparedDataset struct {
	report   *quarry.DatasetReport // nil for a dataset named only by column lineage
	new      prepared              // as it is created if unknown
	output   bool
	prevID   string // RENAME: the previous identity's ID
	prevName string // and its namespace/name
}

func (s *Store) prepareEvent(ev *quarry.LineageEvent) (*preparedEvent, error) {
	p := &preparedEvent{ev: ev, at: ev.EventTime.UTC()}
	if ev.Digest == "" {
		return nil, quarry.Invalid("digest", "is required")
	}
	if !ev.EventTime.IsZero() {
		if err := quarry.CheckTime("eventTime", ev.EventTime); err != nil {
			return nil, err
		}
	}
	switch ev.Kind {
	case quarry.RunEvent:
		if ev.Run == nil {
			return nil, quarry.Invalid("run", "is required for a run event")
		}
		id, err := quarry.ParseID("run.runId", ev.Run.ID)
		if err != nil {
			return nil, err
		}
		ev.Run.ID = id
		if !ev.Run.State.Valid() {
			return nil, quarry.Invalid("eventType", "%q is not a run state", ev.Run.State)
		}
		if ev.Run.ParentRunID != "" {
			if ev.Run.ParentRunID, err = quarry.ParseID("run.facets.parent.run.runId", ev.Run.ParentRunID); err != nil {
				return nil, err
			}
		}
		if ev.Run.ParentJob != nil {
			j := *ev.Run.ParentJob
			if err := j.Normalize(); err != nil {
				return nil, quarry.InField("run.facets.parent.job", err)
			}
			p.parent = &j
		}
		fallthrough
	case quarry.JobEvent:
		if ev.Job == nil {
			return nil, quarry.Invalid("job", "is required")
		}
		j := *ev.Job
		if err := j.Normalize(); err != nil {
			return nil, quarry.InField("job", err)
		}
		p.job = &j
	case quarry.DatasetEvent:
		if len(ev.Inputs)+len(ev.Outputs) != 1 {
			return nil, quarry.Invalid("dataset", "a dataset event names one dataset")
		}
	default:
		return nil, quarry.Invalid("kind", "%q is not an event kind", ev.Kind)
	}

	byID := map[string]int{} // dataset ID -> index in p.datasets
	// Field paths are built only for an error's message: a column
	// lineage facet names hundreds of input fields.
	add := func(field func() string, r *quarry.DatasetReport, ns, name string, output bool) (string, error) {
		d := quarry.Dataset{Namespace: ns, Name: name, Kind: kindOfNamespace(ns)}
		if r != nil {
			d.Columns = slices.Clone(r.Columns)
			d.Provided.Description = r.Description
			d.Provided.Owners = slices.Clone(r.Owners)
		}
		var pd preparedDataset
		if err := d.Normalize(); err != nil {
			return "", quarry.InField(field(), err)
		}
		s.applyAliases(&d)
		pd.new.d = d
		if r != nil && (len(r.Columns) > 0 || r.Description != "" || len(r.Owners) > 0) {
			pd.new.digest = d.ProvidedDigest()
		}
		id := pd.new.d.ID
		if i, ok := byID[id]; ok { // named twice: one entry; an output's facets win, an output stays one
			if r != nil && (p.datasets[i].report == nil || output) {
				p.datasets[i].report, p.datasets[i].new = r, pd.new
			}
			p.datasets[i].output = p.datasets[i].output || output
			return id, nil
		}
		pd.report, pd.output = r, output
		if r != nil && r.Lifecycle == "RENAME" && r.PreviousName != "" {
			prev := quarry.Dataset{Namespace: r.PreviousNamespace, Name: r.PreviousName}
			if prev.Namespace == "" {
				prev.Namespace = ns
			}
			if err := prev.Normalize(); err != nil {
				return "", quarry.InField(field()+".facets.lifecycleStateChange.previousIdentifier", err)
			}
			s.applyAliases(&prev)
			pd.prevID, pd.prevName = prev.ID, prev.Namespace+"/"+prev.Name
		}
		for i := range reportChecks(r) {
			c := &r.Checks[i]
			f := fmt.Sprintf("%s.facets.dataQualityAssertions.assertions[%d]", field(), i)
			var err error
			if c.Name, err = quarry.NormalizeName(c.Name); err != nil {
				return "", quarry.InField(f+".assertion", err)
			}
			if c.Column != "" {
				if c.Column, err = quarry.NormalizeName(c.Column); err != nil {
					return "", quarry.InField(f+".column", err)
				}
			}
			if !c.Status.Valid() {
				return "", quarry.Invalid(f+".success", "%q is not a check status", c.Status)
			}
		}
		byID[id] = len(p.datasets)
		p.datasets = append(p.datasets, pd)
		return id, nil
	}
	var ins, outs []string
	for i := range ev.Inputs {
		r := &ev.Inputs[i]
		id, err := add(func() string { return fmt.Sprintf("inputs[%d]", i) }, r, r.Namespace, r.Name, false)
		if err != nil {
			return nil, err
		}
		ins = append(ins, id)
	}
	for i := range ev.Outputs {
		r := &ev.Outputs[i]
		id, err := add(func() string { return fmt.Sprintf("outputs[%d]", i) }, r, r.Namespace, r.Name, ev.Kind != quarry.DatasetEvent)
		if err != nil {
			return nil, err
		}
		outs = append(outs, id)
	}
	p.ins, p.outs = ins, outs
	if p.job == nil {
		return p, nil
	}
	origin := quarry.OriginRun
	for _, in := range ins {
		for _, out := range outs {
			if in != out {
				p.edges = append(p.edges, quarry.Edge{From: in, To: out, JobID: p.job.ID, Origin: origin})
			}
		}
	}
	named := map[[2]string]string{} // (namespace, name) as a column lineage input names it -> dataset ID
	for i, out := range outs {
		r := &ev.Outputs[i]
		for _, cl := range r.ColumnLineage {
			for k, in := range cl.Inputs {
				field := func() string {
					if cl.Column == "" {
						return fmt.Sprintf("outputs[%d].facets.columnLineage.dataset[%d]", i, k)
					}
					return fmt.Sprintf("outputs[%d].facets.columnLineage.fields.%s.inputFields[%d]", i, cl.Column, k)
				}
				if cl.Column != "" {
					if _, err := quarry.NormalizeName(cl.Column); err != nil {
						return nil, quarry.InField(fmt.Sprintf("outputs[%d].facets.columnLineage.fields", i), err)
					}
				}
				if _, err := quarry.NormalizeName(in.Field); err != nil {
					return nil, quarry.InField(field()+".field", err)
				}
				from, ok := named[[2]string{in.Namespace, in.Name}]
				if !ok {
					var err error
					if from, err = add(field, nil, in.Namespace, in.Name, false); err != nil {
						return nil, err
					}
					named[[2]string{in.Namespace, in.Name}] = from
				}
				p.edges = append(p.edges, quarry.Edge{From: from, To: out, JobID: p.job.ID, FromColumn: in.Field, ToColumn: cl.Column, Transformation: in.Transformation, Origin: origin})
			}
		}
	}
	p.edges = mergeTransformations(p.edges)
	return p, nil
}

// mergeTransformations makes one edge of the edges between the same
// columns, listing each way the input is used ("DIRECT/IDENTITY,
// INDIRECT/JOIN"), direct uses first, as Spark reports several per pair.
func mergeTransformations(edges []quarry.Edge) []quarry.Edge {
	at := make(map[string]int, len(edges))
	out := edges[:0]
	for _, e := range edges {
		k := string(edgeKey(&e))
		i, dup := at[k]
		if !dup {
			at[k] = len(out)
			out = append(out, e)
			continue
		}
		ts := strings.Split(out[i].Transformation, ", ")
		if e.Transformation != "" && !slices.Contains(ts, e.Transformation) {
			ts = append(ts, e.Transformation)
			slices.SortStableFunc(ts, func(a, b string) int {
				return strings.Compare(strings.SplitN(a, "/", 2)[0], strings.SplitN(b, "/", 2)[0])
			})
			out[i].Transformation = strings.TrimPrefix(strings.Join(ts, ", "), ", ")
		}
	}
	return out
}

func reportChecks(r *quarry.DatasetReport) []quarry.Check {
	if r == nil {
		return nil
	}
	return r.Checks
}

// kindOfNamespace guesses the kind of a dataset first seen in lineage from
// its namespace's scheme: topics are streams, object stores hold files.
func kindOfNamespace(ns string) quarry.DatasetKind {
	scheme, _, ok := strings.Cut(strings.ToLower(ns), "://")
	if !ok {
		return quarry.KindTable
	}
	switch scheme {
	case "kafka", "pulsar", "kinesis", "pubsub":
		return quarry.KindStream
	case "s3", "s3a", "gs", "gcs", "abfs", "abfss", "wasbs", "hdfs", "file", "dbfs":
		return quarry.KindFile
	}
	return quarry.KindTable
}

// storedRun is a run with what the store keeps to accumulate its events.
// The edges its events reported are in bucketRunEdges.
type storedRun struct {
	quarry.Run
	FirstSeen time.Time `json:"firstSeen"` // event time of the first event applied
}

// addRunEdges records edges a run reported.
func addRunEdges(tx *bolt.Tx, runID string, edges []quarry.Edge) error {
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
func runEdges(tx *bolt.Tx, runID string) ([]quarry.Edge, error) {
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

func getRun(tx *bolt.Tx, id string) (*storedRun, error) {
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

func getJob(tx *bolt.Tx, id string) (*quarry.Job, error) {
	j, err := getStoredJob(tx, id)
	if j == nil {
		return nil, err
	}
	return &j.Job, nil
}

// errRunOfAnotherJob answers an event whose run id a run of another job has.
func errRunOfAnotherJob(runID string) error {
	return &quarry.Error{Code: quarry.ECONFLICT, Field: "run.runId", Message: fmt.Sprintf("run %s belongs to another job", runID)}
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

// eventKey is the events bucket's key for a digest: its bytes when it is
// hex (32 bytes for a SHA-256), else the digest itself.
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

func applyEvent(tx *bolt.Tx, p *preparedEvent, now time.Time) (LineageResult, error) {
	ev := p.ev
	var res LineageResult
	if p.job != nil {
		res.JobID = p.job.ID
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
	at := p.at
	if at.IsZero() {
		at = now
	}
	if p.job != nil {
		if err := upsertJob(tx, p.job, now); err != nil {
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
	for i := range p.datasets {
		if err := applyDataset(tx, p, &p.datasets[i], run, completed, at, now); err != nil {
			return res, err
		}
	}
	switch {
	case completed:
		// The job's lineage becomes what this run reported, unless a run
		// that ended later set it already (this one completed late).
		if newest, err := claimJobEdges(tx, p.job.ID, run.ID, *run.EndedAt); err != nil || !newest {
			return res, err
		}
		edges, err := runEdges(tx, run.ID)
		if err != nil {
			return res, err
		}
		if err := setJobDatasets(tx, p.job.ID, run.Inputs, run.Outputs, true); err != nil {
			return res, err
		}
		return res, setJobEdges(tx, now, p.job.ID, edges, true)
	case run != nil && !run.State.Terminal():
		if err := setJobDatasets(tx, p.job.ID, p.ins, p.outs, false); err != nil {
			return res, err
		}
		return res, setJobEdges(tx, now, p.job.ID, p.edges, false)
	case ev.Kind == quarry.JobEvent:
		if _, err := claimJobEdges(tx, p.job.ID, "", at); err != nil {
			return res, err
		}
		if err := setJobDatasets(tx, p.job.ID, p.ins, p.outs, true); err != nil {
			return res, err
		}
		return res, setJobEdges(tx, now, p.job.ID, p.edges, true)
	}
	return res, nil
}

// storedJob is a job with whose report its lineage edges are.
type storedJob struct {
	quarry.Job
	EdgesRun string    `json:"edgesRun,omitempty"` // the run whose edges the job's are; empty for static lineage
	EdgesAt  time.Time `json:"edgesAt,omitzero"`   // when that run ended, or the JobEvent's time
}

func getStoredJob(tx *bolt.Tx, id string) (*storedJob, error) {
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
func claimJobEdges(tx *bolt.Tx, jobID, runID string, at time.Time) (bool, error) {
	j, err := getStoredJob(tx, jobID)
	if err != nil || j == nil {
		return j != nil, err
	}
	if j.EdgesAt.After(at) {
		return false, nil
	}
	j.EdgesRun, j.EdgesAt = runID, at
	return true, putJSON(tx.Bucket(bucketJobs), []byte(jobID), j)
}

// upsertJob creates a job or fills in what the event's facets say of it.
func upsertJob(tx *bolt.Tx, in *quarry.Job, now time.Time) error {
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
		if j.Type == old.Type && j.Description == old.Description && j.SQL == old.SQL && j.SourceURL == old.SourceURL && slices.Equal(j.Owners, old.Owners) {
			return nil
		}
	} else {
		j.CreatedAt = now
	}
	j.UpdatedAt = now
	if err := putJSON(tx.Bucket(bucketJobs), []byte(j.ID), &sj); err != nil {
		return err
	}
	_, err = appendChange(tx, now, quarry.EntityJob, j.ID, quarry.OpUpsert)
	return err
}

func applyRun(tx *bolt.Tx, p *preparedEvent, at, now time.Time) (*storedRun, quarry.RunState, error) {
	rep := p.ev.Run
	r, err := getRun(tx, rep.ID)
	if err != nil {
		return nil, "", err
	}
	var oldKey []byte
	if r == nil {
		r = &storedRun{Run: quarry.Run{ID: rep.ID, JobID: p.job.ID, CreatedAt: now}, FirstSeen: at}
	} else {
		if r.JobID != p.job.ID {
			return nil, "", errRunOfAnotherJob(rep.ID)
		}
		oldKey = jobRunKey(r.JobID, r.listedAt(), r.ID)
	}
	before := r.State
	r.Observe(rep, at)
	r.Inputs = union(r.Inputs, p.ins)
	r.Outputs = union(r.Outputs, p.outs)
	if err := addRunEdges(tx, r.ID, p.edges); err != nil {
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

// lineageActor is the actor of edits that lineage facets make to crawled
// datasets: a crawl does not overwrite them.
const lineageActor = "openlineage"

// applyDataset creates or updates one dataset an event names.
func applyDataset(tx *bolt.Tx, p *preparedEvent, pd *preparedDataset, run *storedRun, complete bool, at, now time.Time) error {
	r := pd.report
	raw := tx.Bucket(bucketDatasets).Get([]byte(pd.new.d.ID))
	if raw != nil && !(pd.output && complete) && pd.prevID == "" && (r == nil || r.Lifecycle == "" && len(r.Checks) == 0 && r.Metrics == nil) &&
		!reportChanges(tx, pd) {
		return nil // a known dataset the event says nothing new of
	}
	var d *quarry.Dataset
	op := ""
	var history []quarry.SchemaChange
	if raw == nil {
		nd := pd.new.d
		nd.CreatedAt, nd.UpdatedAt = now, now
		d, op = &nd, quarry.OpUpsert
		if err := addCounter(tx, keyDatasetCount, 1); err != nil {
			return err
		}
	} else {
		var err error
		if d, err = decodeDataset(tx, pd.new.d.ID, raw); err != nil {
			return err
		}
		old := *d
		if r != nil {
			if d.Source == "" && len(pd.new.d.Columns) > 0 {
				d.Columns = pd.new.d.Columns
			}
			if d.Source == "" && d.Provided.Description == "" && pd.new.d.Provided.Description != "" {
				d.Provided.Description = pd.new.d.Provided.Description
			}
			if d.Source == "" && len(d.Provided.Owners) == 0 && len(pd.new.d.Provided.Owners) > 0 {
				d.Provided.Owners = pd.new.d.Provided.Owners
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
	case d.RemovedAt != nil && pd.output && (lifecycle == "CREATE" || lifecycle == "OVERWRITE" || lifecycle == "RENAME" || complete):
		d.RemovedAt, op = nil, quarry.OpRestore
		history = append([]quarry.SchemaChange{{Kind: quarry.DatasetRestored}}, history...)
		if err := addCounter(tx, keyRemovedCount, -1); err != nil {
			return err
		}
	}
	if pd.prevID != "" && pd.prevID != d.ID {
		history = append(history, quarry.SchemaChange{Kind: quarry.DatasetRenamed, Old: pd.prevName, New: d.Namespace + "/" + d.Name})
		if op == "" {
			op = quarry.OpUpsert
		}
	}
	var changes []quarry.DataChange
	if pd.output && complete {
		detail := "run " + run.ID
		if p.job != nil {
			detail = fmt.Sprintf("job %s %s, run %s", p.job.Namespace, p.job.Name, run.ID)
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
func reportChanges(tx *bolt.Tx, pd *preparedDataset) bool {
	r := pd.report
	if r == nil || len(r.Columns) == 0 && r.Description == "" && len(r.Owners) == 0 {
		return false
	}
	d := &pd.new.d
	e := decodeNameEntry(tx.Bucket(bucketDatasetNames).Get(nameKey(d.Namespace, d.Name)))
	switch {
	case e.source == "":
		return !bytes.Equal(e.digest, pd.new.digest[:])
	case r.Description == "" && len(r.Owners) == 0:
		return false
	}
	return true
}

// fillFromFacets fills the empty description and owners of a crawled
// dataset from the documentation and ownership facets, as edits: the
// next crawl would overwrite provided metadata.
func fillFromFacets(tx *bolt.Tx, d *quarry.Dataset, pd *preparedDataset, now time.Time) error {
	if pd.report == nil || d.Source == "" {
		return nil
	}
	var u quarry.DatasetUpdate
	if desc := pd.new.d.Provided.Description; desc != "" && d.Description() == "" {
		u.Description = &desc
	}
	if owners := pd.new.d.Provided.Owners; len(owners) > 0 && len(d.Owners()) == 0 {
		u.Owners = &owners
	}
	if u.Description == nil && u.Owners == nil {
		return nil
	}
	return editDataset(tx, d, u, lineageActor, now)
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
func putCheck(tx *bolt.Tx, seq uint64, n int, c *quarry.Check) error {
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

// setJobEdges makes the job's run edges the given ones (replace), or adds
// the given ones to them. Each dataset whose incoming edges change gets a
// changelog record.
func setJobEdges(tx *bolt.Tx, now time.Time, jobID string, edges []quarry.Edge, replace bool) error {
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

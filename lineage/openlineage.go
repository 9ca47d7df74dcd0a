package lineage

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry"
)

// ParseEvent parses one OpenLineage event (spec 2-0-2): a RunEvent, a
// JobEvent or a DatasetEvent, told apart by what they carry (a run; a job
// without a run; a dataset without either). A DatasetEvent's dataset is the
// event's one output.
//
// Errors are *quarry.Error with code EINVALID and Field set to the JSON path
// of the problem ("run.runId", "inputs[2].name",
// "outputs[0].facets.schema.fields[3].name"); input that is not JSON is an
// error about "body" that gives the byte offset.
//
// It keeps namespaces and names as sent (the store normalizes them), treats
// an explicit null as absent, and ignores fields and facets it does not map.
// Times are returned in UTC. A JobEvent or DatasetEvent may lack eventTime:
// its EventTime, and the ObservedAt of its checks and metrics, are then
// zero, which means "when it was received".
func ParseEvent(raw []byte) (quarry.LineageEvent, error) {
	d := getDoc()
	defer putDoc(d)
	root, err := d.parse(raw)
	if err != nil {
		return quarry.LineageEvent{}, err
	}
	return d.event(root)
}

// ParseBatch parses a JSON array of events, as the batch endpoint receives
// them. It returns one result per element, in order: events[i] is valid
// when errs[i] is nil, and errs[i] paths are relative to the element. err is
// set, and the slices nil, when the body is not a JSON array.
func ParseBatch(raw []byte) (events []quarry.LineageEvent, errs []error, err error) {
	d := getDoc()
	defer putDoc(d)
	root, err := d.parse(raw)
	if err != nil {
		return nil, nil, err
	}
	if k := d.nodes[root].kind; k != jArray {
		return nil, nil, quarry.Invalid("body", "must be a JSON array of events, got %s", k)
	}
	n := d.nodes[root].n
	events = make([]quarry.LineageEvent, n)
	errs = make([]error, n)
	i := 0
	for c := d.nodes[root].first; c >= 0; c = d.nodes[c].next {
		events[i], errs[i] = d.event(c)
		i++
	}
	return events, errs, nil
}

// event maps one event object; a failed one maps to nothing.
func (d *doc) event(n int32) (quarry.LineageEvent, error) {
	ev, err := d.mapEvent(n)
	if err != nil {
		return quarry.LineageEvent{}, err
	}
	ev.Digest = d.digest(n)
	return ev, nil
}

func (d *doc) mapEvent(n int32) (quarry.LineageEvent, error) {
	var ev quarry.LineageEvent
	if k := d.nodes[n].kind; k != jObject {
		return ev, quarry.Invalid("", "an event must be a JSON object, got %s", k)
	}
	run, err := d.optObject(n, "run")
	if err != nil {
		return ev, err
	}
	job, err := d.optObject(n, "job")
	if err != nil {
		return ev, err
	}
	var ds int32 = -1
	switch {
	case run >= 0:
		ev.Kind = quarry.RunEvent
		if job < 0 {
			return ev, quarry.Invalid("job", "is required: a RunEvent names its job")
		}
	case job >= 0:
		ev.Kind = quarry.JobEvent
	default:
		if ds, err = d.optObject(n, "dataset"); err != nil {
			return ev, err
		}
		if ds < 0 {
			return ev, quarry.Invalid("", "an event must have a run and a job (RunEvent), a job (JobEvent) or a dataset (DatasetEvent)")
		}
		ev.Kind = quarry.DatasetEvent
	}

	if ev.Producer, _, err = d.optString(n, "producer"); err != nil {
		return ev, err
	}
	if t, ok, err := d.optTime(n, "eventTime"); err != nil {
		return ev, err
	} else if ok {
		// Checked here, not only when planned: year 1 is the zero time,
		// which Plan reads as "no time" (now).
		if err := quarry.CheckTime("eventTime", *t); err != nil {
			return ev, err
		}
		ev.EventTime = *t
	} else if ev.Kind == quarry.RunEvent {
		return ev, quarry.Invalid("eventTime", "is required")
	}
	state, err := d.eventType(n)
	if err != nil {
		return ev, err
	}

	ctx := dsContext{at: ev.EventTime}
	if run >= 0 {
		if ev.Run, err = d.run(run); err != nil {
			return ev, quarry.InField("run", err)
		}
		ev.Run.State = state
		ctx.runID = ev.Run.ID
	}
	if job >= 0 {
		if ev.Job, err = d.job(job); err != nil {
			return ev, quarry.InField("job", err)
		}
		ev.Job.Facts = d.jobFacts(run, job, ev.Run)
	}
	if ds >= 0 {
		r, err := d.dataset(ds, "", ctx)
		if err != nil {
			return ev, quarry.InField("dataset", err)
		}
		ev.Outputs = []quarry.DatasetReport{r}
	} else {
		if ev.Inputs, err = d.datasets(n, "inputs", "inputFacets", ctx); err != nil {
			return ev, err
		}
		if ev.Outputs, err = d.datasets(n, "outputs", "outputFacets", ctx); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// eventType reads the run state, case-insensitively; absent is OTHER.
func (d *doc) eventType(n int32) (quarry.RunState, error) {
	s, ok, err := d.optString(n, "eventType")
	if err != nil || !ok {
		return quarry.RunOther, err
	}
	for _, st := range quarry.RunStates {
		if strings.EqualFold(s, string(st)) {
			return st, nil
		}
	}
	return "", quarry.Invalid("eventType", "%q is not an event type; want one of START, RUNNING, COMPLETE, FAIL, ABORT, OTHER", quarry.Truncate(s, 64))
}

// optTime reads an optional timestamp.
func (d *doc) optTime(obj int32, key string) (*time.Time, bool, error) {
	s, ok, err := d.optString(obj, key)
	if err != nil || !ok {
		return nil, false, err
	}
	t, ok := parseTime(s)
	if !ok {
		return nil, false, quarry.Invalid(key, "is not a time: %q (want RFC 3339, e.g. 2024-01-02T03:04:05Z)", quarry.Truncate(s, 64))
	}
	return &t, true, nil
}

// runID reads a required run UUID: any version, returned lower-case.
func (d *doc) runID(obj int32, key string) (string, error) {
	s, err := d.reqString(obj, key)
	if err != nil {
		return "", err
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", quarry.Invalid(key, "is not a UUID: %q", quarry.Truncate(s, 64))
	}
	return u.String(), nil
}

// run maps the run object and its facets; State is set by the caller.
func (d *doc) run(n int32) (*quarry.RunReport, error) {
	id, err := d.runID(n, "runId")
	if err != nil {
		return nil, err
	}
	r := &quarry.RunReport{ID: id}
	facets, err := d.optObject(n, "facets")
	if err != nil || facets < 0 {
		return r, err
	}
	if err := d.runFacets(facets, r); err != nil {
		return nil, quarry.InField("facets", err)
	}
	return r, nil
}

func (d *doc) runFacets(facets int32, r *quarry.RunReport) error {
	if f, err := d.facet(facets, "parent"); err != nil {
		return err
	} else if f >= 0 {
		if err := d.parent(f, r); err != nil {
			return quarry.InField("parent", err)
		}
	}
	if f, err := d.facet(facets, "errorMessage"); err != nil {
		return err
	} else if f >= 0 {
		var err error
		if r.ErrorMessage, _, err = d.optString(f, "message"); err != nil {
			return quarry.InField("errorMessage", err)
		}
		if r.StackTrace, _, err = d.optString(f, "stackTrace"); err != nil {
			return quarry.InField("errorMessage", err)
		}
	}
	if f, err := d.facet(facets, "nominalTime"); err != nil {
		return err
	} else if f >= 0 {
		var err error
		if r.NominalStart, _, err = d.optTime(f, "nominalStartTime"); err != nil {
			return quarry.InField("nominalTime", err)
		}
		if r.NominalEnd, _, err = d.optTime(f, "nominalEndTime"); err != nil {
			return quarry.InField("nominalTime", err)
		}
	}
	return nil
}

// parent maps the parent run facet: the run is required, the job optional.
func (d *doc) parent(f int32, r *quarry.RunReport) error {
	run, err := d.optObject(f, "run")
	if err != nil {
		return err
	}
	if run < 0 {
		return quarry.Invalid("run", "is required")
	}
	if r.ParentRunID, err = d.runID(run, "runId"); err != nil {
		return quarry.InField("run", err)
	}
	job, err := d.optObject(f, "job")
	if err != nil || job < 0 {
		return err
	}
	j := &quarry.Job{}
	if j.Namespace, err = d.reqString(job, "namespace"); err != nil {
		return quarry.InField("job", err)
	}
	if j.Name, err = d.reqString(job, "name"); err != nil {
		return quarry.InField("job", err)
	}
	r.ParentJob = j
	return nil
}

// facet returns the named facet of a facets object, or -1 when it is
// absent, null or marked deleted.
func (d *doc) facet(facets int32, name string) (int32, error) {
	f, err := d.optObject(facets, name)
	if err != nil || f < 0 {
		return -1, err
	}
	if del, _, _ := d.optBool(f, "_deleted"); del {
		return -1, nil
	}
	return f, nil
}

// job maps a job and its facets.
func (d *doc) job(n int32) (*quarry.Job, error) {
	ns, err := d.reqString(n, "namespace")
	if err != nil {
		return nil, err
	}
	name, err := d.reqString(n, "name")
	if err != nil {
		return nil, err
	}
	j := &quarry.Job{Namespace: ns, Name: name}
	facets, err := d.optObject(n, "facets")
	if err != nil || facets < 0 {
		return j, err
	}
	if err := d.jobFacets(facets, j); err != nil {
		return nil, quarry.InField("facets", err)
	}
	return j, nil
}

func (d *doc) jobFacets(facets int32, j *quarry.Job) error {
	var err error
	if f, err := d.facet(facets, "sql"); err != nil {
		return err
	} else if f >= 0 {
		if j.SQL, _, err = d.optString(f, "query"); err != nil {
			return quarry.InField("sql", err)
		}
	}
	if j.Description, err = d.documentation(facets); err != nil {
		return err
	}
	if j.Owners, err = d.ownership(facets); err != nil {
		return err
	}
	if f, err := d.facet(facets, "jobType"); err != nil {
		return err
	} else if f >= 0 {
		var parts [3]string
		for i, k := range []string{"processingType", "integration", "jobType"} {
			if parts[i], _, err = d.optString(f, k); err != nil {
				return quarry.InField("jobType", err)
			}
		}
		j.Type = strings.TrimRight(parts[0]+"/"+parts[1]+"/"+parts[2], "/")
	}
	if f, err := d.facet(facets, "sourceCodeLocation"); err != nil {
		return err
	} else if f >= 0 {
		if j.SourceURL, err = d.sourceURL(f); err != nil {
			return quarry.InField("sourceCodeLocation", err)
		}
	}
	return nil
}

// sourceURL is the facet's url, or its repoUrl and path joined.
func (d *doc) sourceURL(f int32) (string, error) {
	url, _, err := d.optString(f, "url")
	if err != nil || url != "" {
		return url, err
	}
	repo, _, err := d.optString(f, "repoUrl")
	if err != nil {
		return "", err
	}
	path, _, err := d.optString(f, "path")
	if err != nil {
		return "", err
	}
	switch {
	case repo == "":
		return path, nil
	case path == "":
		return repo, nil
	}
	return strings.TrimRight(repo, "/") + "/" + strings.TrimLeft(path, "/"), nil
}

// documentation reads the documentation facet's description.
func (d *doc) documentation(facets int32) (string, error) {
	f, err := d.facet(facets, "documentation")
	if err != nil || f < 0 {
		return "", err
	}
	s, _, err := d.optString(f, "description")
	if err != nil {
		return "", quarry.InField("documentation", err)
	}
	return s, nil
}

// ownership reads the owners' names from the ownership facet. Names are
// kept as given (OpenLineage recommends "user:jdoe", "team:data"); the
// ownership type (MAINTAINER, ...) has no place in the catalog. Each name
// must be a valid label (quarry.NormalizeLabels).
func (d *doc) ownership(facets int32) ([]string, error) {
	f, err := d.facet(facets, "ownership")
	if err != nil || f < 0 {
		return nil, err
	}
	arr, err := d.optArray(f, "owners")
	if err != nil {
		return nil, quarry.InField("ownership", err)
	}
	if arr < 0 {
		return nil, nil
	}
	if n := d.nodes[arr].n; n > quarry.MaxLabels {
		return nil, quarry.Invalid("ownership.owners", "has %d entries; the limit is %d", n, quarry.MaxLabels)
	}
	var out []string
	i := 0
	for c := d.nodes[arr].first; c >= 0; c, i = d.nodes[c].next, i+1 {
		name, err := d.owner(c)
		if err != nil {
			return nil, quarry.InField(fmt.Sprintf("ownership.owners[%d]", i), err)
		}
		out = append(out, name)
	}
	return out, nil
}

func (d *doc) owner(n int32) (string, error) {
	if err := d.want(n, jObject); err != nil {
		return "", err
	}
	name, err := d.reqString(n, "name")
	if err != nil {
		return "", err
	}
	if _, err := quarry.NormalizeLabels([]string{name}); err != nil {
		if e, ok := errors.AsType[*quarry.Error](err); ok {
			return "", quarry.Invalid("name", "%s", e.Message)
		}
		return "", err
	}
	return name, nil
}

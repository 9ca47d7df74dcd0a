package runreport

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/quarrydata/quarry/internal/olevent"
)

// Producer identifies `quarry run` as the producer of its events
// (OpenLineage's producer and every facet's _producer).
const Producer = "https://github.com/quarrydata/quarry/tree/main/cmd/quarry/run"

// FacetName is the run facet that carries what `quarry run` knows of the
// command (RunFacet); the server keeps its command and host on the job.
const FacetName = "quarry_run"

const facetSchema = "https://github.com/quarrydata/quarry/tree/main/internal/runreport/quarry_run.json"

// Dataset is a dataset a run reads or writes, as OpenLineage names it.
type Dataset struct {
	Namespace string `json:"namespace" yaml:"namespace"`
	Name      string `json:"name" yaml:"name"`
}

// ParseDataset reads "NAMESPACE:NAME" (postgres://db:5432:shop.public.orders):
// the name follows the last colon, since a namespace may hold colons and
// a table's name does not.
func ParseDataset(s string) (Dataset, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return Dataset{}, fmt.Errorf("%q is not NAMESPACE:NAME (e.g. postgres://db:5432:shop.public.orders)", s)
	}
	ns, name := s[:i], s[i+1:]
	if strings.HasSuffix(ns, ":") || strings.Trim(name, "0123456789") == "" {
		return Dataset{}, fmt.Errorf("%q has no dataset name after the namespace: want NAMESPACE:NAME (e.g. postgres://db:5432:shop.public.orders)", s)
	}
	return Dataset{Namespace: ns, Name: name}, nil
}

// Run is one run of a wrapped command: what its START and its COMPLETE or
// FAIL event say.
type Run struct {
	ID           string // a UUID (NewRun makes a version 7 one)
	JobNamespace string
	JobName      string
	Inputs       []Dataset
	Outputs      []Dataset
	Command      []string // redacted (RedactArgs)
	Host         string
	User         string
	Version      string // Quarry's
	Start        time.Time
	End          time.Time // zero until it ended
	ExitCode     int       // the exit status, 128+n when killed by signal n
	Signal       string    // the signal that killed it, if one did
	StderrTail   string    // the last lines of its stderr
	StartError   string    // why the command could not be started, if it could not
}

// NewRun returns a run of a job starting now, with a fresh run ID.
func NewRun(jobNamespace, jobName string, now time.Time) *Run {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	return &Run{ID: id.String(), JobNamespace: jobNamespace, JobName: jobName, Start: now.UTC()}
}

// Failed reports whether the ended run failed.
func (r *Run) Failed() bool { return r.ExitCode != 0 || r.StartError != "" }

// Event is one OpenLineage run event, encoded, with what names it in a
// spool.
type Event struct {
	RunID string
	Type  string // START, COMPLETE or FAIL
	Time  time.Time
	JSON  []byte
}

// StartEvent is the run's START event.
func (r *Run) StartEvent() Event { return r.event("START", r.Start) }

// EndEvent is the run's COMPLETE or FAIL event; End must be set.
func (r *Run) EndEvent() Event {
	if r.Failed() {
		return r.event("FAIL", r.End)
	}
	return r.event("COMPLETE", r.End)
}

// RunFacet is the quarry_run run facet.
type RunFacet struct {
	olevent.Facet
	Command    string `json:"command"`
	Host       string `json:"host,omitempty"`
	User       string `json:"user,omitempty"`
	Version    string `json:"quarryVersion,omitempty"`
	StartTime  string `json:"startTime"`
	EndTime    string `json:"endTime,omitempty"`
	DurationMs *int64 `json:"durationMs,omitempty"`
	ExitCode   *int   `json:"exitCode,omitempty"`
	Signal     string `json:"signal,omitempty"`
}

func (r *Run) event(typ string, at time.Time) Event {
	facet := func(name, version string) map[string]any {
		return map[string]any{"_producer": Producer, "_schemaURL": olevent.SpecFacetURL(name, version)}
	}
	rf := RunFacet{Facet: olevent.Facet{Producer: Producer, SchemaURL: facetSchema}, Command: CommandLine(r.Command), Host: r.Host, User: r.User,
		Version: r.Version, StartTime: r.Start.UTC().Format(time.RFC3339Nano)}
	runFacets := map[string]any{FacetName: &rf}
	if typ != "START" {
		d := r.End.Sub(r.Start).Milliseconds()
		code := r.ExitCode
		rf.EndTime, rf.DurationMs, rf.ExitCode, rf.Signal = r.End.UTC().Format(time.RFC3339Nano), &d, &code, r.Signal
	}
	if typ == "FAIL" {
		em := facet("ErrorMessageRunFacet", "1-0-1")
		em["message"] = r.failure()
		em["programmingLanguage"] = "shell"
		runFacets["errorMessage"] = em
	}
	jt := facet("JobTypeJobFacet", "2-0-4")
	jt["processingType"], jt["integration"], jt["jobType"] = "BATCH", "QUARRY", "COMMAND"
	ev := olevent.RunEvent{
		EventType: typ, EventTime: at.UTC().Format(time.RFC3339Nano), Producer: Producer, SchemaURL: olevent.RunEventSchema,
		Run:    olevent.Run{RunID: r.ID, Facets: runFacets},
		Job:    olevent.Job{Namespace: r.JobNamespace, Name: r.JobName, Facets: map[string]any{"jobType": jt}},
		Inputs: wire(r.Inputs), Outputs: wire(r.Outputs),
	}
	raw, err := json.Marshal(&ev)
	if err != nil {
		panic(err) // maps of strings and numbers: cannot fail
	}
	return Event{RunID: r.ID, Type: typ, Time: at.UTC(), JSON: raw}
}

// failure is the errorMessage facet's message: how the command ended,
// then the last lines of its stderr.
func (r *Run) failure() string {
	var head string
	switch {
	case r.StartError != "":
		head = "the command could not be started: " + r.StartError
	case r.Signal != "":
		head = fmt.Sprintf("the command was killed by signal %s (exit code %d)", r.Signal, r.ExitCode)
	default:
		head = fmt.Sprintf("the command exited with code %d", r.ExitCode)
	}
	if r.StderrTail == "" {
		return head
	}
	return head + "; the last lines of its stderr:\n" + r.StderrTail
}

// wire is the event's inputs or outputs: never nil, since the event says
// what the run read or wrote even when that is nothing ("inputs": []).
func wire(ds []Dataset) []olevent.Dataset {
	out := make([]olevent.Dataset, len(ds))
	for i, d := range ds {
		out[i] = olevent.Dataset{Namespace: d.Namespace, Name: d.Name}
	}
	return out
}

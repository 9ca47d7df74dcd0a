package alert

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/quarrydata/quarry"
)

// evaluator is the alert evaluator: what alerts derive from, kept in
// memory between passes and caught up from the changelog, and the alerts
// and statuses it recorded.
type evaluator struct {
	mu       sync.Mutex // one pass at a time
	loaded   bool
	seq      uint64                              // changelog read up to
	passes   uint64                              // passes made
	datasets map[string]*freshEntry              // datasets that can be late: not removed, seen to change
	checks   map[string]map[string]*quarry.Alert // dataset id -> alert key -> its check alert wanted
	nchecks  int                                 // latest check results read
	nread    map[string]int                      // dataset id -> its latest check results read
	open     map[string]*quarry.Alert            // alert key -> open alert, as stored
	health   map[string]quarry.CheckStatus       // dataset id -> worst latest check result
	status   map[string]quarry.DatasetStatus     // dataset id -> status, as stored (unknown: absent)
}

// freshEntry is what a dataset's freshness depends on.
type freshEntry struct {
	d        quarry.Dataset // ID, names, source, tags and LastUpdatedAt only
	set      *quarry.FreshnessPolicy
	inferred *quarry.FreshnessPolicy                 // learned from its history; nil when too short
	key      string                                  // of its freshness alert
	late     uint64                                  // the last pass that found it late
	inferFn  func() (*quarry.FreshnessPolicy, error) // e.infer, bound once

	// Copies of its entries in the evaluator's maps, so that a pass looks
	// nothing up for a dataset that did not change (link sets them;
	// addCheck and committed keep them).
	health    quarry.CheckStatus
	stored    quarry.DatasetStatus
	hasStored bool
	open      *quarry.Alert // its open freshness alert
}

func (e *freshEntry) infer() (*quarry.FreshnessPolicy, error) { return e.inferred, nil }

// link copies the entry's state from the maps.
func (ev *evaluator) link(e *freshEntry) {
	e.health = ev.health[e.d.ID]
	e.stored, e.hasStored = ev.status[e.d.ID]
	e.open = ev.open[e.key]
}

// pass runs one evaluator pass at now.
func (ev *evaluator) pass(ctx context.Context, st Store, now time.Time, defaults []quarry.PolicyDefault, webhooks []string) (Pass, error) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var pass Pass
	if err := ev.catchUp(ctx, st); err != nil {
		return pass, fmt.Errorf("read what alerts derive from: %w", err)
	}
	pass.Datasets, pass.Checks = len(ev.datasets), ev.nchecks
	events, statuses, open := ev.diff(defaults, now)
	pass.Open = open
	if len(events) == 0 && len(statuses) == 0 {
		return pass, nil
	}
	if err := st.RecordAlerts(ctx, now, events, statuses, webhooks); err != nil {
		return pass, fmt.Errorf("record alerts: %w", err)
	}
	ev.committed(events, statuses)
	pass.Transitions = events
	return pass, nil
}

// changesPage is how many changelog records a catch-up reads at a time.
const changesPage = 10_000

// catchUp brings the state up to date with the store: everything on the
// first pass, then the datasets that changed since the last. The reads
// need not be one snapshot: a change committed after the sequence noted
// is read again by the next pass.
func (ev *evaluator) catchUp(ctx context.Context, st Store) error {
	if !ev.loaded {
		return ev.load(ctx, st)
	}
	changed := make(map[string]bool)
	seq, err := quarry.ApplyChanges(ctx, st, ev.seq, changesPage, func(_ context.Context, page []quarry.Change) error {
		for _, ch := range page {
			// Its own records (OpStatus) and lineage do not change what
			// alerts derive from.
			if ch.Entity == quarry.EntityDataset && ch.Op != quarry.OpLineage && ch.Op != quarry.OpStatus {
				changed[ch.ID] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(changed) > 0 {
		ids := slices.Sorted(maps.Keys(changed))
		for _, id := range ids {
			delete(ev.datasets, id)
			ev.forgetChecks(id)
		}
		if err := st.EachFreshnessInput(ctx, ids, ev.addDataset); err != nil {
			return err
		}
		if err := st.EachLatestCheck(ctx, ids, ev.addCheck); err != nil {
			return err
		}
		for _, id := range ids {
			if e := ev.datasets[id]; e != nil {
				ev.link(e)
			}
		}
	}
	ev.seq = seq
	return nil
}

// load reads everything: the first pass.
func (ev *evaluator) load(ctx context.Context, st Store) error {
	seq, err := st.LastSeq(ctx)
	if err != nil {
		return err
	}
	ev.datasets = make(map[string]*freshEntry)
	ev.checks = make(map[string]map[string]*quarry.Alert)
	ev.nread = make(map[string]int)
	ev.open = make(map[string]*quarry.Alert)
	ev.health = make(map[string]quarry.CheckStatus)
	ev.nchecks = 0
	if err := st.EachFreshnessInput(ctx, nil, ev.addDataset); err != nil {
		return err
	}
	if err := st.EachLatestCheck(ctx, nil, ev.addCheck); err != nil {
		return err
	}
	open, err := st.Alerts(ctx, ptr(true))
	if err != nil {
		return err
	}
	for i := range open {
		ev.open[open[i].Key] = &open[i]
	}
	if ev.status, err = st.DatasetStatuses(ctx); err != nil {
		return err
	}
	for _, e := range ev.datasets {
		ev.link(e)
	}
	ev.loaded, ev.seq = true, seq
	return nil
}

// addDataset keeps what a dataset's freshness depends on.
func (ev *evaluator) addDataset(d *quarry.Dataset, set, inferred *quarry.FreshnessPolicy) error {
	e := &freshEntry{d: *d, set: set, inferred: inferred, key: quarry.FreshnessAlertKey(d.ID)}
	e.inferFn = e.infer
	ev.datasets[d.ID] = e
	return nil
}

// forgetChecks drops what the state holds of a dataset's checks.
func (ev *evaluator) forgetChecks(id string) {
	ev.nchecks -= ev.nread[id] // all its results, not only the failing ones
	delete(ev.nread, id)
	delete(ev.checks, id)
	delete(ev.health, id)
}

// addCheck keeps a latest check result: its part in the dataset's health,
// and an alert when it is not passing, on datasets that are not removed.
func (ev *evaluator) addCheck(ds quarry.Identity, ch *quarry.Check) error {
	ev.nchecks++
	ev.nread[ch.DatasetID]++
	if ds.Removed {
		return nil // no status, no alerts
	}
	if h := ev.health[ch.DatasetID]; h == "" || checkRank[ch.Status] > checkRank[h] {
		ev.health[ch.DatasetID] = ch.Status
	}
	var level quarry.AlertLevel
	switch ch.Status {
	case quarry.CheckWarn:
		level = quarry.LevelWarn
	case quarry.CheckFail, quarry.CheckError:
		level = quarry.LevelError
	default:
		return nil
	}
	key := quarry.CheckAlertKey(ch.DatasetID, ch.Column, ch.Name)
	m := ev.checks[ch.DatasetID]
	if m == nil {
		m = make(map[string]*quarry.Alert)
		ev.checks[ch.DatasetID] = m
	}
	m[key] = &quarry.Alert{
		Key: key, Kind: quarry.AlertCheck, DatasetID: ch.DatasetID, Namespace: ds.Namespace, Dataset: ds.Name, Column: ch.Column, Check: ch.Name,
		Level: level, Status: string(ch.Status), Message: checkAlertMessage(ch),
	}
	return nil
}

var checkRank = map[quarry.CheckStatus]int{quarry.CheckPass: 1, quarry.CheckWarn: 2, quarry.CheckFail: 3, quarry.CheckError: 4}

// diff returns the transitions that take the open alerts to the ones the
// state wants at now, ordered by dataset name, then alert key; the
// datasets whose status changed (the zero status: unknown now); and how
// many alerts are open after them.
func (ev *evaluator) diff(defaults []quarry.PolicyDefault, now time.Time) ([]quarry.AlertEvent, map[string]quarry.DatasetStatus, int) {
	var out []quarry.AlertEvent
	statuses := make(map[string]quarry.DatasetStatus)
	seen := 0 // datasets of ev.status visited
	held := 0 // open alerts that still hold
	setStatus := func(id string, ds quarry.DatasetStatus) {
		old, ok := ev.status[id]
		if ok {
			seen++
		}
		if old != ds {
			statuses[id] = ds
		}
	}
	wanted := 0
	change := func(o, w *quarry.Alert) {
		switch {
		case o == nil:
			w.OpenedAt, w.ChangedAt = now, now
			out = append(out, quarry.AlertEvent{Transition: quarry.AlertOpened, At: now, Alert: *w})
		case o.Level != w.Level:
			t := quarry.AlertEscalated
			if w.Level.Rank() < o.Level.Rank() {
				t = quarry.AlertDeescalated
			}
			w.OpenedAt, w.ChangedAt = o.OpenedAt, now
			out = append(out, quarry.AlertEvent{Transition: t, At: now, Alert: *w})
		case o.Status != w.Status || o.Message != w.Message || !sameTime(o.ExpectedBy, w.ExpectedBy) || !sameTime(o.LastUpdatedAt, w.LastUpdatedAt):
			// Same level, new details (a check failing another way, a
			// newer update that is late too): kept on the alert, not a
			// transition.
			w.OpenedAt, w.ChangedAt = o.OpenedAt, o.ChangedAt
			out = append(out, quarry.AlertEvent{At: now, Alert: *w})
		}
	}
	ev.passes++
	for id, e := range ev.datasets {
		f, _ := quarry.EvaluateFreshness(&e.d, e.set, defaults, e.inferFn, now)
		ds := quarry.DatasetStatus{Health: e.health}
		if f.Status != quarry.FreshnessUnknown {
			ds.Freshness = f.Status
		}
		if e.hasStored {
			seen++
		}
		if e.stored != ds {
			statuses[id] = ds
		}
		var level quarry.AlertLevel
		switch f.Status {
		case quarry.FreshnessWarn:
			level = quarry.LevelWarn
		case quarry.FreshnessError:
			level = quarry.LevelError
		default:
			continue
		}
		if e.d.Deprecated() != nil {
			// Nobody should wait for a deprecated dataset: its status
			// says late, but no alert opens (an open one resolves).
			continue
		}
		wanted++
		e.late = ev.passes
		o := e.open
		if o != nil {
			held++
		}
		if o != nil && o.Level == level && sameTime(o.ExpectedBy, f.ExpectedBy) && sameTime(o.LastUpdatedAt, f.LastUpdatedAt) && o.Inferred == f.Inferred() {
			continue // as it was: skip building the alert
		}
		change(o, &quarry.Alert{
			Key: e.key, Kind: quarry.AlertFreshness, DatasetID: id, Namespace: e.d.Namespace, Dataset: e.d.Name,
			Level: level, Status: string(f.Status), Message: freshnessAlertMessage(&f),
			LastUpdatedAt: f.LastUpdatedAt, ExpectedBy: f.ExpectedBy, Inferred: f.Inferred(),
		})
	}
	for id, h := range ev.health {
		if ev.datasets[id] == nil {
			setStatus(id, quarry.DatasetStatus{Health: h})
		}
	}
	if seen < len(ev.status) { // some are unknown now: removed, or no longer seen to change
		for id := range ev.status {
			if ev.datasets[id] == nil && ev.health[id] == "" {
				statuses[id] = quarry.DatasetStatus{}
			}
		}
	}
	for _, m := range ev.checks {
		for key, w := range m {
			wanted++
			c := *w
			o := ev.open[key]
			if o != nil {
				held++
			}
			change(o, &c)
		}
	}
	for key, o := range ev.open {
		if held == len(ev.open) {
			break // every open alert still holds
		}
		if o.Kind == quarry.AlertCheck && ev.checks[o.DatasetID][key] != nil ||
			o.Kind == quarry.AlertFreshness && ev.datasets[o.DatasetID] != nil && ev.datasets[o.DatasetID].late == ev.passes {
			continue // still holds
		}
		r := *o
		r.ResolvedAt, r.ChangedAt = &now, now
		r.Status = "RESOLVED"
		out = append(out, quarry.AlertEvent{Transition: quarry.AlertResolved, At: now, Alert: r})
	}
	slices.SortFunc(out, func(a, b quarry.AlertEvent) int {
		if c := cmp.Compare(a.Alert.Dataset, b.Alert.Dataset); c != 0 {
			return c
		}
		return cmp.Compare(a.Alert.Key, b.Alert.Key)
	})
	return out, statuses, wanted
}

// committed applies what a pass recorded to the state.
func (ev *evaluator) committed(events []quarry.AlertEvent, statuses map[string]quarry.DatasetStatus) {
	for id, s := range statuses {
		if s == (quarry.DatasetStatus{}) {
			delete(ev.status, id)
		} else {
			ev.status[id] = s
		}
		if e := ev.datasets[id]; e != nil {
			e.stored, e.hasStored = s, s != (quarry.DatasetStatus{})
		}
	}
	for i := range events {
		a := events[i].Alert
		if events[i].Transition == quarry.AlertResolved {
			delete(ev.open, a.Key)
		} else {
			ev.open[a.Key] = &a
		}
		if e := ev.datasets[a.DatasetID]; e != nil && a.Kind == quarry.AlertFreshness {
			e.open = ev.open[a.Key]
		}
	}
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

func ptr[T any](v T) *T { return &v }

// checkAlertMessage describes a failing check.
func checkAlertMessage(c *quarry.Check) string {
	var b strings.Builder
	fmt.Fprintf(&b, "check %s is %s", checkLabel(c.Column, c.Name), c.Status)
	if c.Observed != "" || c.Expected != "" {
		fmt.Fprintf(&b, " (observed %s, expected %s)", orDash(c.Observed), orDash(c.Expected))
	}
	if c.Message != "" {
		b.WriteString(": " + quarry.Truncate(c.Message, 200))
	}
	return b.String()
}

// freshnessAlertMessage describes a late dataset. It says when, not how
// long ago, so it holds for as long as the alert does.
func freshnessAlertMessage(f *quarry.Freshness) string {
	if f.LastUpdatedAt == nil {
		return "no update seen"
	}
	msg := "last updated " + f.LastUpdatedAt.UTC().Format(time.RFC3339)
	if f.ExpectedBy != nil {
		msg += ", due by " + f.ExpectedBy.UTC().Format(time.RFC3339)
	}
	if f.Inferred() {
		msg += " (learned from its update history)"
	}
	return msg
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

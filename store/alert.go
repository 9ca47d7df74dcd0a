package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydata/quarry"
)

// Alerts are derived state: an evaluator pass (EvaluateAlerts) reads every
// dataset's freshness and every check's latest result, compares what
// should be open with what is, and records the difference as transitions
// in one transaction: the alert records, their histories, a changelog
// record per dataset, and one outbox entry per webhook for each transition
// that notifies. Webhook senders take entries from the outbox
// (DueDeliveries) and report how each attempt went (RecordDelivery); the
// outbox is in the file, so a restart loses no notification, and sending
// never holds a write back.

// AlertOptions configure an evaluator pass.
type AlertOptions struct {
	Now      time.Time
	Defaults []quarry.PolicyDefault // freshness defaults from the config
	Webhooks []string               // names of the webhooks that hear of transitions
}

// AlertPass sums up an evaluator pass.
type AlertPass struct {
	Datasets    int // datasets looked at (removed ones are not)
	Checks      int // latest check results looked at
	Open        int // alerts open after the pass
	Transitions []quarry.AlertEvent
}

// EvaluateAlerts runs one evaluator pass at o.Now. Passes are serialized;
// a pass that finds nothing changed writes nothing.
//
// The evaluator keeps what freshness depends on in memory (alertState): the
// first pass reads every dataset, later passes only those the changelog
// says changed since. A pass over 100k datasets is then a walk over a map,
// not 100k records decoded.
func (s *Store) EvaluateAlerts(ctx context.Context, o AlertOptions) (AlertPass, error) {
	s.alertMu.Lock()
	defer s.alertMu.Unlock()
	st := &s.alerts
	now := o.Now.UTC()
	var pass AlertPass
	if err := s.view(func(tx *bolt.Tx) error { return st.catchUp(tx) }); err != nil {
		return pass, err
	}
	pass.Datasets, pass.Checks = len(st.datasets), st.nchecks
	events, statuses, open := st.diff(o.Defaults, now)
	pass.Open = open
	if len(events) == 0 && len(statuses) == 0 {
		return pass, nil
	}
	err := s.bulk(ctx, func(tx *bolt.Tx) error {
		return recordTransitions(tx, events, statuses, o.Webhooks, now)
	})
	if err != nil {
		return pass, err
	}
	st.committed(events, statuses)
	pass.Transitions = events
	return pass, nil
}

// alertState is what the evaluator keeps between passes.
type alertState struct {
	loaded   bool
	seq      uint64                              // changelog read up to
	pass     uint64                              // passes made
	datasets map[string]*freshEntry              // datasets that can be late: not removed, seen to change
	checks   map[string]map[string]*quarry.Alert // dataset id -> alert key -> its check alert wanted
	nchecks  int                                 // latest check results read
	nread    map[string]int                      // dataset id -> its latest check results read
	open     map[string]*quarry.Alert            // alert key -> open alert, as stored
	health   map[string]quarry.CheckStatus       // dataset id -> worst latest check result
	status   map[string]quarry.DatasetStatus     // dataset id -> status, as stored (unknown: absent)
}

// statusChange is a dataset's new status.
type statusChange struct {
	id     string
	status quarry.DatasetStatus
}

// freshEntry is what a dataset's freshness depends on.
type freshEntry struct {
	d        quarry.Dataset // ID, names, source, tags and LastUpdatedAt only
	set      *quarry.FreshnessPolicy
	inferred *quarry.FreshnessPolicy                 // learned from its history; nil when too short
	key      string                                  // of its freshness alert
	late     uint64                                  // the last pass that found it late
	inferFn  func() (*quarry.FreshnessPolicy, error) // e.infer, bound once

	// Copies of its entries in alertState's maps, so that a pass looks
	// nothing up for a dataset that did not change (link sets them;
	// readChecks and committed keep them).
	health    quarry.CheckStatus
	stored    quarry.DatasetStatus
	hasStored bool
	open      *quarry.Alert // its open freshness alert
}

// link copies the entry's state from the maps.
func (st *alertState) link(e *freshEntry) {
	e.health = st.health[e.d.ID]
	e.stored, e.hasStored = st.status[e.d.ID]
	e.open = st.open[e.key]
}

func (e *freshEntry) infer() (*quarry.FreshnessPolicy, error) { return e.inferred, nil }

// catchUp brings the state up to date with tx: everything on the first
// pass, then the datasets that changed since the last.
func (st *alertState) catchUp(tx *bolt.Tx) error {
	last := tx.Bucket(bucketChangelog).Sequence()
	if st.loaded && last == st.seq {
		return nil
	}
	if !st.loaded {
		st.datasets = make(map[string]*freshEntry)
		st.checks = make(map[string]map[string]*quarry.Alert)
		st.nread = make(map[string]int)
		st.open = make(map[string]*quarry.Alert)
		st.health = make(map[string]quarry.CheckStatus)
		st.status = make(map[string]quarry.DatasetStatus)
		st.nchecks = 0
		err := tx.Bucket(bucketDatasets).ForEach(func(k, v []byte) error { return st.refreshDataset(tx, string(k), v) })
		if err != nil {
			return err
		}
		if err := st.readChecks(tx, nil); err != nil {
			return err
		}
		err = tx.Bucket(bucketAlerts).ForEach(func(k, v []byte) error {
			a := new(quarry.Alert)
			if err := json.Unmarshal(v, a); err != nil {
				return fmt.Errorf("decode alert %s: %w", k, err)
			}
			st.open[a.Key] = a
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketDatasetStatus).ForEach(func(k, v []byte) error {
			var ds quarry.DatasetStatus
			if err := json.Unmarshal(v, &ds); err != nil {
				return fmt.Errorf("decode status of %s: %w", k, err)
			}
			st.status[string(k)] = ds
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range st.datasets {
			st.link(e)
		}
		st.loaded, st.seq = true, last
		return nil
	}
	changed := make(map[string]bool)
	c := tx.Bucket(bucketChangelog).Cursor()
	for k, v := c.Seek(u64(st.seq + 1)); k != nil; k, v = c.Next() {
		var ch quarry.Change
		if err := json.Unmarshal(v, &ch); err != nil {
			return fmt.Errorf("changelog record %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if ch.Entity == quarry.EntityDataset && ch.Op != quarry.OpLineage && ch.Op != quarry.OpStatus {
			changed[ch.ID] = true
		}
	}
	datasets := tx.Bucket(bucketDatasets)
	for id := range changed {
		if err := st.refreshDataset(tx, id, datasets.Get([]byte(id))); err != nil {
			return err
		}
		if err := st.readChecks(tx, []byte(id)); err != nil {
			return err
		}
		if e := st.datasets[id]; e != nil {
			st.link(e)
		}
	}
	st.seq = last
	return nil
}

// refreshDataset reads what a dataset's freshness depends on from its
// record raw (nil: it is gone).
func (st *alertState) refreshDataset(tx *bolt.Tx, id string, raw []byte) error {
	delete(st.datasets, id)
	if raw == nil || !bytes.Contains(raw, hasUpdate) {
		return nil // a dataset never seen to change cannot be late
	}
	var r alertDataset
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("decode dataset %s: %w", id, err)
	}
	if r.RemovedAt != nil || r.LastUpdatedAt == nil {
		return nil
	}
	e := &freshEntry{d: quarry.Dataset{ID: r.ID, Namespace: r.Namespace, Name: r.Name, Source: r.Source, LastUpdatedAt: r.LastUpdatedAt}, key: quarry.FreshnessAlertKey(id)}
	e.d.Provided.Tags, e.d.Edited.Tags = r.Provided.Tags, r.Edited.Tags
	if p := tx.Bucket(bucketPolicies).Get([]byte(id)); p != nil {
		e.set = new(quarry.FreshnessPolicy)
		if err := json.Unmarshal(p, e.set); err != nil {
			return fmt.Errorf("decode freshness policy of %s: %w", id, err)
		}
	}
	if p, ok := quarry.InferPolicy(changeTimes(tx.Bucket(bucketDataChanges).Cursor(), []byte(id), nil)); ok {
		e.inferred = &p
	}
	e.inferFn = e.infer
	st.datasets[id] = e
	return nil
}

// alertDataset is the part of a dataset record the evaluator reads.
type alertDataset struct {
	ID        string `json:"id"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Source    string `json:"source"`
	Provided  struct {
		Tags []string `json:"tags"`
	} `json:"provided"`
	Edited struct {
		Tags *[]string `json:"tags"`
	} `json:"edited"`
	LastUpdatedAt *time.Time `json:"lastUpdatedAt"`
	RemovedAt     *time.Time `json:"removedAt"`
}

// hasUpdate is in every record with a LastUpdatedAt, and in no other (a
// quote inside a JSON string is escaped).
var hasUpdate = []byte(`"lastUpdatedAt":`)

// readChecks reads the latest check results of one dataset (all datasets
// when id is nil) and keeps an alert for each that is not passing, on
// datasets that are not removed.
func (st *alertState) readChecks(tx *bolt.Tx, id []byte) error {
	c := tx.Bucket(bucketChecks).Cursor()
	k, v := c.First()
	if id != nil {
		st.nchecks -= st.nread[string(id)] // all its results, not only the failing ones
		delete(st.nread, string(id))
		delete(st.checks, string(id))
		delete(st.health, string(id))
		k, v = c.Seek(id)
	}
	names := make(map[string][2]string) // dataset id -> namespace, name; "" when removed
	for ; k != nil && (id == nil || bytes.HasPrefix(k, id)); k, v = c.Next() {
		var ch quarry.Check
		if err := json.Unmarshal(v, &ch); err != nil {
			return fmt.Errorf("decode check %q: %w", k, err)
		}
		st.nchecks++
		st.nread[ch.DatasetID]++
		name, ok := names[ch.DatasetID]
		if !ok {
			if d, err := getDataset(tx, ch.DatasetID); err == nil && d.RemovedAt == nil {
				name = [2]string{d.Namespace, d.Name}
			}
			names[ch.DatasetID] = name
		}
		if name[1] == "" {
			continue // removed: no status, no alerts
		}
		if h := st.health[ch.DatasetID]; h == "" || checkRank[ch.Status] > checkRank[h] {
			st.health[ch.DatasetID] = ch.Status
		}
		var level quarry.AlertLevel
		switch ch.Status {
		case quarry.CheckWarn:
			level = quarry.LevelWarn
		case quarry.CheckFail, quarry.CheckError:
			level = quarry.LevelError
		default:
			continue
		}
		key := quarry.CheckAlertKey(ch.DatasetID, ch.Column, ch.Name)
		m := st.checks[ch.DatasetID]
		if m == nil {
			m = make(map[string]*quarry.Alert)
			st.checks[ch.DatasetID] = m
		}
		m[key] = &quarry.Alert{
			Key: key, Kind: quarry.AlertCheck, DatasetID: ch.DatasetID, Namespace: name[0], Dataset: name[1], Column: ch.Column, Check: ch.Name,
			Level: level, Status: string(ch.Status), Message: quarry.CheckAlertMessage(&ch),
		}
	}
	return nil
}

var checkRank = map[quarry.CheckStatus]int{quarry.CheckPass: 1, quarry.CheckWarn: 2, quarry.CheckFail: 3, quarry.CheckError: 4}

// diff returns the transitions that take the open alerts to the ones the
// state wants at now, ordered by dataset name, then alert key; the
// datasets whose status changed; and how many alerts are open after them.
func (st *alertState) diff(defaults []quarry.PolicyDefault, now time.Time) ([]quarry.AlertEvent, []statusChange, int) {
	var out []quarry.AlertEvent
	var statuses []statusChange
	seen := 0 // datasets of st.status visited
	held := 0 // open alerts that still hold
	setStatus := func(id string, ds quarry.DatasetStatus) {
		old, ok := st.status[id]
		if ok {
			seen++
		}
		if old != ds {
			statuses = append(statuses, statusChange{id, ds})
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
	st.pass++
	for id, e := range st.datasets {
		f, _ := quarry.EvaluateFreshness(&e.d, e.set, defaults, e.inferFn, now)
		ds := quarry.DatasetStatus{Health: e.health}
		if f.Status != quarry.FreshnessUnknown {
			ds.Freshness = f.Status
		}
		if e.hasStored {
			seen++
		}
		if e.stored != ds {
			statuses = append(statuses, statusChange{id, ds})
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
		wanted++
		e.late = st.pass
		key := e.key
		o := e.open
		if o != nil {
			held++
		}
		if o != nil && o.Level == level && sameTime(o.ExpectedBy, f.ExpectedBy) && sameTime(o.LastUpdatedAt, f.LastUpdatedAt) && o.Inferred == f.Inferred() {
			continue // as it was: skip building the alert
		}
		change(o, &quarry.Alert{
			Key: key, Kind: quarry.AlertFreshness, DatasetID: id, Namespace: e.d.Namespace, Dataset: e.d.Name,
			Level: level, Status: string(f.Status), Message: quarry.FreshnessAlertMessage(&f),
			LastUpdatedAt: f.LastUpdatedAt, ExpectedBy: f.ExpectedBy, Inferred: f.Inferred(),
		})
	}
	for id, h := range st.health {
		if st.datasets[id] == nil {
			setStatus(id, quarry.DatasetStatus{Health: h})
		}
	}
	if seen < len(st.status) { // some are unknown now: removed, or no longer seen to change
		for id := range st.status {
			if st.datasets[id] == nil && st.health[id] == "" {
				statuses = append(statuses, statusChange{id: id})
			}
		}
	}
	for _, m := range st.checks {
		for key, w := range m {
			wanted++
			c := *w
			o := st.open[key]
			if o != nil {
				held++
			}
			change(o, &c)
		}
	}
	for key, o := range st.open {
		if held == len(st.open) {
			break // every open alert still holds
		}
		if o.Kind == quarry.AlertCheck && st.checks[o.DatasetID][key] != nil ||
			o.Kind == quarry.AlertFreshness && st.datasets[o.DatasetID] != nil && st.datasets[o.DatasetID].late == st.pass {
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
	slices.SortFunc(statuses, func(a, b statusChange) int { return cmp.Compare(a.id, b.id) }) // see recordTransitions
	return out, statuses, wanted
}

// committed applies what a pass recorded to the state.
func (st *alertState) committed(events []quarry.AlertEvent, statuses []statusChange) {
	for _, c := range statuses {
		if c.status == (quarry.DatasetStatus{}) {
			delete(st.status, c.id)
		} else {
			st.status[c.id] = c.status
		}
		if e := st.datasets[c.id]; e != nil {
			e.stored, e.hasStored = c.status, c.status != (quarry.DatasetStatus{})
		}
	}
	for i := range events {
		a := events[i].Alert
		if events[i].Transition == quarry.AlertResolved {
			delete(st.open, a.Key)
		} else {
			st.open[a.Key] = &a
		}
		if e := st.datasets[a.DatasetID]; e != nil && a.Kind == quarry.AlertFreshness {
			e.open = st.open[a.Key]
		}
	}
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// recordTransitions writes a pass's transitions. An event without a
// transition only updates the open alert's details.
func recordTransitions(tx *bolt.Tx, events []quarry.AlertEvent, statuses []statusChange, webhooks []string, now time.Time) error {
	alerts, resolved := tx.Bucket(bucketAlerts), tx.Bucket(bucketAlertsResolved)
	hist, outbox := tx.Bucket(bucketAlertHistory), tx.Bucket(bucketAlertOutbox)
	touched := make(map[string]bool)
	sb := tx.Bucket(bucketDatasetStatus)
	for _, c := range statuses {
		var err error
		if c.status == (quarry.DatasetStatus{}) {
			err = sb.Delete([]byte(c.id))
		} else {
			err = putJSON(sb, []byte(c.id), c.status)
		}
		if err != nil {
			return err
		}
		touched[c.id] = true
		if _, err := appendChange(tx, now, quarry.EntityDataset, c.id, quarry.OpStatus); err != nil {
			return err
		}
	}
	// In key order: bbolt inserts into a node's sorted slice and splits it
	// only at commit, so tens of thousands of random inserts in one
	// transaction cost quadratic copying; sorted ones append.
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(events[a].Alert.Key, events[b].Alert.Key) })
	for _, i := range order {
		ev := &events[i]
		key := []byte(ev.Alert.Key)
		v, err := json.Marshal(&ev.Alert)
		if err != nil {
			return err
		}
		if ev.Transition == quarry.AlertResolved {
			if err := alerts.Delete(key); err != nil {
				return err
			}
			if err := resolved.Put(key, v); err != nil {
				return err
			}
		} else {
			if err := resolved.Delete(key); err != nil {
				return err
			}
			if err := alerts.Put(key, v); err != nil {
				return err
			}
		}
		if ev.Transition == "" {
			continue
		}
		if ev.Seq, err = hist.NextSequence(); err != nil {
			return err
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		if err := hist.Put(historyKey(key, ev.Seq), raw); err != nil {
			return err
		}
		if !touched[ev.Alert.DatasetID] {
			touched[ev.Alert.DatasetID] = true
			if _, err := appendChange(tx, now, quarry.EntityDataset, ev.Alert.DatasetID, quarry.OpStatus); err != nil {
				return err
			}
		}
		if !ev.Transition.Notifies() {
			continue
		}
		for _, w := range webhooks {
			// The alert shows this event as queued, unless an older one is
			// still on its way to the webhook: that one's state shows
			// until it is done.
			if cur, err := getDelivery(tx, key, w); err != nil {
				return err
			} else if cur == nil || cur.Status != quarry.DeliveryPending {
				d := quarry.Delivery{Webhook: w, Seq: ev.Seq, Transition: ev.Transition, Status: quarry.DeliveryPending, At: now}
				if err := putDelivery(tx, key, &d); err != nil {
					return err
				}
			}
			id, err := outbox.NextSequence()
			if err != nil {
				return err
			}
			if err := putJSON(outbox, u64(id), outboxEntry{Alert: string(key), Webhook: w, Seq: ev.Seq}); err != nil {
				return err
			}
		}
	}
	return nil
}

func historyKey(alert []byte, seq uint64) []byte {
	k := make([]byte, 0, len(alert)+9)
	k = append(append(k, alert...), 0)
	return append(k, u64(seq)...)
}

func deliveryKey(alert []byte, webhook string) []byte {
	k := make([]byte, 0, len(alert)+1+len(webhook))
	k = append(append(k, alert...), 0)
	return append(k, webhook...)
}

func putDelivery(tx *bolt.Tx, alert []byte, d *quarry.Delivery) error {
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAlertDeliveries).Put(deliveryKey(alert, d.Webhook), v)
}

// outboxEntry is one alert event waiting to be sent to one webhook.
type outboxEntry struct {
	Alert    string    `json:"alert"`
	Webhook  string    `json:"webhook"`
	Seq      uint64    `json:"seq"`
	Attempts int       `json:"attempts,omitempty"`
	NextAt   time.Time `json:"nextAt,omitzero"` // when backing off
}

// Alerts returns alerts: open ones (open true), resolved ones (false) or
// both (nil), worst first: ERROR before WARN, then the longest open.
func (s *Store) Alerts(ctx context.Context, open *bool) ([]quarry.Alert, error) {
	var out []quarry.Alert
	err := s.view(func(tx *bolt.Tx) error {
		var buckets [][]byte
		if open == nil || *open {
			buckets = append(buckets, bucketAlerts)
		}
		if open == nil || !*open {
			buckets = append(buckets, bucketAlertsResolved)
		}
		for _, b := range buckets {
			alerts, err := prefixJSON[quarry.Alert](tx.Bucket(b).Cursor(), nil, "alert")
			if err != nil {
				return err
			}
			out = append(out, alerts...)
		}
		return nil
	})
	sortAlerts(out)
	return out, err
}

// sortAlerts orders alerts worst first: open before resolved; open ones by
// level, then the longest open; resolved ones newest resolution first.
func sortAlerts(alerts []quarry.Alert) {
	slices.SortFunc(alerts, func(a, b quarry.Alert) int {
		if a.Open() != b.Open() {
			if a.Open() {
				return -1
			}
			return 1
		}
		if !a.Open() {
			if c := b.ResolvedAt.Compare(*a.ResolvedAt); c != 0 {
				return c
			}
		} else if r := b.Level.Rank() - a.Level.Rank(); r != 0 {
			return r
		} else if c := a.OpenedAt.Compare(b.OpenedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
}

// AlertHistory returns up to limit transitions of an alert, newest first.
func (s *Store) AlertHistory(ctx context.Context, key string, limit int) ([]quarry.AlertEvent, error) {
	var out []quarry.AlertEvent
	err := s.view(func(tx *bolt.Tx) (err error) {
		out, err = newestFirstJSON[quarry.AlertEvent](tx.Bucket(bucketAlertHistory).Cursor(), append([]byte(key), 0), limit, "alert history of "+key)
		return err
	})
	return out, err
}

// Deliveries returns the state of the latest event of an alert sent to
// each webhook.
func (s *Store) Deliveries(ctx context.Context, key string) ([]quarry.Delivery, error) {
	var out []quarry.Delivery
	err := s.view(func(tx *bolt.Tx) (err error) {
		out, err = prefixJSON[quarry.Delivery](tx.Bucket(bucketAlertDeliveries).Cursor(), append([]byte(key), 0), "delivery")
		return err
	})
	return out, err
}

// PendingDelivery is an alert event due to be sent to a webhook.
type PendingDelivery struct {
	ID       uint64 // its outbox entry
	Webhook  string
	Event    quarry.AlertEvent
	Attempts int // made so far
}

// DueDeliveries returns up to limit outbox entries due at now for the
// webhooks that want accepts (nil: every webhook), oldest first. A webhook
// hears of one alert's events in order: an entry waits while an earlier
// one for the same alert and webhook is in the outbox.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int, want func(webhook string) bool) ([]PendingDelivery, error) {
	var out []PendingDelivery
	err := s.view(func(tx *bolt.Tx) error {
		queued := make(map[[2]string]bool)
		c := tx.Bucket(bucketAlertOutbox).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var e outboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode outbox entry: %w", err)
			}
			if want != nil && !want(e.Webhook) {
				continue
			}
			pair := [2]string{e.Alert, e.Webhook}
			if queued[pair] {
				continue
			}
			queued[pair] = true
			if e.NextAt.After(now) {
				continue // backing off
			}
			raw := tx.Bucket(bucketAlertHistory).Get(historyKey([]byte(e.Alert), e.Seq))
			if raw == nil {
				return fmt.Errorf("outbox entry %d: alert event %s/%d is missing", binary.BigEndian.Uint64(k), e.Alert, e.Seq)
			}
			p := PendingDelivery{ID: binary.BigEndian.Uint64(k), Webhook: e.Webhook, Attempts: e.Attempts}
			if err := json.Unmarshal(raw, &p.Event); err != nil {
				return fmt.Errorf("decode alert event %s/%d: %w", e.Alert, e.Seq, err)
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

func getDelivery(tx *bolt.Tx, alert []byte, webhook string) (*quarry.Delivery, error) {
	raw := tx.Bucket(bucketAlertDeliveries).Get(deliveryKey(alert, webhook))
	if raw == nil {
		return nil, nil
	}
	d := new(quarry.Delivery)
	if err := json.Unmarshal(raw, d); err != nil {
		return nil, fmt.Errorf("decode delivery of %s: %w", alert, err)
	}
	return d, nil
}

// RecordDelivery records an attempt to send a pending delivery: sendErr
// nil is delivered; otherwise, with retryAt set, it is tried again then,
// and without, it has failed for good and leaves the outbox.
func (s *Store) RecordDelivery(ctx context.Context, p PendingDelivery, at time.Time, sendErr error, retryAt *time.Time) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		outbox := tx.Bucket(bucketAlertOutbox)
		if outbox.Get(u64(p.ID)) == nil {
			return nil // recorded already
		}
		key := []byte(p.Event.Alert.Key)
		d := quarry.Delivery{Webhook: p.Webhook, Seq: p.Event.Seq, Transition: p.Event.Transition, Attempts: p.Attempts + 1, At: at.UTC()}
		switch {
		case sendErr == nil:
			d.Status = quarry.DeliveryDelivered
		case retryAt != nil:
			d.Status, d.LastError, d.NextAt = quarry.DeliveryPending, quarry.Truncate(sendErr.Error(), 500), retryAt.UTC()
		default:
			d.Status, d.LastError = quarry.DeliveryFailed, quarry.Truncate(sendErr.Error(), 500)
		}
		// The alert shows the state of the event tried last. A newer one
		// queued behind this one (not tried yet) does not hide it.
		if cur, err := getDelivery(tx, key, p.Webhook); err != nil {
			return err
		} else if cur == nil || cur.Seq <= d.Seq || cur.Attempts == 0 {
			if err := putDelivery(tx, key, &d); err != nil {
				return err
			}
		}
		if d.Status == quarry.DeliveryPending {
			return putJSON(outbox, u64(p.ID), outboxEntry{Alert: string(key), Webhook: p.Webhook, Seq: p.Event.Seq, Attempts: d.Attempts, NextAt: d.NextAt})
		}
		return outbox.Delete(u64(p.ID))
	})
}

// DatasetAlerts returns a dataset's open alerts, worst first.
func (s *Store) DatasetAlerts(ctx context.Context, id string) ([]quarry.Alert, error) {
	var out []quarry.Alert
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAlerts).Cursor()
		for _, prefix := range []string{quarry.FreshnessAlertKey(id), quarry.CheckAlertsPrefix(id)} {
			alerts, err := prefixJSON[quarry.Alert](c, []byte(prefix), "alert")
			if err != nil {
				return err
			}
			out = append(out, alerts...)
		}
		return nil
	})
	sortAlerts(out)
	return out, err
}

// changeTimes appends the times of the newest data changes of a dataset,
// read from their keys (id, at, seq), enough to infer a policy from.
func changeTimes(c *bolt.Cursor, id []byte, out []time.Time) []time.Time {
	k, _ := lastBefore(c, pastPrefix(id))
	for n := 0; k != nil && bytes.HasPrefix(k, id) && n < inferRead; k, _ = c.Prev() {
		if len(k) == len(id)+16 {
			out = append(out, time.Unix(0, int64(binary.BigEndian.Uint64(k[len(id):]))))
			n++
		}
	}
	return out
}

// inferRead is how many data changes inference reads: signals may repeat
// a time, so more than the window.
const inferRead = 3 * (quarry.InferWindow + 1)

// InferredPolicy returns the freshness policy learned from a dataset's
// update history, or nil when it is too short.
func (s *Store) InferredPolicy(ctx context.Context, id string) (*quarry.FreshnessPolicy, error) {
	var p *quarry.FreshnessPolicy
	err := s.view(func(tx *bolt.Tx) error {
		if ip, ok := quarry.InferPolicy(changeTimes(tx.Bucket(bucketDataChanges).Cursor(), []byte(id), nil)); ok {
			p = &ip
		}
		return nil
	})
	return p, err
}

// DatasetStatus returns a dataset's freshness and check status as the
// alert evaluator last saw them.
func (s *Store) DatasetStatus(ctx context.Context, id string) (quarry.DatasetStatus, error) {
	var ds quarry.DatasetStatus
	err := s.view(func(tx *bolt.Tx) error {
		if raw := tx.Bucket(bucketDatasetStatus).Get([]byte(id)); raw != nil {
			return json.Unmarshal(raw, &ds)
		}
		return nil
	})
	return ds, err
}

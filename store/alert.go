package store

import (
	"bytes"
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
func (s *Store) EvaluateAlerts(ctx context.Context, o AlertOptions) (AlertPass, error) {
	s.alertMu.Lock()
	defer s.alertMu.Unlock()
	now := o.Now.UTC()
	var pass AlertPass
	want := make(map[string]*quarry.Alert)
	open := make(map[string]*quarry.Alert)
	err := s.view(func(tx *bolt.Tx) error {
		n, err := wantFreshnessAlerts(tx, o.Defaults, now, want)
		if err != nil {
			return err
		}
		pass.Datasets = n
		if pass.Checks, err = wantCheckAlerts(tx, want); err != nil {
			return err
		}
		return tx.Bucket(bucketAlerts).ForEach(func(k, v []byte) error {
			a := new(quarry.Alert)
			if err := json.Unmarshal(v, a); err != nil {
				return fmt.Errorf("decode alert %s: %w", k, err)
			}
			open[a.Key] = a
			return nil
		})
	})
	if err != nil {
		return pass, err
	}
	pass.Open = len(want)
	events := diffAlerts(open, want, now)
	if len(events) == 0 {
		return pass, nil
	}
	err = s.bulk(ctx, func(tx *bolt.Tx) error {
		return recordTransitions(tx, events, o.Webhooks, now)
	})
	if err != nil {
		return pass, err
	}
	pass.Transitions = events
	return pass, nil
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
// quote inside a JSON string is escaped): a dataset never seen to change
// cannot be late, so its record is not decoded.
var hasUpdate = []byte(`"lastUpdatedAt":`)

// wantFreshnessAlerts adds an alert for each dataset late at now.
func wantFreshnessAlerts(tx *bolt.Tx, defaults []quarry.PolicyDefault, now time.Time, want map[string]*quarry.Alert) (int, error) {
	policies := tx.Bucket(bucketPolicies)
	changes := tx.Bucket(bucketDataChanges).Cursor()
	n := 0
	var times []time.Time
	err := tx.Bucket(bucketDatasets).ForEach(func(k, v []byte) error {
		if !bytes.Contains(v, hasUpdate) {
			n++
			return nil
		}
		var r alertDataset
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode dataset %s: %w", k, err)
		}
		if r.RemovedAt != nil {
			return nil
		}
		n++
		var set *quarry.FreshnessPolicy
		if raw := policies.Get(k); raw != nil {
			set = new(quarry.FreshnessPolicy)
			if err := json.Unmarshal(raw, set); err != nil {
				return fmt.Errorf("decode freshness policy of %s: %w", k, err)
			}
		}
		d := quarry.Dataset{ID: r.ID, Namespace: r.Namespace, Name: r.Name, Source: r.Source, LastUpdatedAt: r.LastUpdatedAt}
		d.Provided.Tags, d.Edited.Tags = r.Provided.Tags, r.Edited.Tags
		f, err := quarry.EvaluateFreshness(&d, set, defaults, func() ([]time.Time, error) {
			times = changeTimes(changes, k, times[:0])
			return times, nil
		}, now)
		if err != nil {
			return err
		}
		var level quarry.AlertLevel
		switch f.Status {
		case quarry.FreshnessWarn:
			level = quarry.LevelWarn
		case quarry.FreshnessError:
			level = quarry.LevelError
		default:
			return nil
		}
		key := quarry.FreshnessAlertKey(r.ID)
		want[key] = &quarry.Alert{
			Key: key, Kind: quarry.AlertFreshness, DatasetID: r.ID, Dataset: r.Name,
			Level: level, Status: string(f.Status), Message: quarry.FreshnessAlertMessage(&f, now),
			LastUpdatedAt: f.LastUpdatedAt, ExpectedBy: f.ExpectedBy, Inferred: f.Inferred(),
		}
		return nil
	})
	return n, err
}

// changeTimes appends the times of the newest data changes of a dataset,
// read from their keys (id, at, seq), enough to infer a policy from.
func changeTimes(c *bolt.Cursor, id []byte, out []time.Time) []time.Time {
	prefix := id
	k, _ := lastBefore(c, pastPrefix(prefix))
	for n := 0; k != nil && bytes.HasPrefix(k, prefix) && n < inferRead; k, _ = c.Prev() {
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

// DataChangeTimes returns the times of a dataset's newest data changes, as
// many as inferring its freshness policy reads.
func (s *Store) DataChangeTimes(ctx context.Context, id string) ([]time.Time, error) {
	var out []time.Time
	err := s.view(func(tx *bolt.Tx) error {
		out = changeTimes(tx.Bucket(bucketDataChanges).Cursor(), []byte(id), nil)
		return nil
	})
	return out, err
}

// wantCheckAlerts adds an alert for each check whose latest result is not
// PASS, on datasets that are not removed.
func wantCheckAlerts(tx *bolt.Tx, want map[string]*quarry.Alert) (int, error) {
	n := 0
	names := make(map[string]string) // dataset id -> name; "" when removed
	err := tx.Bucket(bucketChecks).ForEach(func(k, v []byte) error {
		n++
		var c quarry.Check
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode check %q: %w", k, err)
		}
		var level quarry.AlertLevel
		switch c.Status {
		case quarry.CheckWarn:
			level = quarry.LevelWarn
		case quarry.CheckFail, quarry.CheckError:
			level = quarry.LevelError
		default:
			return nil
		}
		name, ok := names[c.DatasetID]
		if !ok {
			if d, err := getDataset(tx, c.DatasetID); err == nil && d.RemovedAt == nil {
				name = d.Name
			}
			names[c.DatasetID] = name
		}
		if name == "" {
			return nil
		}
		key := quarry.CheckAlertKey(c.DatasetID, c.Column, c.Name)
		want[key] = &quarry.Alert{
			Key: key, Kind: quarry.AlertCheck, DatasetID: c.DatasetID, Dataset: name, Column: c.Column, Check: c.Name,
			Level: level, Status: string(c.Status), Message: quarry.CheckAlertMessage(&c),
		}
		return nil
	})
	return n, err
}

// diffAlerts returns the transitions that take the open alerts to the
// wanted ones, ordered by dataset name, then alert key.
func diffAlerts(open, want map[string]*quarry.Alert, now time.Time) []quarry.AlertEvent {
	var out []quarry.AlertEvent
	for key, w := range want {
		o, ok := open[key]
		switch {
		case !ok:
			w.OpenedAt, w.ChangedAt = now, now
			out = append(out, quarry.AlertEvent{Transition: quarry.AlertOpened, At: now, Alert: *w})
		case o.Level != w.Level:
			t := quarry.AlertEscalated
			if w.Level.Rank() < o.Level.Rank() {
				t = quarry.AlertDeescalated
			}
			w.OpenedAt, w.ChangedAt = o.OpenedAt, now
			out = append(out, quarry.AlertEvent{Transition: t, At: now, Alert: *w})
		case o.Status != w.Status || o.Message != w.Message || !sameTime(o.ExpectedBy, w.ExpectedBy):
			// Same level, new details (a check failing another way, a new
			// expected time): kept on the alert, not a transition.
			w.OpenedAt, w.ChangedAt = o.OpenedAt, o.ChangedAt
			out = append(out, quarry.AlertEvent{At: now, Alert: *w})
		}
	}
	for key, o := range open {
		if _, ok := want[key]; ok {
			continue
		}
		r := *o
		r.ResolvedAt, r.ChangedAt = &now, now
		r.Status = "RESOLVED"
		out = append(out, quarry.AlertEvent{Transition: quarry.AlertResolved, At: now, Alert: r})
	}
	slices.SortFunc(out, func(a, b quarry.AlertEvent) int {
		if c := cmpString(a.Alert.Dataset, b.Alert.Dataset); c != 0 {
			return c
		}
		return cmpString(a.Alert.Key, b.Alert.Key)
	})
	return out
}

func sameTime(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// recordTransitions writes a pass's transitions. An event without a
// transition only updates the open alert's details.
func recordTransitions(tx *bolt.Tx, events []quarry.AlertEvent, webhooks []string, now time.Time) error {
	alerts, resolved := tx.Bucket(bucketAlerts), tx.Bucket(bucketAlertsResolved)
	hist, outbox := tx.Bucket(bucketAlertHistory), tx.Bucket(bucketAlertOutbox)
	touched := make(map[string]bool)
	for i := range events {
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
			if _, err := appendChange(tx, now, quarry.EntityDataset, ev.Alert.DatasetID, OpAlert); err != nil {
				return err
			}
		}
		if !ev.Transition.Notifies() {
			continue
		}
		for _, w := range webhooks {
			d := quarry.Delivery{Webhook: w, Seq: ev.Seq, Transition: ev.Transition, Status: quarry.DeliveryPending, At: now}
			if err := putDelivery(tx, key, &d); err != nil {
				return err
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
			err := tx.Bucket(b).ForEach(func(k, v []byte) error {
				var a quarry.Alert
				if err := json.Unmarshal(v, &a); err != nil {
					return fmt.Errorf("decode alert %s: %w", k, err)
				}
				out = append(out, a)
				return nil
			})
			if err != nil {
				return err
			}
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
		return cmpString(a.Key, b.Key)
	})
}

// AlertHistory returns up to limit transitions of an alert, newest first.
func (s *Store) AlertHistory(ctx context.Context, key string, limit int) ([]quarry.AlertEvent, error) {
	var out []quarry.AlertEvent
	err := s.view(func(tx *bolt.Tx) error {
		prefix := append([]byte(key), 0)
		return newestFirst(tx.Bucket(bucketAlertHistory).Cursor(), prefix, limit, func(v []byte) error {
			var ev quarry.AlertEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("decode alert history of %s: %w", key, err)
			}
			out = append(out, ev)
			return nil
		})
	})
	return out, err
}

// Deliveries returns the state of the latest event of an alert sent to
// each webhook.
func (s *Store) Deliveries(ctx context.Context, key string) ([]quarry.Delivery, error) {
	var out []quarry.Delivery
	err := s.view(func(tx *bolt.Tx) error {
		prefix := append([]byte(key), 0)
		c := tx.Bucket(bucketAlertDeliveries).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var d quarry.Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("decode delivery of %s: %w", key, err)
			}
			out = append(out, d)
		}
		return nil
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

// DueDeliveries returns up to limit outbox entries due at now, oldest
// first. A webhook hears of one alert's events in order: an entry waits
// while an earlier one for the same alert and webhook is in the outbox.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]PendingDelivery, error) {
	var out []PendingDelivery
	err := s.view(func(tx *bolt.Tx) error {
		queued := make(map[[2]string]bool)
		c := tx.Bucket(bucketAlertOutbox).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var e outboxEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode outbox entry: %w", err)
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
		// A newer event of the alert may be queued for this webhook: its
		// state is what the alert shows.
		if cur, err := getDelivery(tx, key, p.Webhook); err != nil {
			return err
		} else if cur == nil || cur.Seq <= d.Seq {
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
		for _, prefix := range []string{quarry.FreshnessAlertKey(id), quarry.CheckAlertKey(id, "", "")[:len("check/")+len(id)+1]} {
			p := []byte(prefix)
			for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
				var a quarry.Alert
				if err := json.Unmarshal(v, &a); err != nil {
					return fmt.Errorf("decode alert %s: %w", k, err)
				}
				out = append(out, a)
			}
		}
		return nil
	})
	sortAlerts(out)
	return out, err
}

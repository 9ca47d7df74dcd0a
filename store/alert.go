package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/quarrydata/quarry"
)

// Alerts are derived state: the alert evaluator (package alert) reads
// what they derive from (EachFreshnessInput, EachLatestCheck, the
// changelog), decides what changed, and records a pass's transitions,
// dataset statuses and outbox entries in one transaction (RecordAlerts).
// Webhook senders take entries from the outbox (DueDeliveries) and report
// how each attempt went (RecordDelivery); the outbox is in the file, so a
// restart loses no notification, and sending never holds a write back.
// The store keeps no evaluator state: these are reads and writes of the
// buckets.

// EachFreshnessInput calls fn with what the freshness of each dataset of
// ids depends on (of every dataset when ids is nil), in one read
// transaction: d holds the dataset's ID, names, source, tags and
// LastUpdatedAt only; set is the policy set on it, inferred the one
// learned from its update history (nil when too short). Only datasets
// that can be late are passed: not removed, and seen to change; an
// unknown id is skipped. fn may keep what it is given.
//
// All datasets are those the can-be-late list names, in ID order: the
// evaluator's first pass at start reads their records only, not every
// record of the catalog (3 GB at a million datasets, most of them never
// seen to change).
func (s *Store) EachFreshnessInput(ctx context.Context, ids []string, fn func(d *quarry.Dataset, set, inferred *quarry.FreshnessPolicy) error) error {
	read := 0
	defer func() {
		if read >= releaseAfter {
			s.releaseMapped() // resident.go
		}
	}()
	return s.view(func(tx kvTx) error {
		datasets := tx.Bucket(bucketDatasets)
		each := func(ids [][]byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			read += len(ids)
			prefetchAll(tx, []kvRead{{bucket: bucketDatasets, keys: ids}, {bucket: bucketPolicies, keys: ids}})
			for _, id := range ids {
				if err := freshnessInput(tx, string(id), datasets.Get(id), fn); err != nil {
					return err
				}
			}
			return nil
		}
		if ids != nil {
			for chunk := range slices.Chunk(idKeys(ids), 1024) {
				if err := each(chunk); err != nil {
					return err
				}
			}
			return nil
		}
		chunk := make([][]byte, 0, 1024)
		c := tx.Bucket(bucketCanBeLate).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if chunk = append(chunk, bytes.Clone(k)); len(chunk) == cap(chunk) {
				if err := each(chunk); err != nil {
					return err
				}
				chunk = chunk[:0]
			}
		}
		return each(chunk)
	})
}

// canBeLate is the value of a dataset's entry in bucketCanBeLate, which
// lists the datasets whose freshness the alert evaluator follows: those
// with a LastUpdatedAt and no RemovedAt. Every write of a dataset's record
// keeps it (writeDataset).
var canBeLate = []byte{1}

// noteCanBeLate keeps the dataset's entry in the can-be-late list. A
// dataset written for the first time has none to look up.
func noteCanBeLate(tx kvTx, id []byte, d *quarry.Dataset, isNew bool) error {
	b := tx.Bucket(bucketCanBeLate)
	if b == nil {
		return nil // a migration before the list's rewrites records; the list's own builds it
	}
	want := d.LastUpdatedAt != nil && d.RemovedAt == nil
	if !isNew && want == has(b, id) {
		return nil // a put would dirty a page, a delete cost a statement on PostgreSQL, for nothing
	}
	switch {
	case want:
		return b.Put(id, canBeLate)
	case !isNew:
		return b.Delete(id)
	}
	return nil
}

// recordCanBeLate reads from a dataset's record whether it can be late.
func recordCanBeLate(raw []byte) (bool, error) {
	raw, err := recordJSON(raw)
	if err != nil {
		return false, err
	}
	if !bytes.Contains(raw, hasUpdate) {
		return false, nil
	}
	var r struct {
		LastUpdatedAt *time.Time `json:"lastUpdatedAt"`
		RemovedAt     *time.Time `json:"removedAt"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return false, err
	}
	return r.LastUpdatedAt != nil && r.RemovedAt == nil, nil
}

// freshnessInput reads what a dataset's freshness depends on from its
// record raw (nil: it is gone) and passes it to fn when it can be late.
func freshnessInput(tx kvTx, id string, raw []byte, fn func(d *quarry.Dataset, set, inferred *quarry.FreshnessPolicy) error) error {
	if raw == nil {
		return nil
	}
	raw, err := recordJSON(raw)
	if err != nil {
		return fmt.Errorf("decode dataset %s: %w", id, err)
	}
	if !bytes.Contains(raw, hasUpdate) {
		return nil // a dataset never seen to change cannot be late
	}
	var r alertDataset
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("decode dataset %s: %w", id, err)
	}
	if r.RemovedAt != nil || r.LastUpdatedAt == nil {
		return nil
	}
	d := &quarry.Dataset{ID: r.ID, Namespace: r.Namespace, Name: r.Name, Source: r.Source, LastUpdatedAt: r.LastUpdatedAt}
	d.Provided.Tags, d.Edited.Tags = r.Provided.Tags, r.Edited.Tags
	d.Edited.Deprecated = r.Edited.Deprecated // a deprecated dataset is late without alerting
	if r.DBT != nil {
		d.DBT = &quarry.DBTInfo{Freshness: r.DBT.Freshness, Tags: r.DBT.Tags, Deprecated: r.DBT.Deprecated}
	}
	var set, inferred *quarry.FreshnessPolicy
	if p := tx.Bucket(bucketPolicies).Get([]byte(id)); p != nil {
		set = new(quarry.FreshnessPolicy)
		if err := json.Unmarshal(p, set); err != nil {
			return fmt.Errorf("decode freshness policy of %s: %w", id, err)
		}
	}
	if p, ok := quarry.InferPolicy(changeTimes(tx.Bucket(bucketDataChanges).Cursor(), []byte(id), nil)); ok {
		inferred = &p
	}
	return fn(d, set, inferred)
}

// alertDataset is the part of a dataset record freshness depends on:
// decoding only these fields of 100k records is what keeps an evaluator's
// first pass short.
type alertDataset struct {
	ID        string `json:"id"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Source    string `json:"source"`
	Provided  struct {
		Tags []string `json:"tags"`
	} `json:"provided"`
	Edited struct {
		Tags       *[]string           `json:"tags"`
		Deprecated *quarry.Deprecation `json:"deprecated"`
	} `json:"edited"`
	LastUpdatedAt *time.Time `json:"lastUpdatedAt"`
	RemovedAt     *time.Time `json:"removedAt"`
	DBT           *struct {
		Freshness  *quarry.FreshnessPolicy `json:"freshness"`
		Tags       []string                `json:"tags"`
		Deprecated bool                    `json:"deprecated"`
	} `json:"dbt"`
}

// hasUpdate is in every record with a LastUpdatedAt, and in no other (a
// quote inside a JSON string is escaped).
var hasUpdate = []byte(`"lastUpdatedAt":`)

// EachLatestCheck calls fn with each latest check result of the datasets
// of ids (of every dataset when ids is nil), in one read transaction, and
// the identity of its dataset: Removed when the dataset is marked removed
// or gone. fn may keep what it is given.
func (s *Store) EachLatestCheck(ctx context.Context, ids []string, fn func(ds quarry.Identity, c *quarry.Check) error) error {
	n := 0
	defer func() {
		if n >= releaseAfter {
			s.releaseMapped() // resident.go
		}
	}()
	return s.view(func(tx kvTx) error {
		c := tx.Bucket(bucketChecks).Cursor()
		names := make(map[string]quarry.Identity) // of the datasets met
		each := func(k, v []byte) error {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			ch := new(quarry.Check)
			if err := json.Unmarshal(v, ch); err != nil {
				return fmt.Errorf("decode check %q: %w", k, err)
			}
			ds, ok := names[ch.DatasetID]
			if !ok {
				ds = quarry.Identity{Entity: quarry.EntityDataset, ID: ch.DatasetID, Removed: true}
				if id, err := datasetIdentity(tx, ch.DatasetID); err == nil { // not the whole record: its columns may be thousands
					ds = id
				}
				names[ch.DatasetID] = ds
			}
			return fn(ds, ch)
		}
		if ids == nil {
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if err := each(k, v); err != nil {
					return err
				}
			}
			return nil
		}
		for _, id := range ids {
			prefix := []byte(id)
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				if err := each(k, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// DatasetStatuses returns every dataset's freshness and check status as
// the alert evaluator last recorded them (unknown ones are absent).
func (s *Store) DatasetStatuses(ctx context.Context) (map[string]quarry.DatasetStatus, error) {
	out := make(map[string]quarry.DatasetStatus)
	err := s.view(func(tx kvTx) error {
		return tx.Bucket(bucketDatasetStatus).ForEach(func(k, v []byte) error {
			var ds quarry.DatasetStatus
			if err := json.Unmarshal(v, &ds); err != nil {
				return fmt.Errorf("decode status of %s: %w", k, err)
			}
			out[string(k)] = ds
			return nil
		})
	})
	return out, err
}

// RecordAlerts records what an evaluator pass at `at` found, in one
// transaction: each event's alert (open, or resolved), its history entry
// and, when its transition notifies, an outbox entry for each of webhooks
// (an event without a transition only updates the open alert's details);
// each dataset's new status (the zero status is unknown: removed); and a
// changelog record (OpStatus) for each dataset whose status or alerts
// changed. It sets each recorded event's Seq, in events. Nothing to record
// writes nothing.
func (s *Store) RecordAlerts(ctx context.Context, at time.Time, events []quarry.AlertEvent, statuses map[string]quarry.DatasetStatus, webhooks []string) error {
	if len(events) == 0 && len(statuses) == 0 {
		return nil
	}
	at = at.UTC()
	return s.bulk(ctx, func(tx kvTx) error { return recordAlerts(tx, at, events, statuses, webhooks) })
}

func recordAlerts(tx kvTx, now time.Time, events []quarry.AlertEvent, statuses map[string]quarry.DatasetStatus, webhooks []string) error {
	alerts, resolved := tx.Bucket(bucketAlerts), tx.Bucket(bucketAlertsResolved)
	hist, outbox := tx.Bucket(bucketAlertHistory), tx.Bucket(bucketAlertOutbox)
	touched := make(map[string]bool)
	sb := tx.Bucket(bucketDatasetStatus)
	// In key order: bbolt inserts into a node's sorted slice and splits it
	// only at commit, so tens of thousands of random inserts in one
	// transaction cost quadratic copying; sorted ones append.
	for _, id := range slices.Sorted(maps.Keys(statuses)) {
		var err error
		if st := statuses[id]; st == (quarry.DatasetStatus{}) {
			err = sb.Delete([]byte(id))
		} else {
			err = putJSON(sb, []byte(id), st)
		}
		if err != nil {
			return err
		}
		touched[id] = true
		if _, err := appendChange(tx, now, quarry.EntityDataset, id, quarry.OpStatus); err != nil {
			return err
		}
	}
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

func putDelivery(tx kvTx, alert []byte, d *quarry.Delivery) error {
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
	err := s.view(func(tx kvTx) error {
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
	err := s.view(func(tx kvTx) (err error) {
		out, err = newestFirstJSON[quarry.AlertEvent](tx.Bucket(bucketAlertHistory).Cursor(), append([]byte(key), 0), limit, "alert history of "+key)
		return err
	})
	return out, err
}

// Deliveries returns the state of the latest event of an alert sent to
// each webhook.
func (s *Store) Deliveries(ctx context.Context, key string) ([]quarry.Delivery, error) {
	var out []quarry.Delivery
	err := s.view(func(tx kvTx) (err error) {
		out, err = prefixJSON[quarry.Delivery](tx.Bucket(bucketAlertDeliveries).Cursor(), append([]byte(key), 0), "delivery")
		return err
	})
	return out, err
}

// DueDeliveries returns up to limit outbox entries due at now for the
// webhooks that want accepts (nil: every webhook), oldest first. A webhook
// hears of one alert's events in order: an entry waits while an earlier
// one for the same alert and webhook is in the outbox.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int, want func(webhook string) bool) ([]quarry.PendingDelivery, error) {
	var out []quarry.PendingDelivery
	err := s.view(func(tx kvTx) error {
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
			p := quarry.PendingDelivery{ID: binary.BigEndian.Uint64(k), Webhook: e.Webhook, Attempts: e.Attempts}
			if err := json.Unmarshal(raw, &p.Event); err != nil {
				return fmt.Errorf("decode alert event %s/%d: %w", e.Alert, e.Seq, err)
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

func getDelivery(tx kvTx, alert []byte, webhook string) (*quarry.Delivery, error) {
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
func (s *Store) RecordDelivery(ctx context.Context, p quarry.PendingDelivery, at time.Time, sendErr error, retryAt *time.Time) error {
	return s.update(ctx, func(tx kvTx) error {
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
	err := s.view(func(tx kvTx) error {
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
func changeTimes(c kvCursor, id []byte, out []time.Time) []time.Time {
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
	err := s.view(func(tx kvTx) error {
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
	err := s.view(func(tx kvTx) error {
		if raw := tx.Bucket(bucketDatasetStatus).Get([]byte(id)); raw != nil {
			return json.Unmarshal(raw, &ds)
		}
		return nil
	})
	return ds, err
}

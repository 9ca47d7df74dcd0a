package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store/storetest"
)

// What the alert evaluator reads: datasets that can be late (updated, not
// removed) with their policies, and every latest check result with its
// dataset's identity; all of them, or those of the ids given.
func TestAlertInputs(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	ids := mustUpsert(t, s, orders(1), orders(2), orders(3))
	now := time.Now().UTC().Truncate(time.Second)
	for i := 5; i >= 1; i-- { // daily loads: a policy can be learned
		if _, err := s.RecordDataChange(ctx, ids[0], now.Add(-time.Duration(i)*24*time.Hour), ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RecordDataChange(ctx, ids[2], now, ""); err != nil {
		t.Fatal(err)
	}
	set := &quarry.FreshnessPolicy{WarnAfter: time.Hour}
	if err := s.SetFreshnessPolicy(ctx, ids[2], set); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := s.PutCheck(ctx, quarry.Check{DatasetID: id, Name: "row_count", Status: quarry.CheckPass}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkRemoved(ctx, now, ids[2]); err != nil {
		t.Fatal(err)
	}

	type input struct {
		id            string
		set, inferred bool
	}
	freshness := func(ids []string) []input {
		t.Helper()
		var out []input
		err := s.EachFreshnessInput(ctx, ids, func(d *quarry.Dataset, set, inferred *quarry.FreshnessPolicy) error {
			if d.Name == "" || d.LastUpdatedAt == nil || len(d.Provided.Tags) != 1 {
				t.Errorf("dataset %+v: want its names, tags and last update", d)
			}
			out = append(out, input{d.ID, set != nil, inferred != nil})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// orders_2 was never updated, orders_3 is removed.
	if got, want := freshness(nil), []input{{ids[0], false, true}}; !slices.Equal(got, want) {
		t.Fatalf("all datasets: %v, want %v", got, want)
	}
	if got := freshness([]string{ids[1], ids[2], "no-such-id"}); len(got) != 0 {
		t.Fatalf("datasets that cannot be late: %v", got)
	}

	checks := func(ids []string) map[string]quarry.Identity {
		t.Helper()
		out := make(map[string]quarry.Identity)
		err := s.EachLatestCheck(ctx, ids, func(ds quarry.Identity, c *quarry.Check) error {
			if c.DatasetID != ds.ID || c.Name != "row_count" {
				t.Errorf("check %+v of %+v", c, ds)
			}
			out[ds.ID] = ds
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := checks(nil)
	if len(all) != 3 || all[ids[0]].Name != "shop.public.orders_1" || all[ids[0]].Removed || !all[ids[2]].Removed {
		t.Fatalf("checks of all datasets: %+v", all)
	}
	if got := checks([]string{ids[1]}); len(got) != 1 || got[ids[1]].Name != "shop.public.orders_2" {
		t.Fatalf("checks of orders_2: %+v", got)
	}
}

// RecordAlerts writes a pass in one transaction: the alerts, their history
// (numbering the events), an outbox entry per webhook for each transition
// that notifies, the statuses, one changelog record per dataset; and
// nothing when there is nothing to record.
func TestRecordAlerts(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	ids := mustUpsert(t, s, orders(1), orders(2))
	now := time.Now().UTC().Truncate(time.Second)
	before := lastSeq(t, s)
	if err := s.RecordAlerts(ctx, now, nil, nil, []string{"ops"}); err != nil || lastSeq(t, s) != before {
		t.Fatalf("recording nothing: %v, %d changelog records", err, lastSeq(t, s)-before)
	}
	alert := func(i int, level quarry.AlertLevel) quarry.Alert {
		return quarry.Alert{Key: quarry.CheckAlertKey(ids[i], "", "row_count"), Kind: quarry.AlertCheck, DatasetID: ids[i], Dataset: "d",
			Check: "row_count", Level: level, OpenedAt: now, ChangedAt: now}
	}
	events := []quarry.AlertEvent{
		{Transition: quarry.AlertOpened, At: now, Alert: alert(0, quarry.LevelError)},
		{Transition: quarry.AlertDeescalated, At: now, Alert: alert(1, quarry.LevelWarn)}, // no notification
	}
	statuses := map[string]quarry.DatasetStatus{ids[0]: {Health: quarry.CheckFail}, ids[1]: {Health: quarry.CheckWarn}}
	if err := s.RecordAlerts(ctx, now, events, statuses, []string{"ops", "slack"}); err != nil {
		t.Fatal(err)
	}
	if events[0].Seq == 0 || events[1].Seq == 0 || events[0].Seq == events[1].Seq {
		t.Fatalf("events not numbered: %d, %d", events[0].Seq, events[1].Seq)
	}
	if n := lastSeq(t, s) - before; n != 2 {
		t.Fatalf("%d changelog records, want one per dataset", n)
	}
	due, err := s.DueDeliveries(ctx, now, 100, nil)
	if err != nil || len(due) != 2 || due[0].Event.Alert.DatasetID != ids[0] || due[0].Webhook != "ops" || due[1].Webhook != "slack" {
		t.Fatalf("outbox: %+v, %v; want the opening for each webhook", due, err)
	}
	got, err := s.DatasetStatuses(ctx)
	if err != nil || len(got) != 2 || got[ids[0]].Health != quarry.CheckFail {
		t.Fatalf("statuses: %v, %v", got, err)
	}
	// The zero status is unknown: it is removed.
	if err := s.RecordAlerts(ctx, now, nil, map[string]quarry.DatasetStatus{ids[1]: {}}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.DatasetStatuses(ctx); err != nil || len(got) != 1 {
		t.Fatalf("statuses after one became unknown: %v, %v", got, err)
	}
}

// The evaluator's first pass reads the datasets that can be late from a
// list the writes keep, not from every record: through data changes,
// removals, restores, runs and dbt-less upserts, the list must name
// exactly the datasets a read of each record finds able to be late.
func TestFreshnessInputsFollowWrites(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	ids := mustUpsert(t, s, orders(1), orders(2), orders(3), orders(4))
	now := time.Now().UTC().Truncate(time.Second)
	all := func() []string { return append(slices.Clone(ids), lid("shop.public.a"), lid("shop.public.out")) }
	read := func(ids []string) []string {
		t.Helper()
		var out []string
		err := s.EachFreshnessInput(ctx, ids, func(d *quarry.Dataset, _, _ *quarry.FreshnessPolicy) error {
			out = append(out, d.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	check := func(step string, want ...string) {
		t.Helper()
		slices.Sort(want)
		listed, recorded := read(nil), read(all())
		if !slices.Equal(listed, recorded) || !slices.Equal(listed, want) {
			t.Fatalf("%s: read from the list %v, from the records %v; want %v", step, listed, recorded, want)
		}
		if list, err := s.CanBeLate(); err != nil || !slices.Equal(list, want) { // no stale entries
			t.Fatalf("%s: the list names %v (%v), want %v", step, list, err, want)
		}
	}
	check("new datasets")
	for _, id := range ids[:3] {
		if _, err := s.RecordDataChange(ctx, id, now.Add(-time.Hour), ""); err != nil {
			t.Fatal(err)
		}
	}
	check("data changes", ids[0], ids[1], ids[2])
	if err := s.MarkRemoved(ctx, now, ids[1], ids[3]); err != nil {
		t.Fatal(err)
	}
	check("removed", ids[0], ids[2])
	if _, err := s.RecordDataChange(ctx, ids[0], now, ""); err != nil { // already listed
		t.Fatal(err)
	}
	if err := s.Restore(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	check("restored", ids[0], ids[1], ids[2])
	if _, err := s.UpsertDatasets(ctx, []quarry.Dataset{orders(4)}); err != nil { // restores, never updated
		t.Fatal(err)
	}
	check("restored by an upsert", ids[0], ids[1], ids[2])
	mustApply(t, s, runEvent("j", run1, quarry.RunComplete, now, []string{"shop.public.a"}, []string{"shop.public.out"}))
	check("a run wrote a new dataset", ids[0], ids[1], ids[2], lid("shop.public.out"))
	if err := s.MarkRemoved(ctx, now, lid("shop.public.out"), ids[2]); err != nil {
		t.Fatal(err)
	}
	check("removed again", ids[0], ids[1])
}

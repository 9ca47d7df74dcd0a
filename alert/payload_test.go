package alert_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
)

var update = flag.Bool("update", false, "rewrite the payload goldens in testdata/")

// The payloads are what receivers parse: byte for byte what they were
// when the Slack message was built from maps (the goldens in testdata/
// were written by that code), and changed only on purpose, with -update.
func TestPayloads(t *testing.T) {
	check := func(t *testing.T, name string, got []byte) {
		t.Helper()
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
	for i, ev := range goldenEvents() {
		for _, format := range []string{quarry.WebhookSlack, quarry.WebhookJSON} {
			name := fmt.Sprintf("event%d.%s.json", i+1, format)
			t.Run(name, func(t *testing.T) {
				got, err := alert.Payload(format, &ev)
				if err != nil {
					t.Fatal(err)
				}
				check(t, name, got)
			})
		}
	}
	for _, n := range []int{3, 15, 16, 40} {
		name := fmt.Sprintf("digest%d.slack.json", n)
		t.Run(name, func(t *testing.T) {
			got, err := alert.DigestPayload(digestEvents(n))
			if err != nil {
				t.Fatal(err)
			}
			check(t, name, got)
		})
	}
}

// goldenEvents are the events the payload goldens were made from.
func goldenEvents() []quarry.AlertEvent {
	t0 := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	last := t0.Add(-26 * time.Hour)
	due := last.Add(24 * time.Hour)
	return []quarry.AlertEvent{
		{Seq: 1, Transition: quarry.AlertOpened, At: t0, Alert: quarry.Alert{
			Key: quarry.CheckAlertKey("d1", "user_id", "not_null"), Kind: quarry.AlertCheck, DatasetID: "d1", Namespace: "postgres://shop-db.internal:5432",
			Dataset: "shop.public.orders", Column: "user_id", Check: "not_null", Level: quarry.LevelError, Status: "FAIL",
			Message: "check user_id.not_null is FAIL (observed 3 <nulls> & more, expected 0): \"quoted\" ünïcode", OpenedAt: t0, ChangedAt: t0}},
		{Seq: 2, Transition: quarry.AlertEscalated, At: t0.Add(time.Hour), Alert: quarry.Alert{
			Key: quarry.FreshnessAlertKey("d2"), Kind: quarry.AlertFreshness, DatasetID: "d2", Namespace: "redshift://analytics.us-east-1:5439",
			Dataset: "analytics.marts.revenue", Level: quarry.LevelError, Status: "ERROR",
			Message:  "last updated 2026-11-21T07:30:00Z, due by 2026-11-22T07:30:00Z (learned from its update history)",
			OpenedAt: t0, ChangedAt: t0.Add(time.Hour), LastUpdatedAt: &last, ExpectedBy: &due, Inferred: true}},
		{Seq: 3, Transition: quarry.AlertOpened, At: t0, Alert: quarry.Alert{
			Key: quarry.FreshnessAlertKey("d3"), Kind: quarry.AlertFreshness, DatasetID: "d3", Namespace: "s3://finance",
			Dataset: "finance/revenue_export.csv", Level: quarry.LevelWarn, Status: "WARN", Message: "no update seen", OpenedAt: t0, ChangedAt: t0}},
		{Seq: 4, Transition: quarry.AlertResolved, At: t0.Add(26*time.Hour + 3*time.Minute + 7*time.Second + 400*time.Millisecond), Alert: quarry.Alert{
			Key: quarry.CheckAlertKey("d1", "", "row_count"), Kind: quarry.AlertCheck, DatasetID: "d1", Namespace: "postgres://shop-db.internal:5432",
			Dataset: "shop.public.orders", Check: "row_count", Level: quarry.LevelWarn, Status: "RESOLVED", Message: "check row_count is WARN",
			OpenedAt: t0, ChangedAt: t0.Add(26*time.Hour + 3*time.Minute + 7*time.Second + 400*time.Millisecond),
			ResolvedAt: ptr(t0.Add(26*time.Hour + 3*time.Minute + 7*time.Second + 400*time.Millisecond))}},
		{Seq: 5, Transition: quarry.AlertResolved, At: t0.Add(90 * time.Second), Alert: quarry.Alert{
			Key: quarry.FreshnessAlertKey("d4"), Kind: quarry.AlertFreshness, DatasetID: "d4", Namespace: "",
			Dataset: "no_namespace", Level: quarry.LevelError, Status: "RESOLVED", Message: "last updated 2026-11-22T09:30:00Z",
			OpenedAt: t0, ChangedAt: t0.Add(90 * time.Second), ResolvedAt: ptr(t0.Add(90 * time.Second))}},
	}
}

// digestEvents is n events for a digest: the golden events over and over,
// numbered.
func digestEvents(n int) []quarry.AlertEvent {
	base := goldenEvents()
	out := make([]quarry.AlertEvent, n)
	for i := range out {
		out[i] = base[i%len(base)]
		out[i].Seq = uint64(i + 1)
		out[i].Alert.Dataset = fmt.Sprintf("%s_%02d", out[i].Alert.Dataset, i)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

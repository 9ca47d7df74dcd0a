package alert_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/store/storetest"
)

// An alerter that runs again after another evaluated meanwhile (replicas
// hand the alerts' lease over) starts from what the store holds, not from
// what it knew: here the other resolved an alert, the check failed again,
// and the first must open it again.
func TestRunStartsFromTheStore(t *testing.T) {
	c := storetest.NewClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	cat := newCatalog(t, c.Now, 1)
	opts := &alert.Options{Now: c.Now, Logger: slog.New(slog.DiscardHandler), Interval: time.Hour}
	first, other := alert.New(cat, opts), alert.New(cat, opts)
	key := quarry.CheckAlertKey(cat.ids[0], "", "row_count")

	cat.check(t, 0, "row_count", quarry.CheckFail)
	if got := transitions(t, first); !slices.Equal(got, []string{"OPENED ERROR " + key}) {
		t.Fatalf("first pass: %v", got)
	}
	cat.check(t, 0, "row_count", quarry.CheckPass)
	if got := transitions(t, other); !slices.Equal(got, []string{"RESOLVED ERROR " + key}) {
		t.Fatalf("the other's pass: %v", got)
	}
	cat.check(t, 0, "row_count", quarry.CheckFail)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		first.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if got := cat.openAlerts(t); slices.Equal(got, []string{"ERROR " + key}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("open alerts %v: the alerter that ran again did not open the failing check's alert", cat.openAlerts(t))
		}
	}
}

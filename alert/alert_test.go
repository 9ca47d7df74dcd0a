package alert_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// openStore opens a store in a temporary directory, closed and verified at
// cleanup.
func openStore(tb testing.TB, now func() time.Time) *store.Store {
	tb.Helper()
	return storetest.MustOpen(tb, &store.Options{NoSync: true, Now: now})
}

// catalog is a store with datasets, all tagged nightly.
type catalog struct {
	*store.Store
	ids []string
}

func newCatalog(t *testing.T, now func() time.Time, n int) *catalog {
	t.Helper()
	s := openStore(t, now)
	var in []quarry.Dataset
	for i := range n {
		in = append(in, quarry.Dataset{Namespace: "postgres://shop-db.internal:5432", Name: fmt.Sprintf("shop.public.orders_%02d", i),
			Provided: quarry.Metadata{Tags: []string{"nightly"}}})
	}
	res, err := s.UpsertDatasets(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return &catalog{Store: s, ids: res.IDs}
}

func (c *catalog) check(t *testing.T, i int, name string, status quarry.CheckStatus) {
	t.Helper()
	if _, err := c.PutCheck(context.Background(), quarry.Check{DatasetID: c.ids[i], Name: name, Status: status}); err != nil {
		t.Fatal(err)
	}
}

func (c *catalog) updated(t *testing.T, i int, at time.Time) {
	t.Helper()
	if _, err := c.RecordDataChange(context.Background(), c.ids[i], at, ""); err != nil {
		t.Fatal(err)
	}
}

func (c *catalog) policy(t *testing.T, i int, p *quarry.FreshnessPolicy) {
	t.Helper()
	if err := c.SetFreshnessPolicy(context.Background(), c.ids[i], p); err != nil {
		t.Fatal(err)
	}
}

// openAlerts is the open alerts as "LEVEL key".
func (c *catalog) openAlerts(t *testing.T) []string {
	t.Helper()
	alerts, err := c.Alerts(context.Background(), ptr(true))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range alerts {
		out = append(out, string(a.Level)+" "+a.Key)
	}
	slices.Sort(out)
	return out
}

// transitions is a pass's transitions as "TRANSITION LEVEL key".
func transitions(t *testing.T, a *alert.Alerter) []string {
	t.Helper()
	pass, err := a.Evaluate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range pass.Transitions {
		if ev.Transition != "" {
			out = append(out, string(ev.Transition)+" "+string(ev.Alert.Level)+" "+ev.Alert.Key)
		}
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string { slices.Sort(s); return s }

// The evaluator reads everything once, then only the datasets the
// changelog names: after each change its state is what a full read
// derives (a new alerter, reading everything, finds nothing to record),
// and a pass that finds nothing changed writes nothing.
func TestEvaluatorCatchesUp(t *testing.T) {
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	cat := newCatalog(t, c.Now, 4)
	opts := &alert.Options{Now: c.Now, Logger: slog.New(slog.DiscardHandler),
		Defaults: []quarry.PolicyDefault{{Tag: "nightly", Policy: quarry.FreshnessPolicy{ErrorAfter: 48 * time.Hour}}}}
	a := alert.New(cat, opts)
	agrees := func(step string) {
		t.Helper()
		if got := transitions(t, alert.New(cat, opts)); len(got) != 0 {
			t.Fatalf("%s: an alerter reading everything records %v: the one catching up missed a change", step, got)
		}
	}
	fresh := func(i int) string { return quarry.FreshnessAlertKey(cat.ids[i]) }
	chk := func(i int, name string) string { return quarry.CheckAlertKey(cat.ids[i], "", name) }

	cat.check(t, 0, "row_count", quarry.CheckFail)
	cat.policy(t, 1, &quarry.FreshnessPolicy{WarnAfter: time.Hour, ErrorAfter: 6 * time.Hour})
	cat.updated(t, 1, c.Now())
	if got, want := transitions(t, a), sorted("OPENED ERROR "+chk(0, "row_count")); !slices.Equal(got, want) {
		t.Fatalf("first pass: %v, want %v", got, want)
	}
	agrees("first pass")

	seq, _ := cat.LastSeq(ctx)
	c.Add(30 * time.Minute)
	if got := transitions(t, a); len(got) != 0 {
		t.Fatalf("nothing changed: %v", got)
	}
	if after, _ := cat.LastSeq(ctx); after != seq {
		t.Fatalf("a pass that found nothing changed wrote %d changelog records", after-seq)
	}

	// Changes after the first pass: a policy set, data arriving, a check
	// on another dataset, the failing check passing.
	cat.check(t, 2, "not_null", quarry.CheckWarn)
	cat.updated(t, 3, c.Now().Add(-50*time.Hour)) // late by the config default
	c.Add(2 * time.Hour)
	if got, want := transitions(t, a), sorted("OPENED WARN "+fresh(1), "OPENED WARN "+chk(2, "not_null"), "OPENED ERROR "+fresh(3)); !slices.Equal(got, want) {
		t.Fatalf("after changes: %v, want %v", got, want)
	}
	agrees("after changes")

	cat.check(t, 0, "row_count", quarry.CheckPass)
	cat.updated(t, 1, c.Now())
	c.Add(time.Minute)
	if got, want := transitions(t, a), sorted("RESOLVED ERROR "+chk(0, "row_count"), "RESOLVED WARN "+fresh(1)); !slices.Equal(got, want) {
		t.Fatalf("after fixes: %v, want %v", got, want)
	}
	agrees("after fixes")

	// A removed dataset's alerts resolve and its status is forgotten; a
	// policy removed leaves the dataset to the default.
	if err := cat.MarkRemoved(ctx, c.Now(), cat.ids[2]); err != nil {
		t.Fatal(err)
	}
	cat.policy(t, 1, nil)
	c.Add(time.Minute)
	if got, want := transitions(t, a), sorted("RESOLVED WARN "+chk(2, "not_null")); !slices.Equal(got, want) {
		t.Fatalf("after removal: %v, want %v", got, want)
	}
	if st, err := cat.DatasetStatus(ctx, cat.ids[2]); err != nil || st != (quarry.DatasetStatus{}) {
		t.Fatalf("the removed dataset's status: %+v, %v", st, err)
	}
	agrees("after removal")
	if got, want := cat.openAlerts(t), sorted("ERROR "+fresh(3)); !slices.Equal(got, want) {
		t.Fatalf("open alerts %v, want %v", got, want)
	}
}

// pass.Datasets counts the datasets that can be late, pass.Checks the
// latest check results, however often they are reported again.
func TestEvaluatorCounts(t *testing.T) {
	c := storetest.NewClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	cat := newCatalog(t, c.Now, 3)
	a := alert.New(cat, &alert.Options{Now: c.Now})
	cat.updated(t, 0, c.Now())
	for round := range 3 {
		for _, name := range []string{"a", "b"} {
			cat.check(t, 1, name, quarry.CheckPass)
			cat.check(t, 2, name, quarry.CheckWarn)
		}
		pass, err := a.Evaluate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if pass.Datasets != 1 || pass.Checks != 4 || pass.Open != 2 {
			t.Fatalf("round %d: %+v, want 1 dataset, 4 checks, 2 open", round, pass)
		}
	}
}

// failing answers 503 to the first n requests, then 200, and keeps the
// time of each request as the alerter's clock said.
type failing struct {
	*httptest.Server
	mu   sync.Mutex
	n    int
	hits int
}

func newFailing(t *testing.T, n int) *failing {
	f := &failing{n: n}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.hits++
		if f.hits <= f.n {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *failing) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// Run sends an opening at once and retries a failing receiver as the
// backoff says: 10 s after the first failure, 20 s after the second. The
// test's clock is synctest's: no real time passes.
func TestRunRetriesWithBackoff(t *testing.T) {
	recv := newFailing(t, 2) // outside the bubble: its goroutines are not the test's
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		cat := newCatalog(t, nil, 1)
		cat.check(t, 0, "row_count", quarry.CheckFail)
		a := alert.New(cat, &alert.Options{
			Logger:   slog.New(slog.DiscardHandler),
			Webhooks: []quarry.Webhook{{Name: "ops", URL: recv.URL, Format: quarry.WebhookJSON}},
			Backoff:  10 * time.Second,
			// No idle connection outlives a request: a goroutine waiting
			// on the network would keep the bubble's clock from moving.
			Client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		})
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { a.Run(runCtx); close(done) }()
		defer func() { stop(); <-done }()

		delivery := func() quarry.Delivery {
			t.Helper()
			ds, err := cat.Deliveries(ctx, quarry.CheckAlertKey(cat.ids[0], "", "row_count"))
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries: %v, %v", ds, err)
			}
			return ds[0]
		}
		start := time.Now()
		for _, step := range []struct {
			at       time.Duration
			requests int
			status   quarry.DeliveryStatus
		}{
			{0, 1, quarry.DeliveryPending},                  // the first pass, at once: 503
			{9 * time.Second, 1, quarry.DeliveryPending},    // backing off
			{10 * time.Second, 2, quarry.DeliveryPending},   // the second try: 503
			{29 * time.Second, 2, quarry.DeliveryPending},   // backing off twice as long
			{30 * time.Second, 3, quarry.DeliveryDelivered}, // the third try
			{5 * time.Minute, 3, quarry.DeliveryDelivered},
		} {
			time.Sleep(start.Add(step.at).Sub(time.Now()))
			synctest.Wait()
			d := delivery()
			if n := recv.requests(); n != step.requests || d.Status != step.status || d.Attempts != step.requests {
				t.Fatalf("at %s: %d requests, delivery %+v; want %d, %s", step.at, n, d, step.requests, step.status)
			}
		}
	})
}

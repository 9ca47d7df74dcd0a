package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/alert"
	"github.com/quarrydata/quarry/graph"
	"github.com/quarrydata/quarry/store/storetest"
)

// receiver is a webhook endpoint that records what it is sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
	status int           // answered; 200 when zero
	got    chan struct{} // a token per request received
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{got: make(chan struct{}, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook body %q (%s): %v", raw, req.Header.Get("Content-Type"), err)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.bodies = append(r.bodies, body)
		select {
		case r.got <- struct{}{}:
		default:
		}
		if r.status != 0 {
			w.WriteHeader(r.status)
			io.WriteString(w, "upstream unhappy")
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.bodies...)
}

type transition struct {
	kind, dataset, check string
	transition           quarry.AlertTransition
	level                quarry.AlertLevel
}

// evaluate runs a pass and returns its transitions.
func evaluate(t *testing.T, a *alert.Alerter) []transition {
	t.Helper()
	pass, err := a.Evaluate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []transition
	for _, ev := range pass.Transitions {
		if ev.Transition != "" {
			out = append(out, transition{string(ev.Alert.Kind), ev.Alert.Dataset, ev.Alert.Check, ev.Transition, ev.Alert.Level})
		}
	}
	return out
}

func sameTransitions(t *testing.T, step string, got []transition, want ...transition) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: transitions %+v, want %+v", step, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: transitions %+v, want %+v", step, got, want)
		}
	}
}

const reportUpdate = `mutation($d: DatasetRefInput!, $at: Time) { reportDataUpdate(dataset: $d, at: $at) { lastUpdatedAt } }`

func ref(i int) map[string]any {
	return map[string]any{"namespace": "postgres://shop-db.internal", "name": orders(i)["name"]}
}

// Alerts open, escalate and resolve as the clock moves, for an explicit
// policy, a config default, an inferred policy and failing checks.
func TestAlerts(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	c := storetest.NewClock(t0)
	defaults := []quarry.PolicyDefault{{Tag: "nightly", Policy: quarry.FreshnessPolicy{WarnAfter: 3 * time.Hour}}}
	s := newServerAt(t, c.Now, graph.Limits{}, func(cfg *handlerConfig) { cfg.FreshnessDefaults = defaults })
	a := alert.New(s.store, &alert.Options{Now: c.Now, Defaults: defaults})
	nightly := orders(4)
	nightly["tags"] = []string{"nightly"}
	s.do(t, upsert, map[string]any{"input": []any{orders(1), orders(2), orders(3), nightly}}).ok(t)

	// orders_01: warn after 1h, error after 6h, updated now.
	s.do(t, `mutation($in: FreshnessPolicyInput!) { setFreshnessPolicy(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"dataset": ref(1), "warnAfter": "1h", "errorAfter": "6h"}}).ok(t)
	s.do(t, reportUpdate, map[string]any{"d": ref(1)}).ok(t)
	// orders_02: loaded daily for five days: late past 36h after the last.
	for i := 5; i >= 1; i-- {
		s.do(t, reportUpdate, map[string]any{"d": ref(2), "at": t0.Add(-time.Duration(i) * 24 * time.Hour)}).ok(t)
	}
	// orders_03: a failing check and a warning one.
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(3), "name": "row_count", "status": "FAIL", "observed": "0", "expected": "> 0"}}).ok(t)
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(3), "column": "user_id", "name": "not_null", "status": "WARN"}}).ok(t)
	// orders_04: tagged nightly, updated now; the default warns after 3h.
	s.do(t, reportUpdate, map[string]any{"d": ref(4)}).ok(t)

	sameTransitions(t, "now", evaluate(t, a),
		transition{"CHECK", "shop.public.orders_03", "row_count", quarry.AlertOpened, quarry.LevelError},
		transition{"CHECK", "shop.public.orders_03", "not_null", quarry.AlertOpened, quarry.LevelWarn})
	sameTransitions(t, "again", evaluate(t, a)) // nothing changed, nothing recorded

	c.Add(2 * time.Hour)
	sameTransitions(t, "2h", evaluate(t, a),
		transition{"FRESHNESS", "shop.public.orders_01", "", quarry.AlertOpened, quarry.LevelWarn})
	c.Add(5 * time.Hour) // 7h
	got := evaluate(t, a)
	sameTransitions(t, "7h", got,
		transition{"FRESHNESS", "shop.public.orders_01", "", quarry.AlertEscalated, quarry.LevelError},
		transition{"FRESHNESS", "shop.public.orders_04", "", quarry.AlertOpened, quarry.LevelWarn})
	c.Add(6 * time.Hour) // 13h: orders_02 was due at 12h
	sameTransitions(t, "13h", evaluate(t, a),
		transition{"FRESHNESS", "shop.public.orders_02", "", quarry.AlertOpened, quarry.LevelWarn})

	// Search knows the statuses: filter and facet on them.
	if err := s.index.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	const find = `query($f: SearchFilter) { search(query: "", filter: $f) { total hits { dataset { name } } facets { field buckets { value count } } } }`
	res := s.do(t, find, map[string]any{"f": map[string]any{"freshness": []string{"ERROR"}}}).ok(t)["search"].(map[string]any)
	if hits := res["hits"].([]any); res["total"] != float64(1) || hits[0].(map[string]any)["dataset"].(map[string]any)["name"] != "shop.public.orders_01" {
		t.Fatalf("search late datasets: %v", res)
	}
	res = s.do(t, find, map[string]any{"f": map[string]any{"health": []string{"FAIL"}}}).ok(t)["search"].(map[string]any)
	if res["total"] != float64(1) {
		t.Fatalf("search failing datasets: %v", res)
	}
	facets := map[string]map[string]float64{}
	for _, f := range s.do(t, find, nil).ok(t)["search"].(map[string]any)["facets"].([]any) {
		m := map[string]float64{}
		for _, b := range f.(map[string]any)["buckets"].([]any) {
			m[b.(map[string]any)["value"].(string)] = b.(map[string]any)["count"].(float64)
		}
		facets[f.(map[string]any)["field"].(string)] = m
	}
	if f := facets["freshness"]; len(f) != 2 || f["ERROR"] != 1 || f["WARN"] != 2 {
		t.Fatalf("freshness facet: %v", facets)
	}
	if h := facets["health"]; len(h) != 1 || h["FAIL"] != 1 {
		t.Fatalf("health facet: %v", facets)
	}
	s.do(t, find, map[string]any{"f": map[string]any{"freshness": []string{"UNKNOWN"}}}).oneError(t, "invalid", "filter.freshness")

	const fa = `query($s: [FreshnessStatus!]) { freshnessAlerts(status: $s) { dataset { name } status lastUpdatedAt expectedBy inferred openedAt alert { id level open } } }`
	late := s.do(t, fa, nil).ok(t)["freshnessAlerts"].([]any)
	if len(late) != 3 {
		t.Fatalf("freshnessAlerts: %v", late)
	}
	first, inferred := late[0].(map[string]any), late[2].(map[string]any)
	if first["dataset"].(map[string]any)["name"] != "shop.public.orders_01" || first["status"] != "ERROR" || first["inferred"] != false ||
		first["openedAt"] != t0.Add(2*time.Hour).Format(time.RFC3339) || first["expectedBy"] != t0.Add(time.Hour).Format(time.RFC3339) {
		t.Fatalf("worst first: %v", late)
	}
	if inferred["dataset"].(map[string]any)["name"] != "shop.public.orders_02" || inferred["status"] != "WARN" || inferred["inferred"] != true ||
		inferred["expectedBy"] != t0.Add(12*time.Hour).Format(time.RFC3339) || inferred["lastUpdatedAt"] != t0.Add(-24*time.Hour).Format(time.RFC3339) {
		t.Fatalf("the inferred one: %v", inferred)
	}
	if warn := s.do(t, fa, map[string]any{"s": []string{"WARN"}}).ok(t)["freshnessAlerts"].([]any); len(warn) != 2 {
		t.Fatalf("WARN only: %v", warn)
	}
	s.do(t, fa, map[string]any{"s": []string{"FRESH"}}).oneError(t, "invalid", "status[0]")

	// A data update resolves the late table; a passing result resolves the
	// failing check.
	s.do(t, reportUpdate, map[string]any{"d": ref(1)}).ok(t)
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(3), "name": "row_count", "status": "PASS"}}).ok(t)
	c.Add(time.Minute)
	sameTransitions(t, "after fixes", evaluate(t, a),
		transition{"FRESHNESS", "shop.public.orders_01", "", quarry.AlertResolved, quarry.LevelError},
		transition{"CHECK", "shop.public.orders_03", "row_count", quarry.AlertResolved, quarry.LevelError})

	const list = `query($open: Boolean) { alerts(open: $open) { id kind level status message open dataset { name } checkName column
		checkResult { status } openedAt resolvedAt ageSeconds history { transition level at } } }`
	open := s.do(t, list, map[string]any{"open": true}).ok(t)["alerts"].([]any)
	var kinds []string
	for _, x := range open {
		a := x.(map[string]any)
		kinds = append(kinds, a["kind"].(string)+" "+a["level"].(string)+" "+a["dataset"].(map[string]any)["name"].(string))
	}
	// All WARN: the longest open first (the check opened at 0h, orders_04
	// at 7h, orders_02 at 13h).
	want := []string{"CHECK WARN shop.public.orders_03", "FRESHNESS WARN shop.public.orders_04", "FRESHNESS WARN shop.public.orders_02"}
	if len(kinds) != 3 || kinds[0] != want[0] || kinds[1] != want[1] || kinds[2] != want[2] {
		t.Fatalf("open alerts %v, want %v", kinds, want)
	}
	chk := open[0].(map[string]any)
	if chk["checkName"] != "not_null" || chk["column"] != "user_id" || chk["checkResult"].(map[string]any)["status"] != "WARN" ||
		chk["ageSeconds"] != float64((13*time.Hour+time.Minute)/time.Second) {
		t.Fatalf("the check alert: %v", chk)
	}
	resolved := s.do(t, list, map[string]any{"open": false}).ok(t)["alerts"].([]any)
	if len(resolved) != 2 {
		t.Fatalf("resolved alerts: %v", resolved)
	}
	var late01 map[string]any
	for _, x := range resolved {
		if a := x.(map[string]any); a["kind"] == "FRESHNESS" {
			late01 = a
		}
	}
	h := late01["history"].([]any)
	if late01["open"] != false || late01["resolvedAt"] != t0.Add(13*time.Hour+time.Minute).Format(time.RFC3339) || len(h) != 3 ||
		h[0].(map[string]any)["transition"] != "RESOLVED" || h[1].(map[string]any)["transition"] != "ESCALATED" || h[2].(map[string]any)["transition"] != "OPENED" {
		t.Fatalf("the resolved freshness alert: %v", late01)
	}
	if all := s.do(t, list, nil).ok(t)["alerts"].([]any); len(all) != 5 {
		t.Fatalf("all alerts: %d", len(all))
	}
	d := s.do(t, `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_03") { alerts { checkName level } } }`, nil).ok(t)
	if da := d["dataset"].(map[string]any)["alerts"].([]any); len(da) != 1 || da[0].(map[string]any)["checkName"] != "not_null" {
		t.Fatalf("the dataset's open alerts: %v", da)
	}

	// A removed dataset's alerts resolve.
	id := s.do(t, `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_03") { id } }`, nil).ok(t)["dataset"].(map[string]any)["id"]
	s.do(t, `mutation($id: ID!) { markDatasetRemoved(id: $id) { id } }`, map[string]any{"id": id}).ok(t)
	sameTransitions(t, "removed", evaluate(t, a),
		transition{"CHECK", "shop.public.orders_03", "not_null", quarry.AlertResolved, quarry.LevelWarn})
}

// A webhook hears of one opened and one resolved event, in Slack's shape or
// as JSON; a failing one is retried with backoff, then marked failed,
// without holding writes back.
func TestAlertWebhooks(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	c := storetest.NewClock(t0)
	s := newServerAt(t, c.Now, graph.Limits{})
	slack, plain, broken := newReceiver(t), newReceiver(t), newReceiver(t)
	broken.status = http.StatusBadGateway
	a := alert.New(s.store, &alert.Options{Now: c.Now, MaxAttempts: 3, Backoff: time.Minute, Webhooks: []quarry.Webhook{
		{Name: "slack", URL: slack.URL, Format: quarry.WebhookSlack},
		{Name: "ops", URL: plain.URL, Format: quarry.WebhookJSON},
		{Name: "broken", URL: broken.URL, Format: quarry.WebhookJSON},
	}})
	deliver := func(wantDelivered, wantFailed int) {
		t.Helper()
		d, f, err := a.Deliver(context.Background())
		if err != nil || d != wantDelivered || f != wantFailed {
			t.Fatalf("deliver: %d delivered, %d failed, %v; want %d, %d", d, f, err, wantDelivered, wantFailed)
		}
	}
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": "row_count", "status": "FAIL", "message": "no rows"}}).ok(t)
	evaluate(t, a)
	deliver(2, 1)
	deliver(0, 0) // the broken one backs off a minute

	// While the broken receiver is retried, writes go on.
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": "row_count", "status": "PASS"}}).ok(t)
	c.Add(time.Minute)
	evaluate(t, a)
	// Due: the resolution for slack and ops, and the broken one's second
	// try of the opening (its resolution waits behind it).
	deliver(2, 1)
	c.Add(2 * time.Minute)
	deliver(0, 1) // third try of the opening: failed for good; the resolution is next
	c.Add(time.Second)
	deliver(0, 1)

	for _, r := range []*receiver{slack, plain} {
		if got := r.received(); len(got) != 2 {
			t.Fatalf("%s received %d events: %v", r.URL, len(got), got)
		}
	}
	sl := slack.received()
	for i, want := range []string{":red_circle: opened check: shop.public.orders_01 row_count", ":white_check_mark: resolved check: shop.public.orders_01 row_count"} {
		blocks, _ := sl[i]["blocks"].([]any)
		if sl[i]["text"] != want || len(blocks) != 1 {
			t.Fatalf("slack message %d: %v, want text %q", i, sl[i], want)
		}
	}
	js := plain.received()
	for i, want := range []string{"OPENED", "RESOLVED"} {
		al, _ := js[i]["alert"].(map[string]any)
		if js[i]["transition"] != want || al["kind"] != "CHECK" || al["check"] != "row_count" || al["dataset"] != "shop.public.orders_01" {
			t.Fatalf("json event %d: %v", i, js[i])
		}
	}
	if n := len(broken.received()); n != 4 {
		t.Fatalf("the broken receiver was tried %d times, want 3 for the opening and 1 so far for the resolution", n)
	}

	// The alert shows each webhook's last delivery.
	got := s.do(t, `{ alerts { open deliveries { webhook transition status attempts lastError nextAt } } }`, nil).ok(t)["alerts"].([]any)
	if len(got) != 1 {
		t.Fatalf("alerts: %v", got)
	}
	byName := map[string]map[string]any{}
	for _, x := range got[0].(map[string]any)["deliveries"].([]any) {
		byName[x.(map[string]any)["webhook"].(string)] = x.(map[string]any)
	}
	if d := byName["slack"]; d["status"] != "DELIVERED" || d["transition"] != "RESOLVED" || d["attempts"] != float64(1) || d["lastError"] != nil {
		t.Fatalf("slack delivery: %v", d)
	}
	if d := byName["broken"]; d["status"] != "PENDING" || d["transition"] != "RESOLVED" || d["attempts"] != float64(1) ||
		d["lastError"] != "HTTP 502: upstream unhappy" || d["nextAt"] != t0.Add(3*time.Minute+time.Second+time.Minute).Format(time.RFC3339) {
		t.Fatalf("broken delivery: %v", d)
	}
	c.Add(time.Minute)
	deliver(0, 1)
	c.Add(2 * time.Minute)
	deliver(0, 1)
	got = s.do(t, `{ alerts { deliveries { webhook status attempts lastError } } }`, nil).ok(t)["alerts"].([]any)
	for _, x := range got[0].(map[string]any)["deliveries"].([]any) {
		if d := x.(map[string]any); d["webhook"] == "broken" && (d["status"] != "FAILED" || d["attempts"] != float64(3)) {
			t.Fatalf("broken delivery after 3 attempts: %v", d)
		}
	}
	c.Add(time.Hour)
	deliver(0, 0) // nothing left
}

// A webhook that does not answer holds back neither writes nor the
// evaluator.
func TestAlertWebhookHangs(t *testing.T) {
	c := storetest.NewClock(time.Now().UTC())
	s := newServerAt(t, c.Now, graph.Limits{})
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(func() { close(release); hang.Close() })
	a := alert.New(s.store, &alert.Options{Now: c.Now, Webhooks: []quarry.Webhook{{Name: "hang", URL: hang.URL, Format: quarry.WebhookJSON}}})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": "row_count", "status": "FAIL"}}).ok(t)
	evaluate(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Deliver(ctx); close(done) }()
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": "row_count", "status": "PASS"}}).ok(t)
	sameTransitions(t, "while sending", evaluate(t, a),
		transition{"CHECK", "shop.public.orders_01", "row_count", quarry.AlertResolved, quarry.LevelError})
	cancel()
	<-done
}

// Each signal that a dataset's data changed moves lastUpdatedAt and is
// kept in its time series: a COMPLETE run that wrote it (reportRun), the
// dataQualityMetrics facet's lastUpdated (OpenLineage), reportDataUpdate.
// (Crawler-observed modification counters: crawler/postgres_test.go.) The
// newest clears a freshness alert.
func TestDataChangeSignals(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	c := storetest.NewClock(t0)
	s := newServerAt(t, c.Now, graph.Limits{})
	a := alert.New(s.store, &alert.Options{Now: c.Now})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	s.do(t, `mutation($in: FreshnessPolicyInput!) { setFreshnessPolicy(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"dataset": ref(1), "warnAfter": "1h"}}).ok(t)
	at := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	const read = `{ dataset(namespace: "postgres://shop-db.internal", name: "shop.public.orders_01") {
		lastUpdatedAt dataChanges { at signal } freshness { status } } }`
	check := func(step, lastUpdated string, signals ...string) map[string]any {
		t.Helper()
		d := s.do(t, read, nil).ok(t)["dataset"].(map[string]any)
		dc := d["dataChanges"].([]any)
		if d["lastUpdatedAt"] != lastUpdated || len(dc) != len(signals) {
			t.Fatalf("%s: %v", step, d)
		}
		for i, sig := range signals {
			if dc[i].(map[string]any)["signal"] != sig {
				t.Fatalf("%s: signals %v, want %v", step, dc, signals)
			}
		}
		return d
	}

	s.do(t, reportRun, map[string]any{"in": map[string]any{
		"job": map[string]any{"namespace": "cron://etl-1", "name": "load_orders"}, "state": "COMPLETE", "eventTime": at(-5 * time.Hour),
		"outputs": []any{ref(1)},
	}}).ok(t)
	check("a run wrote it", at(-5*time.Hour), "run")

	ev := fmt.Sprintf(`{"eventType": "RUNNING", "eventTime": %q, "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.9.0/integration/airflow",
		"schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
		"run": {"runId": "0190b5c1-2f2a-7d3e-8a1b-00000000a1e7"}, "job": {"namespace": "airflow://etl", "name": "check_orders"},
		"inputs": [{"namespace": "postgres://shop-db.internal", "name": "shop.public.orders_01",
			"inputFacets": {"dataQualityMetrics": {"_producer": "x", "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/DataQualityMetricsInputDatasetFacet.json",
				"rowCount": 1200, "lastUpdated": %q, "columnMetrics": {}}}}]}`, at(-time.Hour), at(-4*time.Hour))
	s.mustPost(t, []byte(ev))
	check("the metrics facet says", at(-4*time.Hour), "metric", "run")

	s.do(t, reportUpdate, map[string]any{"d": ref(1), "at": at(-3 * time.Hour)}).ok(t)
	if d := check("a tool says", at(-3*time.Hour), "manual", "metric", "run"); d["freshness"].(map[string]any)["status"] != "WARN" {
		t.Fatalf("three hours old, warn after one: %v", d)
	}
	sameTransitions(t, "late", evaluate(t, a), transition{"FRESHNESS", "shop.public.orders_01", "", quarry.AlertOpened, quarry.LevelWarn})
	s.do(t, reportUpdate, map[string]any{"d": ref(1)}).ok(t)
	sameTransitions(t, "updated", evaluate(t, a), transition{"FRESHNESS", "shop.public.orders_01", "", quarry.AlertResolved, quarry.LevelWarn})
}

// How the alerter reads a webhook's answer: a redirect is a failure (the
// POST would become a GET without its body), a Retry-After longer than the
// backoff is honoured, and while an older event is retried its failure
// shows, not the newer event queued behind it.
func TestAlertWebhookAnswers(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	c := storetest.NewClock(t0)
	s := newServerAt(t, c.Now, graph.Limits{})
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer moved.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer busy.Close()
	a := alert.New(s.store, &alert.Options{Now: c.Now, Backoff: time.Minute, Webhooks: []quarry.Webhook{
		{Name: "moved", URL: moved.URL, Format: quarry.WebhookJSON},
		{Name: "busy", URL: busy.URL, Format: quarry.WebhookSlack},
	}})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": "row_count", "status": "FAIL"}}).ok(t)
	evaluate(t, a)
	if d, f, err := a.Deliver(context.Background()); d != 0 || f != 2 || err != nil {
		t.Fatalf("deliver: %d delivered, %d failed, %v", d, f, err)
	}
	// The check passes: a resolution is queued behind the busy opening.
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": "row_count", "status": "PASS"}}).ok(t)
	c.Add(time.Minute)
	evaluate(t, a)
	got := s.do(t, `{ alerts { deliveries { webhook transition status attempts lastError nextAt } } }`, nil).ok(t)["alerts"].([]any)
	byName := map[string]map[string]any{}
	for _, x := range got[0].(map[string]any)["deliveries"].([]any) {
		byName[x.(map[string]any)["webhook"].(string)] = x.(map[string]any)
	}
	if d := byName["moved"]; d["status"] != "PENDING" || d["transition"] != "RESOLVED" || d["attempts"] != float64(0) {
		t.Fatalf("moved: the opening failed for good (a 302 is not retried), the resolution waits: %v", d)
	}
	if d := byName["busy"]; d["status"] != "PENDING" || d["transition"] != "OPENED" || d["attempts"] != float64(1) ||
		d["lastError"] != "HTTP 429" || d["nextAt"] != t0.Add(10*time.Minute).Format(time.RFC3339) {
		t.Fatalf("busy: the opening's failure shows, retried when the receiver asked: %v", d)
	}
}

// Many events due at once reach a Slack channel as one digest; a JSON
// webhook still gets one request per event.
func TestAlertWebhookDigest(t *testing.T) {
	c := storetest.NewClock(time.Now().UTC().Truncate(time.Second))
	s := newServerAt(t, c.Now, graph.Limits{})
	slack, plain := newReceiver(t), newReceiver(t)
	a := alert.New(s.store, &alert.Options{Now: c.Now, Webhooks: []quarry.Webhook{
		{Name: "slack", URL: slack.URL, Format: quarry.WebhookSlack},
		{Name: "ops", URL: plain.URL, Format: quarry.WebhookJSON},
	}})
	const n = 20
	var batch []any
	for i := 1; i <= n; i++ {
		batch = append(batch, orders(i))
	}
	s.do(t, upsert, map[string]any{"input": batch}).ok(t)
	for i := 1; i <= n; i++ {
		s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(i), "name": "row_count", "status": "FAIL"}}).ok(t)
	}
	if got := evaluate(t, a); len(got) != n {
		t.Fatalf("%d transitions, want %d", len(got), n)
	}
	if d, f, err := a.Deliver(context.Background()); d != 2*n || f != 0 || err != nil {
		t.Fatalf("deliver: %d delivered, %d failed, %v", d, f, err)
	}
	msgs := slack.received()
	if len(msgs) != 1 {
		t.Fatalf("slack received %d messages, want one digest", len(msgs))
	}
	text, _ := msgs[0]["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"].(string)
	if msgs[0]["text"] != ":bell: 20 alert events: 20 opened" || !strings.Contains(text, "shop.public.orders_01 row_count (postgres://shop-db.internal:5432)") ||
		!strings.Contains(text, "…and 5 more") {
		t.Fatalf("digest: %v", msgs[0])
	}
	if got := len(plain.received()); got != n {
		t.Fatalf("the JSON webhook received %d events, want %d", got, n)
	}
	// Every alert shows its event delivered to both.
	for _, x := range s.do(t, `{ alerts(open: true) { deliveries { webhook status } } }`, nil).ok(t)["alerts"].([]any) {
		for _, d := range x.(map[string]any)["deliveries"].([]any) {
			if d.(map[string]any)["status"] != "DELIVERED" {
				t.Fatalf("delivery %v", d)
			}
		}
	}
}

package graph_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
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

// A webhook URL is a secret (Slack's holds the token in its path): a failed
// delivery shows and logs why, never the URL.
func TestAlertWebhookErrorHidesURL(t *testing.T) {
	c := storetest.NewClock(time.Now().UTC().Truncate(time.Second))
	s := newServerAt(t, c.Now, graph.Limits{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hookURL := "http://" + ln.Addr().String() + "/services/T0/B0/S3CRET-TOKEN"
	ln.Close() // nothing listens: connection refused
	var logs syncBuffer
	a := alert.New(s.store, &alert.Options{Now: c.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Webhooks: []quarry.Webhook{{Name: "eng", URL: hookURL, Format: quarry.WebhookSlack}}})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": "row_count", "status": "FAIL"}}).ok(t)
	evaluate(t, a)
	if _, f, err := a.Deliver(context.Background()); err != nil || f != 1 {
		t.Fatalf("deliver: %d failed, %v", f, err)
	}
	got := s.do(t, `{ alerts { deliveries { webhook status lastError } } }`, nil).ok(t)["alerts"].([]any)
	d := got[0].(map[string]any)["deliveries"].([]any)[0].(map[string]any)
	if le, _ := d["lastError"].(string); le == "" || strings.Contains(le, "S3CRET") {
		t.Errorf("lastError %q: want the reason without the URL", le)
	}
	if strings.Contains(logs.String(), "S3CRET") {
		t.Errorf("the log shows the webhook URL:\n%s", logs.String())
	}
}

// A webhook that does not answer holds back its own deliveries only: the
// other webhook hears of every alert while the hanging request is still
// waiting. (A hanging webhook that held the other back would let it hear
// only after the client gave up on the hanging request: its handler would
// have returned by then.)
func TestAlertWebhookHangDelaysOnlyItself(t *testing.T) {
	c := storetest.NewClock(time.Now().UTC().Truncate(time.Second))
	s := newServerAt(t, c.Now, graph.Limits{})
	release := make(chan struct{})
	hangEnded := make(chan struct{})
	var once sync.Once
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer once.Do(func() { close(hangEnded) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hang.Close() })
	ok := newReceiver(t)
	a := alert.New(s.store, &alert.Options{Now: c.Now, Client: &http.Client{Timeout: 10 * time.Second}, Logger: slog.New(slog.DiscardHandler),
		Webhooks: []quarry.Webhook{
			{Name: "hang", URL: hang.URL, Format: quarry.WebhookJSON},
			{Name: "ok", URL: ok.URL, Format: quarry.WebhookJSON},
		}})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	for _, name := range []string{"a", "b", "c"} {
		s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": name, "status": "FAIL"}}).ok(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for len(ok.received()) < 3 {
		<-ok.got
	}
	select {
	case <-hangEnded:
		t.Fatalf("the healthy webhook heard of the 3 openings only once the hanging request ended: it was held back")
	default:
	}
}

// pass.Checks counts the latest check results, however often they are
// reported again.
func TestAlertPassCountsChecks(t *testing.T) {
	c := storetest.NewClock(time.Now().UTC().Truncate(time.Second))
	s := newServerAt(t, c.Now, graph.Limits{})
	a := alert.New(s.store, &alert.Options{Now: c.Now})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	for round := range 3 {
		for _, name := range []string{"a", "b", "c"} {
			s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": name, "status": "PASS"}}).ok(t)
		}
		pass, err := a.Evaluate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if pass.Checks != 3 {
			t.Fatalf("round %d: pass.Checks = %d, want 3", round, pass.Checks)
		}
	}
}

// Events queued for a webhook that the config no longer has end FAILED,
// not PENDING for ever, even when no webhook is left.
func TestAlertWebhookRemovedFromConfig(t *testing.T) {
	c := storetest.NewClock(time.Now().UTC().Truncate(time.Second))
	s := newServerAt(t, c.Now, graph.Limits{})
	before := alert.New(s.store, &alert.Options{Now: c.Now, Webhooks: []quarry.Webhook{{Name: "old", URL: "http://127.0.0.1:9/x", Format: quarry.WebhookJSON}}})
	s.do(t, upsert, map[string]any{"input": []any{orders(1)}}).ok(t)
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "name": "row_count", "status": "FAIL"}}).ok(t)
	evaluate(t, before)

	after := alert.New(s.store, &alert.Options{Now: c.Now, Logger: slog.New(slog.DiscardHandler)}) // restarted without webhooks
	if d, f, err := after.Deliver(context.Background()); d != 0 || f != 1 || err != nil {
		t.Fatalf("deliver: %d delivered, %d failed, %v; want the one queued for the old webhook failed", d, f, err)
	}
	got := s.do(t, `{ alerts { deliveries { webhook status } } }`, nil).ok(t)["alerts"].([]any)
	if status := got[0].(map[string]any)["deliveries"].([]any)[0].(map[string]any)["status"]; status != "FAILED" {
		t.Fatalf("delivery to a webhook no longer configured: %v, want FAILED", status)
	}
	c.Add(time.Hour)
	if d, f, err := after.Deliver(context.Background()); d != 0 || f != 0 || err != nil {
		t.Fatalf("deliver again: %d delivered, %d failed, %v; want nothing left", d, f, err)
	}
}

// Empty answers are empty lists, not errors.
func TestAlertsEmpty(t *testing.T) {
	s := newServer(t, graph.Limits{})
	d := s.do(t, `{ alerts { id } freshnessAlerts { openedAt } }`, nil).ok(t)
	if a, _ := d["alerts"].([]any); a == nil || len(a) != 0 {
		t.Fatalf("alerts: %v", d)
	}
	if a, _ := d["freshnessAlerts"].([]any); a == nil || len(a) != 0 {
		t.Fatalf("freshnessAlerts: %v", d)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Checks whose column and name join the same way are two alerts.
func TestAlertCheckKeysDoNotCollide(t *testing.T) {
	c := storetest.NewClock(time.Now().UTC().Truncate(time.Second))
	s := newServerAt(t, c.Now, graph.Limits{})
	a := alert.New(s.store, &alert.Options{Now: c.Now})
	d := orders(1)
	d["columns"] = []map[string]any{{"name": "a", "type": "int"}, {"name": "a/b", "type": "int"}}
	s.do(t, upsert, map[string]any{"input": []any{d}}).ok(t)
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "column": "a/b", "name": "c", "status": "FAIL"}}).ok(t)
	s.do(t, reportCheck, map[string]any{"in": map[string]any{"dataset": ref(1), "column": "a", "name": "b/c", "status": "WARN"}}).ok(t)
	if got := evaluate(t, a); len(got) != 2 {
		t.Fatalf("transitions %+v, want two openings", got)
	}
	if open := s.do(t, `{ alerts(open: true) { id column checkName } }`, nil).ok(t)["alerts"].([]any); len(open) != 2 {
		t.Fatalf("open alerts %v, want 2", open)
	}
}

package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// AlertStore is what the alerter needs of the store.
type AlertStore interface {
	EvaluateAlerts(ctx context.Context, o store.AlertOptions) (store.AlertPass, error)
	DueDeliveries(ctx context.Context, now time.Time, limit int, want func(webhook string) bool) ([]store.PendingDelivery, error)
	RecordDelivery(ctx context.Context, p store.PendingDelivery, at time.Time, sendErr error, retryAt *time.Time) error
}

// Alerter runs the alert evaluator on a schedule and sends alert events to
// webhooks. Evaluating and sending are separate loops, and each webhook has
// its own: a slow or failing webhook delays nothing but its own deliveries,
// and none holds back ingestion (each writes one short transaction when it
// has something to record).
type Alerter struct {
	Store    AlertStore
	Defaults []quarry.PolicyDefault
	Webhooks []quarry.Webhook
	Interval time.Duration    // between evaluator passes; 1 minute when zero
	Now      func() time.Time // time.Now when nil
	Client   *http.Client     // a client with a 10 s timeout when nil
	Log      *slog.Logger

	// Retries: an event is tried MaxAttempts times (default 5), waiting
	// Backoff (default 10 s) after the first failure and twice as long
	// after each next one, at most MaxBackoff (default 10 minutes).
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration

	mu    sync.Mutex
	kicks []chan struct{} // one per delivery loop, while Run runs
}

func (a *Alerter) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Evaluate runs one evaluator pass now.
func (a *Alerter) Evaluate(ctx context.Context) (store.AlertPass, error) {
	names := make([]string, len(a.Webhooks))
	for i, w := range a.Webhooks {
		names[i] = w.Name
	}
	pass, err := a.Store.EvaluateAlerts(ctx, store.AlertOptions{Now: a.now(), Defaults: a.Defaults, Webhooks: names})
	if err == nil && len(pass.Transitions) > 0 {
		a.mu.Lock()
		for _, k := range a.kicks {
			select {
			case k <- struct{}{}:
			default:
			}
		}
		a.mu.Unlock()
	}
	return pass, err
}

// Deliver makes one attempt at every delivery due now, the webhooks side
// by side, and returns how many were delivered and how many attempts
// failed.
func (a *Alerter) Deliver(ctx context.Context) (delivered, failed int, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, want := range a.queues() {
		wg.Go(func() {
			d, f, e := a.deliver(ctx, want)
			mu.Lock()
			defer mu.Unlock()
			delivered, failed = delivered+d, failed+f
			if err == nil {
				err = e
			}
		})
	}
	wg.Wait()
	return delivered, failed, err
}

// queues splits the outbox for delivery: each configured webhook's
// entries, and those of webhooks no longer configured (they fail).
func (a *Alerter) queues() []func(webhook string) bool {
	configured := make(map[string]bool, len(a.Webhooks))
	var out []func(string) bool
	for _, w := range a.Webhooks {
		configured[w.Name] = true
		out = append(out, func(name string) bool { return name == w.Name })
	}
	return append(out, func(name string) bool { return !configured[name] })
}

// deliver makes one attempt at every delivery due now that want accepts,
// in order.
func (a *Alerter) deliver(ctx context.Context, want func(webhook string) bool) (delivered, failed int, err error) {
	due, err := a.Store.DueDeliveries(ctx, a.now(), 100, want)
	if err != nil {
		return 0, 0, err
	}
	hooks := make(map[string]*quarry.Webhook, len(a.Webhooks))
	for i := range a.Webhooks {
		hooks[a.Webhooks[i].Name] = &a.Webhooks[i]
	}
	// Many events due at once for a Slack channel (a first start on a big
	// catalog, an outage of a shared upstream) go as one digest message:
	// a person reads one message, and Slack would rate-limit a hundred.
	var digestErr error
	digest := len(due) > digestAfter && hooks[due[0].Webhook] != nil && hooks[due[0].Webhook].Format == quarry.WebhookSlack
	if digest {
		events := make([]quarry.AlertEvent, len(due))
		for i := range due {
			events[i] = due[i].Event
		}
		digestErr = a.post(ctx, hooks[due[0].Webhook], quarry.SlackDigest(events))
	}
	for _, p := range due {
		var sendErr error
		var retryAt *time.Time
		w := hooks[p.Webhook]
		switch {
		case w == nil:
			sendErr = fmt.Errorf("webhook %q is no longer configured", p.Webhook)
		case digest:
			sendErr = digestErr
		default:
			sendErr = a.send(ctx, w, &p.Event)
		}
		if w != nil && sendErr != nil && retriable(sendErr) && p.Attempts+1 < a.maxAttempts() {
			wait := a.backoff(p.Attempts + 1)
			if se, ok := sendErr.(*statusError); ok && se.retryAfter > wait {
				wait = min(se.retryAfter, time.Hour) // the receiver asked for longer (429, 503)
			}
			at := a.now().Add(wait)
			retryAt = &at
		}
		if ctx.Err() != nil {
			return delivered, failed, ctx.Err() // shutting down: the attempt does not count
		}
		if err := a.Store.RecordDelivery(ctx, p, a.now(), sendErr, retryAt); err != nil {
			return delivered, failed, err
		}
		if sendErr != nil {
			failed++
			a.logger().Warn("alert webhook failed", "webhook", p.Webhook, "alert", p.Event.Alert.Key,
				"transition", p.Event.Transition, "attempt", p.Attempts+1, "retry", retryAt != nil, "err", sendErr)
		} else {
			delivered++
		}
	}
	return delivered, failed, nil
}

func (a *Alerter) maxAttempts() int {
	if a.MaxAttempts > 0 {
		return a.MaxAttempts
	}
	return 5
}

// backoff is the wait after the n-th failed attempt.
func (a *Alerter) backoff(n int) time.Duration {
	d, limit := a.Backoff, a.MaxBackoff
	if d <= 0 {
		d = 10 * time.Second
	}
	if limit <= 0 {
		limit = 10 * time.Minute
	}
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

func (a *Alerter) logger() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// statusError is a webhook's answer other than 2xx.
type statusError struct {
	code       int
	body       string
	retryAfter time.Duration // its Retry-After, in seconds; zero when absent
}

func (e *statusError) Error() string {
	if e.body == "" {
		return fmt.Sprintf("HTTP %d", e.code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.code, e.body)
}

// retriable reports whether trying again may help: network errors, 5xx,
// 408 and 429 may pass later; other 4xx (a revoked Slack hook answers 404
// or 410) will not.
func retriable(err error) bool {
	se, ok := err.(*statusError)
	return !ok || se.code >= 500 || se.code == http.StatusRequestTimeout || se.code == http.StatusTooManyRequests
}

// digestAfter is how many events due at once a Slack webhook gets one by
// one; more go as one digest.
const digestAfter = 10

func (a *Alerter) send(ctx context.Context, w *quarry.Webhook, ev *quarry.AlertEvent) error {
	body, err := w.Payload(ev)
	if err != nil {
		return err
	}
	return a.postBody(ctx, w, body)
}

// post sends a message as JSON.
func (a *Alerter) post(ctx context.Context, w *quarry.Webhook, msg any) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return a.postBody(ctx, w, body)
}

func (a *Alerter) postBody(ctx context.Context, w *quarry.Webhook, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL does not parse") // its error would quote it
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "quarry-alerts")
	client := a.Client
	if client == nil {
		client = &http.Client{
			Timeout: 10 * time.Second,
			// A redirect would turn the POST into a GET without its body,
			// and a 200 to that would count as delivered: a 3xx is a
			// failure to report instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		// A *url.Error's text quotes the URL, and a webhook URL is a
		// secret (Slack's token is its path): the delivery status and the
		// log get the reason only.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			return fmt.Errorf("%s webhook: %w", ue.Op, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection is reused
	if resp.StatusCode/100 != 2 {
		se := &statusError{code: resp.StatusCode, body: string(bytes.TrimSpace(snippet))}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			se.retryAfter = time.Duration(secs) * time.Second
		}
		return se
	}
	return nil
}

// Run evaluates at once and then every Interval, and sends deliveries as
// they come due, until ctx is done; it returns once all its loops stopped.
func (a *Alerter) Run(ctx context.Context) {
	interval := a.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	var delivering sync.WaitGroup
	defer delivering.Wait()
	a.mu.Lock()
	for _, want := range a.queues() {
		kick := make(chan struct{}, 1)
		a.kicks = append(a.kicks, kick)
		delivering.Go(func() { a.deliverLoop(ctx, want, kick) })
	}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.kicks = nil
		a.mu.Unlock()
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		start := time.Now()
		pass, err := a.Evaluate(ctx)
		if err != nil && ctx.Err() == nil {
			a.logger().Error("alert evaluation failed", "err", err)
		} else if err == nil {
			a.logger().Debug("alerts evaluated", "datasets", pass.Datasets, "checks", pass.Checks, "open", pass.Open,
				"transitions", len(pass.Transitions), "took", time.Since(start))
			for _, ev := range pass.Transitions {
				if ev.Transition != "" {
					a.logger().Info("alert "+string(ev.Transition), "kind", ev.Alert.Kind, "dataset", ev.Alert.Dataset,
						"check", ev.Alert.Check, "level", ev.Alert.Level, "message", ev.Alert.Message)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// deliverLoop sends the deliveries that want accepts as they come due.
func (a *Alerter) deliverLoop(ctx context.Context, want func(webhook string) bool, kick <-chan struct{}) {
	t := time.NewTicker(time.Second) // retries come due
	defer t.Stop()
	for {
		if _, _, err := a.deliver(ctx, want); err != nil && ctx.Err() == nil {
			a.logger().Error("alert delivery failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-t.C:
		}
	}
}

package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/quarrydata/quarry"
)

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
	var out []func(string) bool
	for _, name := range a.webhooks {
		out = append(out, func(w string) bool { return w == name })
	}
	return append(out, func(w string) bool { return a.hooks[w] == nil })
}

// deliver makes one attempt at every delivery due now that want accepts,
// in order.
func (a *Alerter) deliver(ctx context.Context, want func(webhook string) bool) (delivered, failed int, err error) {
	due, err := a.st.DueDeliveries(ctx, a.o.Now(), 100, want)
	if err != nil {
		return 0, 0, err
	}
	// Many events due at once for a Slack channel (a first start on a big
	// catalog, an outage of a shared upstream) go as one digest message:
	// a person reads one message, and Slack would rate-limit a hundred.
	var digestErr error
	digest := len(due) > digestAfter && a.hooks[due[0].Webhook] != nil && a.hooks[due[0].Webhook].Format == quarry.WebhookSlack
	if digest {
		if err := a.st.CheckLease(ctx); err != nil {
			return 0, 0, err // another replica delivers them
		}
		events := make([]quarry.AlertEvent, len(due))
		for i := range due {
			events[i] = due[i].Event
		}
		body, err := DigestPayload(events)
		if err == nil {
			err = a.post(ctx, a.hooks[due[0].Webhook], body)
		}
		digestErr = err
	}
	for _, p := range due {
		var sendErr error
		var retryAt *time.Time
		w := a.hooks[p.Webhook]
		switch {
		case w == nil:
			sendErr = fmt.Errorf("webhook %q is no longer configured", p.Webhook)
		case digest:
			sendErr = digestErr
		default:
			// A replica that lost the deliveries' lease must not send what
			// the new holder sends too (replicas; nil alone).
			if err := a.st.CheckLease(ctx); err != nil {
				return delivered, failed, err
			}
			sendErr = a.send(ctx, w, &p.Event)
		}
		if w != nil && sendErr != nil && retriable(sendErr) && p.Attempts+1 < a.o.MaxAttempts {
			wait := a.backoff(p.Attempts + 1)
			if se, ok := sendErr.(*statusError); ok && se.retryAfter > wait {
				wait = min(se.retryAfter, time.Hour) // the receiver asked for longer (429, 503)
			}
			at := a.o.Now().Add(wait)
			retryAt = &at
		}
		if ctx.Err() != nil {
			return delivered, failed, ctx.Err() // shutting down: the attempt does not count
		}
		if err := a.st.RecordDelivery(ctx, p, a.o.Now(), sendErr, retryAt); err != nil {
			return delivered, failed, err
		}
		if sendErr != nil {
			failed++
			a.log.Warn("alert webhook failed", "webhook", p.Webhook, "alert", p.Event.Alert.Key,
				"transition", p.Event.Transition, "attempt", p.Attempts+1, "retry", retryAt != nil, "err", sendErr)
		} else {
			delivered++
		}
	}
	return delivered, failed, nil
}

// backoff is the wait after the n-th failed attempt.
func (a *Alerter) backoff(n int) time.Duration {
	d, limit := a.o.Backoff, a.o.MaxBackoff
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
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
	body, err := Payload(w.Format, ev)
	if err != nil {
		return err
	}
	return a.post(ctx, w, body)
}

// post sends body, a JSON message, to w.
func (a *Alerter) post(ctx context.Context, w *quarry.Webhook, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("the webhook URL does not parse") // its error would quote it
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "quarry-alerts")
	resp, err := a.client.Do(req)
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

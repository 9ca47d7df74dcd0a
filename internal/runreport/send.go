package runreport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client posts events to a Quarry server's OpenLineage endpoint
// (POST /api/v1/lineage).
type Client struct {
	Server string       // the server's URL, e.g. http://quarry.internal:8080
	Token  string       // sent as a bearer token when set (a token with the ingest role)
	HTTP   *http.Client // nil means one with a 10 s timeout
}

// Rejected is the error of an event the server refused for what it is
// (400 and the like): sending it again cannot succeed, so it is dropped,
// not retried or spooled.
type Rejected struct {
	Status int
	Reason string
}

func (e *Rejected) Error() string {
	return fmt.Sprintf("the server refused the event (%d): %s", e.Status, e.Reason)
}

// Unauthorized is the error of an event the server refused for its
// token (401, 403): sending it again now cannot succeed, but it may once
// the token is fixed, so it is spooled, not retried or dropped.
type Unauthorized struct {
	Status int
	Reason string
}

func (e *Unauthorized) Error() string {
	return fmt.Sprintf("the server refused the token (%d): %s; set QUARRY_TOKEN (or --token) to a token with the ingest role", e.Status, e.Reason)
}

// Post sends one event once. A nil error means the server accepted it
// (201); a *Rejected error means it never will; any other error may pass.
func (c *Client) Post(ctx context.Context, ev []byte) error {
	url := strings.TrimRight(c.Server, "/") + "/api/v1/lineage"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(ev))
	if err != nil {
		return &Rejected{Reason: err.Error()} // a bad URL stays bad
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	reason := strings.TrimSpace(string(body))
	if reason == "" {
		reason = resp.Status
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return &Unauthorized{Status: resp.StatusCode, Reason: reason}
	}
	if retriable(resp.StatusCode) {
		return fmt.Errorf("%s: %s", resp.Status, reason)
	}
	return &Rejected{Status: resp.StatusCode, Reason: reason}
}

// retriable says whether an answer may change in a moment: the server is
// busy, down or full. The others but 401 and 403 say the event itself is
// wrong.
func retriable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

// Backoff is the wait before each retry: it starts at Backoff.Min and
// doubles up to Backoff.Max.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff is what Send waits between attempts.
var DefaultBackoff = Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second}

// Send posts an event, retrying what may pass with backoff until it is
// accepted, rejected or refused for its token, or the deadline comes (the
// error is then the last attempt's).
func (c *Client) Send(ctx context.Context, ev []byte, deadline time.Time, b Backoff) error {
	wait := b.Min
	for {
		actx, cancel := context.WithDeadline(ctx, deadline)
		err := c.Post(actx, ev)
		cancel()
		if err == nil {
			return nil
		}
		if _, ok := errors.AsType[*Rejected](err); ok {
			return err
		}
		if _, ok := errors.AsType[*Unauthorized](err); ok {
			return err
		}
		if time.Until(deadline) < wait || ctx.Err() != nil {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
		wait = min(2*wait, b.Max)
	}
}

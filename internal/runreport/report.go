package runreport

import (
	"context"
	"errors"
	"time"
)

// Reporter delivers a run's events: each delivery sends what the spool
// holds first, then the event, and spools the event when the server
// cannot take it by the deadline. Nothing it meets is an error for the
// wrapped command: it warns.
type Reporter struct {
	Client  *Client
	Spool   *Spool
	Backoff Backoff                          // zero means DefaultBackoff
	Warn    func(format string, args ...any) // nil means silent
}

// Deliver sends the spooled events, then ev, each retried until deadline
// (or ctx ends). When the spool cannot be sent, ev joins it untried: the
// server is down, and the spool keeps the events in order.
func (r *Reporter) Deliver(ctx context.Context, ev Event, deadline time.Time) {
	b := r.Backoff
	if b == (Backoff{}) {
		b = DefaultBackoff
	}
	res, err := r.Spool.Flush(ctx, r.Client, deadline, b)
	for _, d := range res.Dropped {
		r.warn("a spooled event was dropped: %v", d)
	}
	if res.Sent > 0 {
		r.warn("sent %d spooled event(s) to %s", res.Sent, r.Client.Server)
	}
	if err == nil {
		err = r.Client.Send(ctx, ev.JSON, deadline, b)
		if rej, ok := errors.AsType[*Rejected](err); ok {
			r.warn("the %s event of run %s was dropped: %v", ev.Type, ev.RunID, rej)
			return
		}
		if err == nil {
			return
		}
	}
	if perr := r.Spool.Put(ev); perr != nil {
		r.warn("could not report the %s event of run %s to %s (%v), nor spool it: %v", ev.Type, ev.RunID, r.Client.Server, err, perr)
		return
	}
	r.warn("could not report the %s event of run %s to %s (%v); spooled in %s for the next quarry run", ev.Type, ev.RunID, r.Client.Server, err, r.Spool.Dir)
}

func (r *Reporter) warn(format string, args ...any) {
	if r.Warn != nil {
		r.Warn(format, args...)
	}
}

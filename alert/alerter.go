package alert

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/quarrydata/quarry"
)

// Changelog is what the evaluator reads of the store's changelog.
type Changelog interface {
	quarry.ChangeReader
	LastSeq(ctx context.Context) (uint64, error)
}

// Inputs is what alerts derive from. Both read the datasets of ids, or
// every dataset when ids is nil.
type Inputs interface {
	// EachFreshnessInput passes each dataset that can be late (not
	// removed, seen to change) with the policy set on it and the one
	// inferred from its history (nil when none).
	EachFreshnessInput(ctx context.Context, ids []string, fn func(d *quarry.Dataset, set, inferred *quarry.FreshnessPolicy) error) error
	// EachLatestCheck passes each latest check result with its dataset's
	// identity (Removed when the dataset is removed or gone).
	EachLatestCheck(ctx context.Context, ids []string, fn func(ds quarry.Identity, c *quarry.Check) error) error
}

// Records is the evaluator's output as the store keeps it.
type Records interface {
	Alerts(ctx context.Context, open *bool) ([]quarry.Alert, error)
	DatasetStatuses(ctx context.Context) (map[string]quarry.DatasetStatus, error)
	// RecordAlerts records a pass in one transaction (events, statuses
	// and an outbox entry per webhook for each event that notifies) and
	// sets each recorded event's Seq.
	RecordAlerts(ctx context.Context, at time.Time, events []quarry.AlertEvent, statuses map[string]quarry.DatasetStatus, webhooks []string) error
}

// Outbox is the queue of alert events to send to webhooks.
type Outbox interface {
	// DueDeliveries returns up to limit entries due at now for the
	// webhooks want accepts, oldest first, one alert's events in order.
	DueDeliveries(ctx context.Context, now time.Time, limit int, want func(webhook string) bool) ([]quarry.PendingDelivery, error)
	// RecordDelivery records an attempt: sendErr nil is delivered; with
	// retryAt it is tried again then; else it has failed for good.
	RecordDelivery(ctx context.Context, p quarry.PendingDelivery, at time.Time, sendErr error, retryAt *time.Time) error
	// CheckLease fails when ctx's singleton work (replicas) has lost its
	// lease to another replica, which delivers from then on; nil alone.
	CheckLease(ctx context.Context) error
}

// Store is what an Alerter reads and writes of the store.
type Store interface {
	Changelog
	Inputs
	Records
	Outbox
}

// Options configure an Alerter. A nil *Options, and zero values, mean the
// defaults.
type Options struct {
	Defaults []quarry.PolicyDefault // freshness defaults from the config
	Webhooks []quarry.Webhook       // where transitions are sent

	Interval time.Duration    // between evaluator passes; 1 minute when zero
	Now      func() time.Time // time.Now when nil; tests inject a clock
	Client   *http.Client     // a client with a 10 s timeout that follows no redirect when nil
	// Dial makes the default client's connections from its dialer: the
	// server passes one that checks auth.outbound.allow at connect time.
	// Nil dials as net/http does.
	Dial   func(*net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error)
	Logger *slog.Logger // slog.Default() when nil

	// Retries: an event is tried MaxAttempts times (default 5), waiting
	// Backoff (default 10 s) after the first failure and twice as long
	// after each next one, at most MaxBackoff (default 10 minutes).
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
}

// Alerter runs the alert evaluator on a schedule and sends alert events to
// webhooks. Evaluating and sending are separate loops, and each webhook has
// its own: a slow or failing webhook delays nothing but its own deliveries,
// and none holds back ingestion (each writes one short transaction when it
// has something to record).
type Alerter struct {
	st       Store
	o        Options
	webhooks []string                   // the names of o.Webhooks
	hooks    map[string]*quarry.Webhook // by name
	log      *slog.Logger
	client   *http.Client

	eval evaluator

	mu    sync.Mutex
	kicks []chan struct{} // one per delivery loop, while Run runs
}

// New returns an Alerter over st. It reads nothing until the first pass.
func New(st Store, opts *Options) *Alerter {
	var o Options
	if opts != nil {
		o = *opts
	}
	a := &Alerter{st: st, o: o, log: o.Logger, client: o.Client, hooks: make(map[string]*quarry.Webhook, len(o.Webhooks))}
	a.o.Webhooks = append([]quarry.Webhook(nil), o.Webhooks...)
	for i := range a.o.Webhooks {
		w := &a.o.Webhooks[i]
		a.webhooks = append(a.webhooks, w.Name)
		a.hooks[w.Name] = w
	}
	if a.o.Interval <= 0 {
		a.o.Interval = time.Minute
	}
	if a.o.Now == nil {
		a.o.Now = time.Now
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.client == nil {
		a.client = &http.Client{
			Timeout: 10 * time.Second,
			// A redirect would turn the POST into a GET without its body,
			// and a 200 to that would count as delivered: a 3xx is a
			// failure to report instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		if a.o.Dial != nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.Proxy = nil // a proxy would be the address checked, not the webhook's
			t.DialContext = a.o.Dial(&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second})
			a.client.Transport = t
		}
	}
	if a.o.MaxAttempts <= 0 {
		a.o.MaxAttempts = 5
	}
	if a.o.Backoff <= 0 {
		a.o.Backoff = 10 * time.Second
	}
	if a.o.MaxBackoff <= 0 {
		a.o.MaxBackoff = 10 * time.Minute
	}
	return a
}

// Pass sums up an evaluator pass.
type Pass struct {
	Datasets    int // datasets looked at: those that can be late
	Checks      int // latest check results looked at
	Open        int // alerts open after the pass
	Transitions []quarry.AlertEvent
}

// Evaluate runs one evaluator pass now and wakes the delivery loops when
// it queued something. Passes are serialized; a pass that finds nothing
// changed writes nothing.
func (a *Alerter) Evaluate(ctx context.Context) (Pass, error) {
	pass, err := a.eval.pass(ctx, a.st, a.o.Now().UTC(), a.o.Defaults, a.webhooks)
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

// Run evaluates at once and then every Interval, and sends deliveries as
// they come due, until ctx is done; it returns once all its loops stopped.
func (a *Alerter) Run(ctx context.Context) {
	// Another process may have evaluated since this one last ran (a
	// replica that held the alerts' lease meanwhile): the first pass
	// reads the open alerts and statuses from the store again.
	a.eval.mu.Lock()
	a.eval.loaded = false
	a.eval.mu.Unlock()
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
	t := time.NewTicker(a.o.Interval)
	defer t.Stop()
	for {
		start := time.Now()
		pass, err := a.Evaluate(ctx)
		if err != nil && ctx.Err() == nil {
			a.log.Error("alert evaluation failed", "err", err)
		} else if err == nil {
			a.log.Debug("alerts evaluated", "datasets", pass.Datasets, "checks", pass.Checks, "open", pass.Open,
				"transitions", len(pass.Transitions), "took", time.Since(start))
			for _, ev := range pass.Transitions {
				if ev.Transition != "" {
					a.log.Info("alert "+string(ev.Transition), "kind", ev.Alert.Kind, "dataset", ev.Alert.Dataset,
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
			a.log.Error("alert delivery failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-t.C:
		}
	}
}

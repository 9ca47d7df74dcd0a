package crawler

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/quarrydata/quarry"
)

// ServiceStore is what the crawl service needs of the store.
type ServiceStore interface {
	Store
	PutSource(ctx context.Context, src quarry.Source) (*quarry.Source, error)
	Source(ctx context.Context, name string) (*quarry.Source, error)
	Sources(ctx context.Context) ([]quarry.Source, error)
	PutCrawlRun(ctx context.Context, run quarry.CrawlRun) error
	CrawlRuns(ctx context.Context, source string, limit int) ([]quarry.CrawlRun, error)
}

// Service crawls registered sources, on demand and on their schedules, one
// crawl per source at a time, and records every run.
type Service struct {
	// Crawls started with Start run under base, which Run cancels when it
	// returns: they outlive the request that started them, not the
	// server.
	base   context.Context
	cancel context.CancelFunc
	store  ServiceStore
	log    *slog.Logger
	now    func() time.Time
	getenv func(string) string
	policy SourcePolicy
	single func(ctx context.Context, task string, fn func(context.Context))
	leases Leases // nil: this process is the only one crawling

	mu      sync.Mutex
	running map[string]*quarry.CrawlRun
	wg      sync.WaitGroup
	kick    chan struct{}
}

// ServiceOptions configure a Service. A nil *ServiceOptions, and nil
// fields, take the defaults.
type ServiceOptions struct {
	Logger *slog.Logger
	Now    func() time.Time
	Getenv func(string) string // reads dsnEnv variables; default os.Getenv
	Policy SourcePolicy
	// Singleton runs the schedule where it decides (on the replica that
	// holds task's lease: store.Store.RunSingleton) until ctx ends; nil
	// runs it here.
	Singleton func(ctx context.Context, task string, fn func(context.Context))
	// Leases, when several replicas share the store, make "one crawl per
	// source at a time" hold across them (see Leases); nil when this
	// process is the only one.
	Leases Leases
}

// Leases are the store's leases across replicas (store.Store's TryLease
// and LeaseHeld). A crawl holds its source's lease ("crawl <name>") while
// it runs: a second crawl of the source, on any replica, is a conflict;
// its writes are refused once the lease is lost to another replica; and
// a run recorded RUNNING whose lease nobody holds was left by a replica
// that died, and is closed as abandoned by the next replica that looks
// (Running, a crawl of the source, the schedule's holder).
type Leases interface {
	// TryLease takes task's lease if nobody holds it: the work's context
	// (derived from ctx, cancelled when the lease is lost) and release;
	// ok is false when another replica holds it.
	TryLease(ctx context.Context, task string) (lctx context.Context, release func(), ok bool, err error)
	// LeaseHeld reports whether a replica holds task's lease.
	LeaseHeld(ctx context.Context, task string) (bool, error)
}

// crawlLease is the lease a crawl of the source holds (Leases).
func crawlLease(source string) string { return "crawl " + source }

// SourcePolicy is what the server's operator allows the crawls of
// registered sources. Zero fields take the defaults.
type SourcePolicy struct {
	// ConnectTimeout, QueryTimeout and Timeout bound each crawl (see
	// Options); zero means Options' defaults.
	ConnectTimeout, QueryTimeout, Timeout time.Duration
	// AllowLocalFiles lets sources' DSNs read the server's files and reach
	// its Unix sockets (see Options).
	AllowLocalFiles bool
	// DSNEnvPrefix is how the environment variables a source's dsnEnv may
	// name begin, so that registering a source cannot read the rest of the
	// server's environment. Empty means DefaultDSNEnvPrefix.
	DSNEnvPrefix string
	// NoQueryText keeps no statement text in usage (see
	// Options.NoQueryText): config crawl.queryText: false.
	NoQueryText bool
	// Dial restricts where crawls may connect (see Options.Dial).
	Dial func(*net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultDSNEnvPrefix begins the names of the environment variables that
// sources' dsnEnv may name, unless SourcePolicy says otherwise.
const DefaultDSNEnvPrefix = "QUARRY_SOURCE_"

// NewService returns a crawl service over the store.
func NewService(st ServiceStore, opts *ServiceOptions) *Service {
	var o ServiceOptions
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Policy.DSNEnvPrefix == "" {
		o.Policy.DSNEnvPrefix = DefaultDSNEnvPrefix
	}
	base, cancel := context.WithCancel(context.Background())
	return &Service{base: base, cancel: cancel, store: st, log: o.Logger, now: o.Now, getenv: o.Getenv, policy: o.Policy, single: o.Singleton, leases: o.Leases,
		running: map[string]*quarry.CrawlRun{}, kick: make(chan struct{}, 1)}
}

// ParseSchedule checks a schedule: a cron expression ("0 * * * *") or a
// descriptor ("@hourly", "@every 30m"). "@every" is at least minEvery
// apart (a cron expression cannot be closer than a minute either): a
// crawl reads a whole catalog, and "@every 1ms" would crawl without pause.
func ParseSchedule(spec string) (cron.Schedule, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, quarry.Invalid("schedule", "%q is not a cron schedule like \"0 * * * *\", \"@hourly\" or \"@every 30m\": %v", spec, err)
	}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok && every.Delay < minEvery {
		return nil, quarry.Invalid("schedule", "%q is too frequent: \"@every\" wants at least %v", spec, minEvery)
	}
	return sched, nil
}

// minEvery is the shortest "@every" schedule.
const minEvery = time.Minute

// ResolveDSN returns the source's DSN, reading dsnEnv from the environment.
func (s *Service) ResolveDSN(src *quarry.Source) (string, error) {
	if src.DSNEnv != "" && !strings.HasPrefix(src.DSNEnv, s.policy.DSNEnvPrefix) {
		return "", quarry.Invalid("dsnEnv", "%q is not a source's variable: the server reads only environment variables "+
			"whose names begin with %s", quarry.Truncate(src.DSNEnv, 64), s.policy.DSNEnvPrefix)
	}
	if src.DSN != "" {
		return src.DSN, nil
	}
	dsn := s.getenv(src.DSNEnv)
	if dsn == "" {
		return "", quarry.Invalid("dsnEnv", "the environment variable %s is not set for the server", src.DSNEnv)
	}
	return dsn, nil
}

// Register validates a source (its kind, schedule and DSN), derives its
// namespace from the DSN unless given, and stores it. The scheduler picks
// up the change at once.
func (s *Service) Register(ctx context.Context, src quarry.Source) (*quarry.Source, error) {
	if err := src.Normalize(); err != nil {
		return nil, err
	}
	if src.Schedule != "" {
		if _, err := ParseSchedule(src.Schedule); err != nil {
			return nil, err
		}
	}
	for i, p := range append(append([]string{}, src.Include...), src.Exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			field := "include"
			if i >= len(src.Include) {
				field = "exclude"
			}
			return nil, quarry.Invalid(field, "%q is not a glob pattern: %v", p, err)
		}
	}
	dsn, err := s.ResolveDSN(&src)
	if err != nil {
		return nil, err
	}
	ns, err := namespace(src.Kind, dsn, s.policy.AllowLocalFiles, src.AllDatabases)
	if err != nil {
		return nil, err
	}
	if src.Namespace == "" {
		src.Namespace = ns
	}
	out, err := s.store.PutSource(ctx, src)
	if err != nil {
		return nil, err
	}
	s.Kick()
	return out, nil
}

// Namespace returns the namespace a DSN's datasets get.
func Namespace(kind quarry.SourceKind, dsn string) (string, error) {
	return namespace(kind, dsn, false, true)
}

func namespace(kind quarry.SourceKind, dsn string, allowLocalFiles, allDatabases bool) (string, error) {
	o := Options{AllowLocalFiles: allowLocalFiles, AllDatabases: allDatabases}
	if err := o.defaults(); err != nil {
		return "", err
	}
	switch kind {
	case quarry.SourcePostgres:
		cfg, err := pgConfig(dsn, &o)
		if err != nil {
			return "", err
		}
		return pgNamespace(cfg), nil
	case quarry.SourceMySQL:
		cfg, err := mysqlConfig(dsn, &o)
		if err != nil {
			return "", err
		}
		return mysqlNamespace(cfg), nil
	}
	return "", quarry.Invalid("kind", "crawling %s sources is not supported yet; POSTGRES and MYSQL are", kind)
}

// Running returns the run in progress for a source, or nil. With Leases
// it is the run in progress on any replica, read from the store; a run
// whose replica died is closed as abandoned here, and is not returned.
func (s *Service) Running(name string) *quarry.CrawlRun {
	s.mu.Lock()
	if r := s.running[name]; r != nil {
		c := *r
		s.mu.Unlock()
		return &c
	}
	s.mu.Unlock()
	if s.leases == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := s.runningElsewhere(ctx, name)
	if err != nil {
		s.log.Warn("reading the crawl runs of a source", "source", name, "err", err)
		return nil
	}
	return r
}

// runningElsewhere returns the source's latest run if it is RUNNING and a
// replica holds its lease; one nobody holds is closed as abandoned.
func (s *Service) runningElsewhere(ctx context.Context, name string) (*quarry.CrawlRun, error) {
	runs, err := s.store.CrawlRuns(ctx, name, 1)
	if err != nil || len(runs) == 0 || runs[0].Status != quarry.CrawlRunning {
		return nil, err
	}
	held, err := s.leases.LeaseHeld(ctx, crawlLease(name))
	if err != nil || held {
		return &runs[0], err
	}
	// Nobody crawls it: the replica that did died (a crawl that ends
	// records its run before it lets the lease go). Closed under the
	// lease, so that a crawl starting meanwhile is not taken for it.
	lctx, release, ok, err := s.leases.TryLease(ctx, crawlLease(name))
	if err != nil || !ok {
		return nil, err // a crawl began meanwhile: it is not this run
	}
	defer release()
	s.mu.Lock()
	local := s.running[name] != nil
	s.mu.Unlock()
	if !local {
		err = s.closeAbandoned(lctx, name)
	}
	return nil, err
}

// closeAbandoned marks the source's latest run failed if it is RUNNING;
// the caller holds the source's crawl lease, and runs no crawl of it.
func (s *Service) closeAbandoned(ctx context.Context, name string) error {
	runs, err := s.store.CrawlRuns(ctx, name, 1)
	if err != nil || len(runs) == 0 || runs[0].Status != quarry.CrawlRunning {
		return err
	}
	r := runs[0]
	end := s.now().UTC()
	r.FinishedAt, r.Status, r.Error = &end, quarry.CrawlFailed, "abandoned: the replica crawling the source stopped during the crawl"
	s.log.Warn("closing a crawl run another replica left running", "source", name, "started", r.StartedAt)
	return s.store.PutCrawlRun(ctx, r)
}

// Start begins a crawl of the named source in the background and returns
// its run as it starts, and a channel closed when it has ended. A source
// that is being crawled is a conflict. The crawl outlives ctx: it ends
// when it is done, or when Run returns.
func (s *Service) Start(ctx context.Context, name string) (*quarry.CrawlRun, <-chan struct{}, error) {
	src, dsn, run, wctx, release, err := s.begin(ctx, s.base, name)
	if err != nil {
		return nil, nil, err
	}
	c := *run // before the crawl starts writing run
	done := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		defer release()
		s.finish(wctx, src, dsn, run)
	}()
	return &c, done, nil
}

// StartFirst starts a crawl of the named source, as Start does, if it has
// never been crawled: a source declared in the config file is crawled
// when the server first starts with it, instead of one schedule period
// later (or never, without a schedule). It returns nil for a source that
// has a run already.
func (s *Service) StartFirst(ctx context.Context, name string) (*quarry.CrawlRun, error) {
	runs, err := s.store.CrawlRuns(ctx, name, 1)
	if err != nil || len(runs) > 0 {
		return nil, err
	}
	run, _, err := s.Start(ctx, name)
	if quarry.ErrorCode(err) == quarry.ECONFLICT {
		return nil, nil // the scheduler got there first
	}
	return run, err
}

// Crawl crawls the named source and returns the finished run. The error is
// for a crawl that could not start; a crawl that failed is a run with
// status FAILED.
func (s *Service) Crawl(ctx context.Context, name string) (*quarry.CrawlRun, error) {
	src, dsn, run, wctx, release, err := s.begin(ctx, ctx, name)
	if err != nil {
		return nil, err
	}
	defer release()
	s.finish(wctx, src, dsn, run)
	return run, nil
}

// begin records a run of the named source as RUNNING and returns what the
// crawl needs: the context it runs in, from work (with Leases, holding
// the source's crawl lease until release), and release, to call once its
// run is recorded.
func (s *Service) begin(ctx, work context.Context, name string) (src *quarry.Source, dsn string, run *quarry.CrawlRun, wctx context.Context, release func(), err error) {
	src, err = s.store.Source(ctx, name)
	if err != nil {
		return nil, "", nil, nil, nil, err
	}
	dsn, err = s.ResolveDSN(src)
	if err != nil {
		return nil, "", nil, nil, nil, err
	}
	busy := quarry.Errorf(quarry.ECONFLICT, "source %q is being crawled already", name)
	s.mu.Lock()
	if s.running[name] != nil {
		s.mu.Unlock()
		return nil, "", nil, nil, nil, busy
	}
	run = &quarry.CrawlRun{Source: name, StartedAt: s.now().UTC(), Status: quarry.CrawlRunning}
	s.running[name] = run
	s.mu.Unlock()
	fail := func(err error) (*quarry.Source, string, *quarry.CrawlRun, context.Context, func(), error) {
		s.mu.Lock()
		delete(s.running, name)
		s.mu.Unlock()
		return nil, "", nil, nil, nil, err
	}
	wctx, release = work, func() {}
	if s.leases != nil {
		var ok bool
		wctx, release, ok, err = s.leases.TryLease(work, crawlLease(name))
		switch {
		case err != nil:
			return fail(err)
		case !ok:
			return fail(quarry.Errorf(quarry.ECONFLICT, "source %q is being crawled already, by another replica", name))
		}
		// Holding the lease, a run still RUNNING is a dead replica's.
		if err := s.closeAbandoned(wctx, name); err != nil {
			release()
			return fail(err)
		}
	}
	if err := s.store.PutCrawlRun(wctx, *run); err != nil {
		release()
		return fail(err)
	}
	return src, dsn, run, wctx, release, nil
}

func (s *Service) finish(ctx context.Context, src *quarry.Source, dsn string, run *quarry.CrawlRun) {
	o := Options{
		Source: src.Name, Namespace: src.Namespace, Include: src.Include, Exclude: src.Exclude,
		AllDatabases: src.AllDatabases, Now: s.now,
		ConnectTimeout: s.policy.ConnectTimeout, QueryTimeout: s.policy.QueryTimeout, Timeout: s.policy.Timeout,
		AllowLocalFiles: s.policy.AllowLocalFiles, Dial: s.policy.Dial, NoQueryText: s.policy.NoQueryText,
	}
	s.log.Info("crawl started", "source", src.Name, "namespace", src.Namespace) // never the DSN, even masked
	res, err := Crawl(ctx, src.Kind, s.store, dsn, o)
	end := s.now().UTC()
	run.FinishedAt = &end
	if res != nil {
		run.Counts = res.CrawlCounts
	}
	if err != nil {
		// The run shows a failure to connect only by its category; the
		// detail goes to the log. Once access control exists (issue 19),
		// admins may be shown the detail too: ConnectError.Detail.
		run.Status, run.Error = quarry.CrawlFailed, scrub(PublicError(err), dsn)
		s.log.Warn("crawl failed", "source", src.Name, "err", scrub(err.Error(), dsn))
	} else {
		run.Status = quarry.CrawlSucceeded
		s.log.Info("crawl finished", "source", src.Name, "datasets", run.Counts.Datasets, "new", run.Counts.New,
			"changed", run.Counts.Changed, "removed", run.Counts.Removed, "duration", end.Sub(run.StartedAt).Round(time.Millisecond))
	}
	// The run's record outlives a cancelled context: record it regardless.
	if err := s.store.PutCrawlRun(context.WithoutCancel(ctx), *run); err != nil {
		s.log.Error("recording a crawl run", "source", src.Name, "err", err)
	}
	s.mu.Lock()
	delete(s.running, src.Name)
	s.mu.Unlock()
}

// Kick makes the scheduler re-read the sources now (after one was
// registered or changed).
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run crawls sources on their schedules until ctx ends, then cancels the
// crawls in progress, Start's included, and waits for them. A source's next crawl is due one interval after its
// last one started (at once, if that was missed while the server was down),
// else one interval from now. With ServiceOptions.Singleton the schedule
// runs only while it says so.
func (s *Service) Run(ctx context.Context) {
	if s.single != nil {
		s.single(ctx, "crawl schedule", s.schedule)
	} else {
		s.schedule(ctx)
	}
	s.cancel()
	s.wg.Wait()
}

// schedule starts the scheduled crawls until ctx ends.
func (s *Service) schedule(ctx context.Context) {
	type plan struct {
		schedule string
		next     time.Time
	}
	plans := map[string]plan{}
	for {
		sources, err := s.store.Sources(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("scheduler: reading sources", "err", err)
		}
		if s.leases != nil {
			// The schedule's holder (at takeover, and each pass) closes the
			// runs of replicas that died, of sources nobody crawls again.
			for _, src := range sources {
				s.Running(src.Name) // closes a run whose replica died
			}
		}
		now := s.now()
		wake := now.Add(time.Minute) // re-read sources at least this often
		seen := map[string]bool{}
		for _, src := range sources {
			sched, err := ParseSchedule(src.Schedule)
			if src.Schedule == "" || err != nil {
				continue
			}
			seen[src.Name] = true
			p, ok := plans[src.Name]
			if !ok || p.schedule != src.Schedule {
				p = plan{schedule: src.Schedule, next: sched.Next(now)}
				if runs, err := s.store.CrawlRuns(ctx, src.Name, 1); err == nil && len(runs) > 0 {
					p.next = sched.Next(runs[0].StartedAt)
				}
			}
			if !now.Before(p.next) {
				if s.Running(src.Name) == nil {
					if _, _, err := s.Start(ctx, src.Name); err != nil {
						s.log.Warn("scheduled crawl did not start", "source", src.Name, "err", err)
					}
				}
				p.next = sched.Next(now)
			}
			plans[src.Name] = p
			if p.next.Before(wake) {
				wake = p.next
			}
		}
		for name := range plans {
			if !seen[name] {
				delete(plans, name)
			}
		}
		t := time.NewTimer(max(wake.Sub(s.now()), 10*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.kick: // a source was registered or changed: re-read them
		case <-t.C:
		}
		t.Stop()
	}
}

// Wait waits for crawls started with Start to finish.
func (s *Service) Wait() { s.wg.Wait() }

// CloseInterrupted marks runs that a stopped server left RUNNING as
// failed. Call it at start, before any crawl can begin.
func (s *Service) CloseInterrupted(ctx context.Context) {
	ctx = context.WithoutCancel(ctx) // quick local bookkeeping that must happen
	sources, err := s.store.Sources(ctx)
	if err != nil {
		return
	}
	for _, src := range sources {
		runs, err := s.store.CrawlRuns(ctx, src.Name, 1)
		if err != nil || len(runs) == 0 || runs[0].Status != quarry.CrawlRunning || s.Running(src.Name) != nil {
			continue
		}
		r := runs[0]
		end := s.now().UTC()
		r.FinishedAt, r.Status, r.Error = &end, quarry.CrawlFailed, "interrupted: the server stopped during the crawl"
		if err := s.store.PutCrawlRun(ctx, r); err != nil {
			s.log.Error("closing an interrupted crawl run", "source", src.Name, "err", err)
		}
	}
}

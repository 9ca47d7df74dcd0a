package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/internal/machine"
	"github.com/quarrydata/quarry/store/storetest"
)

// BenchmarkReplicas measures the PostgreSQL store engine and its replicas
// against the bbolt default (issue 25) through real `quarry serve`
// processes, and prints the two tables. It runs once whatever b.N.
//
// Per operation, one bbolt server and one PostgreSQL server (replicas:
// true, as a replica set of one) on the same catalog of
// QUARRY_REPLICA_BENCH_N datasets (default 5,000, at least 5,000, in
// thousands; the scale benchmark's generator, scale_catalog_test.go):
//
//   - one upsertDatasets call of 1,000 new datasets (the last 5 calls of
//     the bbolt load; 5 more on PostgreSQL, into a catalog 5,000 larger),
//     ms;
//   - OpenLineage events/s, POST /api/v1/lineage, 1 and 32 clients, p99;
//   - search p50/p99, 1 client, the UI's Search operation (the scale
//     benchmark's query kinds, mixed);
//   - lineage read p50/p99, the UI's Lineage operation as the lineage
//     tab opens (both directions, depth 2) on datasets the events linked;
//   - start-up with the catalog and no search index: from exec to
//     /healthz no longer "rebuilding" and to a search finding the last
//     dataset (bbolt: its index removed; PostgreSQL: a new replica, whose
//     index is built from the database).
//
// Then 1, 2 and 3 replicas on the one PostgreSQL: searches/s with 8
// clients and OpenLineage events/s with 32 clients spread over the
// replicas, and the CPU each replica, PostgreSQL and the benchmark's own
// clients used meanwhile (from /proc), beside the machine's busy cores:
// what the 2 cores bound.
//
// The PostgreSQL cluster fsyncs its commits (pgtest's durable settings),
// as bbolt does. The catalog reaches PostgreSQL through `quarry migrate`
// from the bbolt server's data directory, so both engines hold the same
// one. QUARRY_REPLICA_BENCH_SECONDS is how long each load runs (default
// 5); QUARRY_REPLICA_BENCH_PROFILES, a directory, gets CPU profiles of the
// server over each ingest and search load of the per-operation table.
//
//	make bench-replicas
//	QUARRY_REPLICA_BENCH_N=100000 make bench-replicas
//
// The machine is shared: the load average is printed before and after,
// each request's CPU time (server and PostgreSQL) beside its latency, and
// the scaling rows say how much of the machine the run had and how long
// its threads waited for a core (schedstat).
//
// Measured on the shared 2-core machine (2026-12, load average 19-25 from
// other work, so every scaling row was CPU-bound: our threads used 0.3-1.4
// cores and 1.4-8 of them waited for one), 5,000 and 10,000 datasets:
// upsertDatasets of 1,000 1.3-1.7 s on bbolt, 1.0-1.8 s on PostgreSQL.
// OpenLineage with 1 client 864-1,308 events/s on bbolt (0.4-0.55 CPU-ms
// an event), 13-42 on PostgreSQL (12-30 CPU-ms of the server and 4-6 of
// PostgreSQL an event, 80-85% of the server's in bleve's segment merging,
// which took ~10% on bbolt: profiles of two runs); with 32 clients
// 844-1,759 against 69-182. Search p50 3-4 ms on bbolt, 10-12 ms on
// PostgreSQL: the page's datasets are read from the store, 8-10 CPU-ms of
// the server and 2.5-3 of PostgreSQL a search, against 3.2-4.4. Lineage
// reads alike (0.2-0.3 ms, in memory). Start-up without an index 21-44 s
// on bbolt, 33-61 s for a replica. With 1, 2, 3 replicas, 18-89, 59-145,
// 78-141 searches/s and 119-214, 129-216, 112-182 events/s: searches spread
// over the replicas, events did not (one writer cluster-wide), though on
// a machine this starved that cannot be told from its CPU.
func BenchmarkReplicas(b *testing.B) {
	r := newReplicaBench(b)
	r.run()
}

type replicaBench struct {
	tb     testing.TB
	n      int
	period time.Duration
	cat    *scaleCatalog
	jobs   []olJob
	pgCPU  func() time.Duration // PostgreSQL's processes' CPU time
	pgPids func() []int         // and its processes now

	profiles string // where CPU profiles go, "" for none

	ops     [][3]string // operation, bbolt, PostgreSQL
	scaling []string
	metrics []func()
}

func newReplicaBench(tb testing.TB) *replicaBench {
	r := &replicaBench{tb: tb, n: 5_000, period: 5 * time.Second, cat: newScaleCatalog(false)}
	if v, err := strconv.Atoi(os.Getenv("QUARRY_REPLICA_BENCH_N")); err == nil && v >= 5000 {
		r.n = v / 1000 * 1000
	}
	if v, err := strconv.Atoi(os.Getenv("QUARRY_REPLICA_BENCH_SECONDS")); err == nil && v > 0 {
		r.period = time.Duration(v) * time.Second
	}
	r.jobs = newOLJobs(r.cat)
	r.profiles = os.Getenv("QUARRY_REPLICA_BENCH_PROFILES")
	if r.profiles != "" {
		if err := os.MkdirAll(r.profiles, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	return r
}

// olJobs is how many jobs the benchmark's events report runs of: job j
// reads datasets j and j+olJobs and writes j+1, a chain through the first
// datasets that the lineage reads walk. Every engine ends with the same
// edges whatever number of events it took in.
const olJobs = 100

type olJob struct {
	name    string
	inputs  []map[string]string
	outputs []map[string]string
}

func newOLJobs(cat *scaleCatalog) []olJob {
	ref := func(i int) map[string]string {
		d := cat.dataset(i)
		return map[string]string{"namespace": d.Namespace, "name": d.Name}
	}
	jobs := make([]olJob, olJobs)
	for j := range jobs {
		jobs[j] = olJob{name: fmt.Sprintf("load_%03d", j), inputs: []map[string]string{ref(j), ref(j + olJobs)}, outputs: []map[string]string{ref(j + 1)}}
	}
	return jobs
}

// event is a COMPLETE run event of job j with a new run id.
func (r *replicaBench) event(j int) []byte {
	job := r.jobs[j%len(r.jobs)]
	b, _ := json.Marshal(map[string]any{
		"eventType": "COMPLETE", "eventTime": time.Now().UTC().Format(time.RFC3339Nano),
		"producer":  "https://example.com/replicas-bench",
		"schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
		"run":       map[string]any{"runId": uuid.NewString()},
		"job":       map[string]any{"namespace": "cron", "name": job.name},
		"inputs":    job.inputs, "outputs": job.outputs,
	})
	return b
}

func (r *replicaBench) run() {
	loadBefore := machine.LoadAvg()
	fmt.Printf("replicas benchmark: %d datasets, %s a load, %d CPUs, load average %s\n", r.n, r.period, runtime.NumCPU(), loadBefore)

	pg := pgtest.NewWith(r.tb, &pgtest.Options{Args: []string{"-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on", "-c", "max_connections=100"}})
	dsn := storetest.Schema(r.tb, pg.DSN("postgres"))
	postmaster := postmaster(r.tb, pg.Port)
	r.pgCPU = func() time.Duration { return treeCPU(postmaster) }
	r.pgPids = func() []int { return append(children(postmaster), postmaster) }

	// bbolt: the catalog through the server, the last 5 calls timed.
	data := r.tb.TempDir()
	p := r.start("--data", data)
	began := time.Now()
	for i := 0; i < r.n-5000; i += 1000 {
		r.upsert(p, i)
	}
	boltUpserts := r.upserts(p, r.n-5000)
	stored := time.Since(began)
	r.waitFound(p, r.n-1, 30*time.Minute)
	fmt.Printf("  bbolt: %d datasets stored in %s (%.0f/s), searchable in %s\n", r.n, stored.Round(100*time.Millisecond),
		float64(r.n)/stored.Seconds(), time.Since(began).Round(100*time.Millisecond))
	p.stop(r.tb)

	migrated := time.Now()
	if out, err := exec.Command(binary, "migrate", "--from", data, "--to", dsn).CombinedOutput(); err != nil {
		r.tb.Fatalf("quarry migrate: %v\n%s", err, out)
	}
	fmt.Printf("  quarry migrate to PostgreSQL: %s\n", time.Since(migrated).Round(100*time.Millisecond))
	if err := os.RemoveAll(filepath.Join(data, indexDir)); err != nil {
		r.tb.Fatal(err)
	}
	p, boltStart := r.startTimed("--data", data)
	bolt := r.perOperation(p, "bbolt", boltUpserts, boltStart)
	p.stop(r.tb)

	// PostgreSQL: a first replica builds its index from the database.
	config := filepath.Join(r.tb.TempDir(), "quarry.yaml")
	os.WriteFile(config, fmt.Appendf(nil, "store:\n  engine: postgres\n  dsn: '%s'\n  replicas: true\n", dsn), 0o600)
	replica := func() (*proc, startup) { return r.startTimed("--data", r.tb.TempDir(), "--config", config) }
	r1, pgStart := replica()
	pgUpserts := r.upserts(r1, r.n)
	postgres := r.perOperation(r1, "postgres", pgUpserts, pgStart)

	r.op("upsertDatasets, 1,000 datasets (5 calls: median, max)", func(o opRun) string {
		return fmt.Sprintf("%.0f ms, %.0f ms", quantileMS(o.upserts, 50), quantileMS(o.upserts, 100))
	}, bolt, postgres)
	r.op("OpenLineage, 1 client: events/s (p50 / p99)", func(o opRun) string { return o.ol1.String() }, bolt, postgres)
	r.op("OpenLineage, 32 clients: events/s (p50 / p99)", func(o opRun) string { return o.ol32.String() }, bolt, postgres)
	r.op("search, 1 client, UI Search (p50 / p99)", func(o opRun) string { return o.search.latency() }, bolt, postgres)
	r.op("lineage read, UI Lineage (p50 / p99)", func(o opRun) string { return o.lineage.latency() }, bolt, postgres)
	r.op(fmt.Sprintf("start-up with %d datasets, no index: /healthz ready, search finds the last", r.n), func(o opRun) string { return o.start.String() }, bolt, postgres)
	r.metric(bolt.ol32.rate, "bbolt-ol32-events/s")
	r.metric(postgres.ol32.rate, "pg-ol32-events/s")
	r.metric(bolt.search.p(99), "bbolt-search-p99-ms")
	r.metric(postgres.search.p(99), "pg-search-p99-ms")
	r.metric(float64(postgres.start.found.Milliseconds()), "pg-replica-start-ms")

	// 1, 2, 3 replicas on the one database.
	replicas := []*proc{r1}
	starts := []startup{pgStart}
	for k := 1; k <= 3; k++ {
		if k > 1 {
			p, st := replica()
			replicas = append(replicas, p)
			starts = append(starts, st)
			r.quiet(replicas...)
		}
		meter := r.meter(replicas)
		search := r.searches(replicas, 8)
		sc := meter()
		meter = r.meter(replicas)
		ol := r.ingest(replicas, 32)
		oc := meter()
		r.scaling = append(r.scaling, fmt.Sprintf("| %d | %.0f (p99 %.0f ms) | %s | %.0f (p99 %.0f ms) | %s |",
			k, search.rate, search.p(99), sc, ol.rate, ol.p(99), oc))
		r.metric(search.rate, fmt.Sprintf("searches/s-%dreplicas", k))
		r.metric(ol.rate, fmt.Sprintf("events/s-%dreplicas", k))
	}
	for _, p := range replicas {
		p.stop(r.tb)
	}

	fmt.Printf("\n| %d datasets | bbolt | PostgreSQL (one replica) |\n|---|---|---|\n", r.n)
	for _, o := range r.ops {
		fmt.Printf("| %s | %s | %s |\n", o[0], o[1], o[2])
	}
	fmt.Printf("\nreplica start-ups (while the others idle): %s\n", joinStartups(starts))
	fmt.Printf("\n| replicas | searches/s, 8 clients | CPU cores meanwhile | OpenLineage events/s, 32 clients | CPU cores meanwhile |\n|---|---|---|---|---|\n")
	for _, row := range r.scaling {
		fmt.Println(row)
	}
	fmt.Println("CPU cores used by each replica (r1 r2 r3), PostgreSQL (all its processes) and the benchmark's clients; how many of their threads waited for a core on average; the machine's busy cores of", runtime.NumCPU(), "(everyone's)")
	fmt.Printf("load average before %s, after %s\n", loadBefore, machine.LoadAvg())
	for _, m := range r.metrics {
		m()
	}
}

// opRun is what perOperation measured on one server.
type opRun struct {
	upserts    []time.Duration
	ol1, ol32  *load
	search     *load
	lineage    *load
	start      startup
	lineageIDs []string
}

// perOperation measures the per-operation rows on a server that holds the
// catalog: ingest first (the lineage reads need its edges), then reads once
// the server has settled.
func (r *replicaBench) perOperation(p *proc, engine string, upserts []time.Duration, st startup) opRun {
	o := opRun{upserts: upserts, start: st}
	r.quiet(p)
	profiled := func(name string, f func() *load) *load {
		stop := r.cpuProfile(p, engine+"-"+name)
		defer stop()
		return f()
	}
	o.ol1 = profiled("ol1", func() *load { return r.ingest([]*proc{p}, 1) })
	o.ol32 = profiled("ol32", func() *load { return r.ingest([]*proc{p}, 32) })
	ids := r.lineageIDs(p)
	r.quiet(p)
	o.search = profiled("search", func() *load { return r.searches([]*proc{p}, 1) })
	o.lineage = r.lineageReads(p, ids)
	return o
}

// start runs a server, serving Go profiles when they are asked for.
func (r *replicaBench) start(args ...string) *proc {
	var env []string
	if r.profiles != "" {
		env = []string{pprofEnv + "=127.0.0.1:0"}
	}
	return startWith(r.tb, binary, env, args...)
}

// cpuProfile fetches a CPU profile of the server over one load into
// QUARRY_REPLICA_BENCH_PROFILES, as the scale benchmark does.
func (r *replicaBench) cpuProfile(p *proc, name string) (stop func()) {
	if r.profiles == "" {
		return func() {}
	}
	return (&scaleBench{tb: r.tb, profiles: r.profiles}).cpuProfile(p, name, r.period+2*time.Second)
}

func (r *replicaBench) op(name string, f func(opRun) string, bolt, postgres opRun) {
	r.ops = append(r.ops, [3]string{name, f(bolt), f(postgres)})
}

// metric reports a number once the run is over (b.ReportMetric keeps the
// last value of each unit).
func (r *replicaBench) metric(v float64, unit string) {
	if b, ok := r.tb.(*testing.B); ok {
		r.metrics = append(r.metrics, func() { b.ReportMetric(v, unit) })
	}
}

// upsert stores datasets i to i+999 in one upsertDatasets call and
// returns how long the call took.
func (r *replicaBench) upsert(p *proc, i int) time.Duration {
	body := upsertBody(r.cat, i, i+1000)
	t0 := time.Now()
	if _, err := benchPost(p, body); err != nil {
		r.tb.Fatalf("upsertDatasets %d-%d: %v\n%s", i, i+999, err, tail(p.logs.String()))
	}
	return time.Since(t0)
}

// upserts times 5 calls of 1,000 new datasets from dataset i on.
func (r *replicaBench) upserts(p *proc, i int) []time.Duration {
	var out []time.Duration
	for k := range 5 {
		out = append(out, r.upsert(p, i+1000*k))
	}
	slices.Sort(out)
	return out
}

// startup is how long a server took from exec to listening, to /healthz
// no longer saying the index is rebuilding, and to a search that finds
// the catalog's last dataset.
type startup struct{ listen, ready, found time.Duration }

func (s startup) String() string {
	return fmt.Sprintf("%s (listening %s, healthz %s)", ms(s.found), ms(s.listen), ms(s.ready))
}

func joinStartups(s []startup) string {
	var parts []string
	for i, x := range s {
		parts = append(parts, fmt.Sprintf("r%d %s", i+1, x))
	}
	return strings.Join(parts, "; ")
}

func (r *replicaBench) startTimed(args ...string) (*proc, startup) {
	began := time.Now()
	p := r.start(args...)
	st := startup{listen: time.Since(began)}
	if err := searchReadyWithin(p, 30*time.Minute); err != nil {
		r.tb.Fatalf("%v\n%s", err, tail(p.logs.String()))
	}
	st.ready = time.Since(began)
	r.waitFound(p, r.n-1, 30*time.Minute)
	st.found = time.Since(began)
	fmt.Printf("  started %s: %s\n", strings.Join(args, " "), st)
	return p, st
}

// waitFound waits until the UI's search for dataset i's table finds it.
func (r *replicaBench) waitFound(p *proc, i int, d time.Duration) {
	name := r.cat.dataset(i).Name
	body, err := uiSearchBody(r.cat.dataset(i).table())
	if err != nil {
		r.tb.Fatal(err)
	}
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		out, err := benchPost(p, body)
		if err == nil && bytes.Contains(out, []byte(`"name":"`+name+`"`)) {
			return
		}
		if time.Now().After(deadline) {
			r.tb.Fatalf("search does not find %s after %s: %v\n%s", name, d, err, tail(p.logs.String()))
		}
	}
}

// quiet waits until the servers use less than a tenth of a core for 2 s
// (bleve's merges, a replica catching up), at most 2 minutes; it says so
// when they never did, since what follows then pays for their work.
func (r *replicaBench) quiet(ps ...*proc) {
	cpu := func() (t time.Duration) {
		for _, p := range ps {
			t += procCPU(p.cmd.Process.Pid)
		}
		return t
	}
	began := time.Now()
	last, calm := cpu(), 0
	for calm < 4 {
		if time.Since(began) > 2*time.Minute {
			fmt.Printf("  the servers still use CPU 2 min on (%.2f cores the last 0.5 s): measuring anyway\n", (cpu()-last).Seconds()/0.5)
			return
		}
		time.Sleep(500 * time.Millisecond)
		now := cpu()
		if now-last < 50*time.Millisecond {
			calm++
		} else {
			calm = 0
		}
		last = now
	}
	fmt.Printf("  quiet after %s\n", time.Since(began).Round(100*time.Millisecond))
}

// load is what clients measured over a period: requests answered and
// their latencies.
type load struct {
	mu    sync.Mutex
	lat   []time.Duration
	rate  float64 // answered a second
	cpuMS float64 // the servers' CPU time a request
	pgMS  float64 // PostgreSQL's
}

func (l *load) add(d time.Duration) {
	l.mu.Lock()
	l.lat = append(l.lat, d)
	l.mu.Unlock()
}

func (l *load) p(pct int) float64 { return quantileMS(l.lat, pct) }

func (l *load) latency() string {
	return fmt.Sprintf("%.1f / %.1f ms; %s", l.p(50), l.p(99), l.cpu())
}

func (l *load) String() string {
	return fmt.Sprintf("%.0f (%.1f / %.1f ms); %s", l.rate, l.p(50), l.p(99), l.cpu())
}

// cpu is the CPU time a request cost the server and PostgreSQL, which,
// unlike the latencies, the machine's other load hardly moves.
func (l *load) cpu() string { return fmt.Sprintf("CPU-ms %.2f + %.2f PostgreSQL", l.cpuMS, l.pgMS) }

// drive runs clients, client c on ps[c%len(ps)], each calling do until
// the period is over, and returns their latencies and rate. An error
// fails the benchmark.
func (r *replicaBench) drive(ps []*proc, clients int, do func(p *proc, c, i int) error) *load {
	l := &load{}
	var failed atomic.Bool
	cpu := func() (t time.Duration) {
		for _, p := range ps {
			t += procCPU(p.cmd.Process.Pid)
		}
		return t
	}
	cpu0, pg0 := cpu(), r.pgCPU()
	began := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			p := ps[c%len(ps)]
			for i := 0; time.Since(began) < r.period && !failed.Load(); i++ {
				t0 := time.Now()
				if err := do(p, c, i); err != nil {
					if !failed.Swap(true) {
						r.tb.Errorf("%v\n%s", err, tail(p.logs.String()))
					}
					return
				}
				l.add(time.Since(t0))
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		r.tb.FailNow()
	}
	l.rate = float64(len(l.lat)) / time.Since(began).Seconds()
	l.cpuMS = float64((cpu() - cpu0).Microseconds()) / 1000 / float64(len(l.lat))
	l.pgMS = float64((r.pgCPU() - pg0).Microseconds()) / 1000 / float64(len(l.lat))
	slices.Sort(l.lat)
	return l
}

var olClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}

// ingest posts OpenLineage run events with clients at once.
func (r *replicaBench) ingest(ps []*proc, clients int) *load {
	l := r.drive(ps, clients, func(p *proc, c, i int) error {
		resp, err := olClient.Post("http://"+p.addr+"/api/v1/lineage", "application/json", bytes.NewReader(r.event(c*7+i)))
		if err != nil {
			return fmt.Errorf("POST /api/v1/lineage: %w", err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST /api/v1/lineage: %s %.300s", resp.Status, b.String())
		}
		return nil
	})
	fmt.Printf("  %d OpenLineage client(s) on %d server(s): %s events/s (p50 / p99)\n", clients, len(ps), l)
	return l
}

// searches runs the scale benchmark's queries, every kind in turn, with
// clients at once.
func (r *replicaBench) searches(ps []*proc, clients int) *load {
	qs := scaleQueries(r.cat, r.n)
	var all []string
	for i := range 4 {
		for _, k := range scaleKinds {
			all = append(all, qs[k][i%len(qs[k])])
		}
	}
	l := r.drive(ps, clients, func(p *proc, c, i int) error {
		q := all[(c+i)%len(all)]
		body, err := uiSearchBody(q)
		if err == nil {
			_, err = benchPost(p, body)
		}
		if err != nil {
			return fmt.Errorf("search %q: %w", q, err)
		}
		return nil
	})
	fmt.Printf("  %d search client(s) on %d server(s): %s searches/s (p50 / p99)\n", clients, len(ps), l)
	return l
}

// lineageIDs returns the ids of the datasets the events link, once the
// server has applied them (an event's 201 comes before).
func (r *replicaBench) lineageIDs(p *proc) []string {
	var ids []string
	for i := 1; i < olJobs; i++ {
		d := r.cat.dataset(i)
		body, _ := json.Marshal(map[string]any{"query": `query($ns: String, $name: String) { dataset(namespace: $ns, name: $name) { id } }`, "variables": map[string]any{"ns": d.Namespace, "name": d.Name}})
		out, err := benchPost(p, body)
		if err != nil {
			r.tb.Fatal(err)
		}
		var res struct {
			Data struct{ Dataset struct{ ID string } }
		}
		json.Unmarshal(out, &res)
		if res.Data.Dataset.ID == "" {
			r.tb.Fatalf("dataset %s: %s", d.Name, out)
		}
		ids = append(ids, res.Data.Dataset.ID)
	}
	// The middle of the chain has 4 upstream and 2 downstream at depth 2
	// once every job's edges are applied.
	body, _ := uiLineageBody(ids[len(ids)/2])
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		out, err := benchPost(p, body)
		var res struct {
			Data struct{ Lineage struct{ Edges []any } }
		}
		if err == nil && json.Unmarshal(out, &res) == nil && len(res.Data.Lineage.Edges) >= 6 {
			return ids
		}
		if time.Now().After(deadline) {
			r.tb.Fatalf("the events' lineage is not applied a minute after their 201: %v %.500s", err, out)
		}
	}
}

// lineageReads opens the lineage tab of the linked datasets in turn, with
// one client.
func (r *replicaBench) lineageReads(p *proc, ids []string) *load {
	l := r.drive([]*proc{p}, 1, func(p *proc, c, i int) error {
		body, err := uiLineageBody(ids[i%len(ids)])
		if err == nil {
			_, err = benchPost(p, body)
		}
		if err != nil {
			return fmt.Errorf("lineage of %s: %w", ids[i%len(ids)], err)
		}
		return nil
	})
	fmt.Printf("  lineage reads: %s reads/s (p50 / p99)\n", l)
	return l
}

// meter starts measuring the CPU time of each replica, of PostgreSQL, of
// this process (the clients) and of the machine; the function it returns
// says how many cores each used since.
func (r *replicaBench) meter(ps []*proc) func() string {
	read := func() []time.Duration {
		var out []time.Duration
		for _, p := range ps {
			out = append(out, procCPU(p.cmd.Process.Pid))
		}
		return append(out, r.pgCPU(), procCPU(os.Getpid()))
	}
	waited := func() time.Duration {
		pids := append(r.pgPids(), os.Getpid())
		for _, p := range ps {
			pids = append(pids, p.cmd.Process.Pid)
		}
		return runWait(pids)
	}
	began, before, wait0 := time.Now(), read(), waited()
	busy0, total0 := machine.Busy()
	return func() string {
		wall, after, wait1 := time.Since(began).Seconds(), read(), waited()
		busy1, total1 := machine.Busy()
		cores := func(i int) float64 { return (after[i] - before[i]).Seconds() / wall }
		var parts []string
		for i := range ps {
			parts = append(parts, fmt.Sprintf("%.2f", cores(i)))
		}
		machineCores := 0.0
		if total1 > total0 {
			machineCores = float64(busy1-busy0) / float64(total1-total0) * float64(runtime.NumCPU())
		}
		ours := 0.0
		for i := range after {
			ours += cores(i)
		}
		wait := (wait1 - wait0).Seconds() / wall
		// Cores left idle mean the run waited on something else (the
		// writer's lock, commits, round trips). All busy, the run queue
		// says whether our threads waited for a core (bound by the CPU it
		// got, on a shared machine the others' share too) or hardly did.
		var bound string
		switch n := float64(runtime.NumCPU()); {
		case machineCores < 0.95*n:
			bound = "cores idle: not CPU-bound"
		case wait >= ours/2:
			bound = "CPU-bound"
		default:
			bound = "machine busy, ours hardly waited for it: bound by waits (lock, commits, round trips)"
		}
		return fmt.Sprintf("replicas %s, PostgreSQL %.2f, clients %.2f (ours %.2f; %.2f waiting for a core); machine %.2f of %d: %s",
			strings.Join(parts, " "), cores(len(ps)), cores(len(ps)+1), ours, wait, machineCores, runtime.NumCPU(), bound)
	}
}

// runWait is how long the threads of pids waited on a run queue for a
// core (the second field of each thread's schedstat), summed.
func runWait(pids []int) time.Duration {
	var t time.Duration
	for _, pid := range pids {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, task := range tasks {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, task.Name()))
			if err != nil {
				continue
			}
			if f := strings.Fields(string(b)); len(f) >= 2 {
				ns, _ := strconv.ParseInt(f[1], 10, 64)
				t += time.Duration(ns)
			}
		}
	}
	return t
}

// postmaster finds the PostgreSQL server listening on port (pgtest's runs
// as another user, under runuser): the postgres process whose command
// line names the port.
func postmaster(tb testing.TB, port int) int {
	want := "\x00-p\x00" + strconv.Itoa(port) + "\x00"
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.TrimSpace(string(comm)) == "postgres" && strings.Contains(string(cmdline), want) {
			return pid
		}
	}
	tb.Fatalf("no postgres process listens on port %d", port)
	return 0
}

// treeCPU is the CPU time of a process, of its children that exited (and
// were waited for) and of those that run: PostgreSQL's postmaster and its
// backends.
func treeCPU(pid int) time.Duration {
	t := procCPU(pid) + childrenCPU(pid)
	for _, child := range children(pid) {
		t += procCPU(child)
	}
	return t
}

// children are the processes whose parent is pid.
func children(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err == nil && ppid(child) == pid {
			out = append(out, child)
		}
	}
	return out
}

// statFields are the fields of /proc/PID/stat after the command name:
// state is [0], ppid [1], utime [11], stime [12], cutime [13], cstime [14].
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
}

func ppid(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// childrenCPU is the CPU time of pid's children that exited and were
// waited for (in clock ticks of 1/100 s, as procCPU reads them).
func childrenCPU(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 15 {
		return 0
	}
	u, _ := strconv.ParseInt(f[13], 10, 64)
	s, _ := strconv.ParseInt(f[14], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

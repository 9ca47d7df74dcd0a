package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/store/storetest"
)

// The tests here run `quarry serve` replicas on one PostgreSQL schema
// (store.replicas: true), as issue 25 describes: each with its own data
// directory, search index and lineage graph, all sharing the store.

// replicaSet is a PostgreSQL schema and the config of the replicas a test
// starts on it. Their alerts go to hook.
type replicaSet struct {
	t      *testing.T
	pg     *pgtest.Server
	config string
	hook   *webhook
}

// newReplicaSet starts PostgreSQL and a webhook, and writes the replicas'
// config; with alerts, it has them evaluated every second and sent to the
// webhook.
func newReplicaSet(t *testing.T, alerts bool) *replicaSet {
	t.Helper()
	rs := &replicaSet{t: t, pg: pgtest.New(t), hook: newWebhook(t)}
	schema := storetest.Schema(t, rs.pg.DSN("postgres"))
	cfg := fmt.Sprintf("store:\n  engine: postgres\n  dsn: '%s'\n  replicas: true\n", schema)
	if alerts {
		cfg += fmt.Sprintf("alerts:\n  interval: 1s\n  webhooks:\n    - {name: ops, url: '%s', format: json}\n", rs.hook.URL)
	}
	rs.config = filepath.Join(t.TempDir(), "quarry.yaml")
	if err := os.WriteFile(rs.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return rs
}

// start starts a replica on a data directory of its own (so it builds its
// index from the store) and waits until its search index is ready.
func (rs *replicaSet) start(args ...string) *proc {
	rs.t.Helper()
	p := start(rs.t, append([]string{"--data", rs.t.TempDir(), "--config", rs.config}, args...)...)
	waitSearchReady(rs.t, p)
	return p
}

// holds reports whether p has logged that it holds task's lease.
func holds(p *proc, task string) bool {
	return strings.Contains(p.logs.String(), "holds the lease of "+task)
}

// webhook records the alert events it receives.
type webhook struct {
	*httptest.Server
	mu    sync.Mutex
	sent  map[string]int // "seq key transition" -> deliveries
	order []string
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{sent: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Seq        uint64
			Transition string
			Alert      struct{ Key string }
		}
		json.NewDecoder(r.Body).Decode(&ev)
		k := fmt.Sprintf("%d %s %s", ev.Seq, ev.Alert.Key, ev.Transition)
		h.mu.Lock()
		h.sent[k]++
		h.order = append(h.order, k)
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *webhook) events() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.order)
}

// waitFor waits until n events arrived.
func (h *webhook) waitFor(t *testing.T, n int, d time.Duration, logs fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(d); len(h.events()) < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook received %v, want %d events\n%s", h.events(), n, tail(logs.String()))
		}
	}
}

// sentOnce checks, after two more passes of the alerts' evaluator (which
// must send nothing again), that the webhook received the demo's four
// openings and then the opening of the check named last, each once.
func (h *webhook) sentOnce(t *testing.T, last string) {
	t.Helper()
	time.Sleep(2 * time.Second)
	sent := h.events()
	if len(sent) != 5 || !strings.Contains(sent[4], last) {
		t.Errorf("events sent: %v, want the demo's 4 openings and %s's", sent, last)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, n := range h.sent {
		if n != 1 {
			t.Errorf("%q sent %d times", k, n)
		}
	}
}

// failCheck posts to p a run event whose output fails the check named
// assertion.
func failCheck(t *testing.T, p *proc, assertion string) {
	t.Helper()
	ev := fmt.Sprintf(`{"eventType":"COMPLETE","eventTime":"2026-11-22T10:00:00Z","producer":"https://example.com/replicas-test",
		"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
		"run":{"runId":%q},"job":{"namespace":"cron","name":"load_replicated"},
		"outputs":[{"namespace":"postgres://db:5432","name":"shop.public.replicated",
			"facets":{"dataQualityAssertions":{"assertions":[{"assertion":%q,"column":"id","success":false}]}}}]}`, uuid.NewString(), assertion)
	resp, err := http.Post("http://"+p.addr+"/api/v1/lineage", "application/json", strings.NewReader(ev))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST a failing check: %s", resp.Status)
	}
}

// ingest is clients posting OpenLineage run events, one at a time each,
// to the replicas targets returns, in turn, until it is stopped.
type ingest struct {
	mu      sync.Mutex
	acked   []string       // run ids answered 201
	refused map[string]int // other answers: "503 unavailable", "connection error", ...
	stop    chan struct{}
	wg      sync.WaitGroup
}

func startIngest(clients int, targets func() []*proc) *ingest {
	in := &ingest{refused: map[string]int{}, stop: make(chan struct{})}
	hc := &http.Client{Timeout: 20 * time.Second}
	for c := range clients {
		in.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-in.stop:
					return
				default:
				}
				ps := targets()
				p := ps[(c+i)%len(ps)]
				// Half the clients write ten datasets again and again, the
				// others a new one every ten events.
				id, name := uuid.NewString(), fmt.Sprintf("%d", i%10)
				if c%2 == 1 {
					name = fmt.Sprintf("c%d_%d", c, i/10)
				}
				resp, err := hc.Post("http://"+p.addr+"/api/v1/lineage", "application/json", strings.NewReader(eventJSON(id, name)))
				if err != nil {
					in.note("", "connection error")
					time.Sleep(10 * time.Millisecond) // a replica killed or down: no busy loop
					continue
				}
				var body struct{ Error struct{ Code string } }
				json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					in.note(id, "")
					continue
				}
				in.note("", fmt.Sprintf("%d %s", resp.StatusCode, body.Error.Code))
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	return in
}

func (in *ingest) note(acked, refused string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if acked != "" {
		in.acked = append(in.acked, acked)
	} else {
		in.refused[refused]++
	}
}

// n returns how many events were answered 201 so far.
func (in *ingest) n() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.acked)
}

// refusals returns how many events were answered what.
func (in *ingest) refusals(what string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.refused[what]
}

// waitAcked waits until n events were answered 201.
func (in *ingest) waitAcked(t *testing.T, n int, d time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(d); in.n() < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			in.mu.Lock()
			defer in.mu.Unlock()
			t.Fatalf("%d events answered 201 within %v, want %d; refused: %v", len(in.acked), d, n, in.refused)
		}
	}
}

// finish stops the clients and returns the run ids answered 201 and the
// other answers' counts.
func (in *ingest) finish() ([]string, map[string]int) {
	close(in.stop)
	in.wg.Wait()
	return in.acked, in.refused
}

// searchAnswer is a search's total and its hits' names, in order.
func searchAnswer(t *testing.T, p *proc, q string) string {
	t.Helper()
	s := p.graphql(t, `query($q: String!) { search(query: $q, first: 100) { total hits { dataset { namespace name } } } }`,
		map[string]any{"q": q})["search"].(map[string]any)
	var b strings.Builder
	fmt.Fprintf(&b, "%v:", s["total"])
	for _, h := range s["hits"].([]any) {
		d := h.(map[string]any)["dataset"].(map[string]any)
		fmt.Fprintf(&b, " %s/%s", d["namespace"], d["name"])
	}
	return b.String()
}

// unordered is a searchAnswer with its hits sorted: replicas rank hits
// whose scores differ only by their indexes' statistics (which count the
// documents an update replaced until segments merge) in different orders.
func unordered(answer string) string {
	total, hits, _ := strings.Cut(answer, ":")
	names := strings.Fields(hits)
	slices.Sort(names)
	return total + ": " + strings.Join(names, " ")
}

// Three replicas: what is written through one is read through the
// others at once (a store read is current on every replica) and found by
// their searches within the follow delay, which the test logs.
func TestReplicasReadEachOthersWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and three servers")
	}
	rs := newReplicaSet(t, false)
	p1 := rs.start("--demo")
	others := []*proc{rs.start(), rs.start()}
	const ns, revenue = "redshift://analytics.us-east-1:5439", "analytics.reporting.daily_revenue"
	id := p1.graphql(t, `query($ns: String, $n: String) { dataset(namespace: $ns, name: $n) { id } }`,
		map[string]any{"ns": ns, "n": revenue})["dataset"].(map[string]any)["id"].(string)

	var delays [2][]time.Duration
	// Each write is found by a word nothing else holds, nor one a typo
	// away (search forgives typos).
	words := []string{"aardvarkzq", "bisonzq", "capybarazq", "dingozq", "erminezq", "ferretzq", "gazellezq", "heronzq", "ibexzq", "jackalzq"}
	for i, word := range words {
		// An upsert of a new dataset, or an edit of a demo dataset's
		// description.
		dsNS, dsName, desc := ns, revenue, "Revenue per day; edited on replica 1: "+word+"."
		if i%2 == 0 {
			dsNS, dsName, desc = "postgres://shop-db.internal:5432", "shop.public.shared_"+word, "Written on replica 1."
			p1.graphql(t, `mutation($in: [DatasetInput!]!) { upsertDatasets(input: $in) { ids } }`, map[string]any{"in": []any{
				map[string]any{"namespace": dsNS, "name": dsName, "description": desc}}})
		} else {
			p1.graphql(t, `mutation($id: ID!, $d: String) { updateDataset(id: $id, input: {description: $d}) { id } }`,
				map[string]any{"id": id, "d": desc})
		}
		written := time.Now()
		for j, p := range others {
			d := p.graphql(t, `query($ns: String, $n: String) { dataset(namespace: $ns, name: $n) { description } }`,
				map[string]any{"ns": dsNS, "n": dsName})["dataset"]
			if d == nil || d.(map[string]any)["description"] != desc {
				t.Fatalf("write %d: replica %d reads %v right after the write, want description %q", i, j+2, d, desc)
			}
		}
		for j, p := range others {
			for {
				got := searchAnswer(t, p, word)
				if got == fmt.Sprintf("1: %s/%s", dsNS, dsName) {
					break
				}
				if time.Since(written) > 20*time.Second {
					t.Fatalf("write %d: replica %d's search for %s answers %q 20 s after the write\n%s", i, j+2, word, got, tail(p.logs.String()))
				}
				time.Sleep(5 * time.Millisecond)
			}
			delays[j] = append(delays[j], time.Since(written))
		}
	}
	for j, d := range delays {
		slices.Sort(d)
		t.Logf("follow delay of replica %d (write answered on replica 1 to found by its search), 10 writes: median %s, max %s",
			j+2, d[len(d)/2].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
}

// Three replicas, alerts configured on all: the first holds the alerts'
// and the lineage applier's leases and sends the demo's alerts. It is
// SIGKILLed while 8 clients post OpenLineage events to all three: the
// survivors take the leases over, every event any replica answered 201 is
// applied, a new failing check opens an alert the new holder sends, and
// no webhook event is sent twice. A fourth replica started afterwards,
// under the ingest, on a data directory of its own, builds its index from
// the store and answers searches as the survivors do.
func TestReplicasSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and four servers")
	}
	rs := newReplicaSet(t, true)
	p1 := rs.start("--demo")
	rs.hook.waitFor(t, 4, 30*time.Second, p1.logs) // the demo's openings
	p2, p3 := rs.start(), rs.start()
	survivors := []*proc{p2, p3}
	if !holds(p1, "alerts") || !holds(p1, "lineage applier") {
		t.Fatalf("the first replica should hold the alerts' and the applier's leases\n%s", tail(p1.logs.String()))
	}

	var liveMu sync.Mutex
	live := []*proc{p1, p2, p3}
	in := startIngest(8, func() []*proc {
		liveMu.Lock()
		defer liveMu.Unlock()
		return live
	})
	in.waitAcked(t, 300, 60*time.Second)
	if err := p1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p1.done
	killed, atKill := time.Now(), in.n()
	liveMu.Lock()
	live = survivors
	liveMu.Unlock()

	holder := map[string]*proc{}
	for deadline := time.Now().Add(30 * time.Second); len(holder) < 2; time.Sleep(20 * time.Millisecond) {
		for _, task := range []string{"alerts", "lineage applier"} {
			for i, p := range survivors {
				if holder[task] == nil && holds(p, task) {
					holder[task] = p
					t.Logf("replica %d took the lease of %s %s after the holder was killed", i+2, task, time.Since(killed).Round(time.Millisecond))
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the survivors took the leases of %v only, 30 s after the kill\n--- 2:\n%s\n--- 3:\n%s", holder, tail(p2.logs.String()), tail(p3.logs.String()))
		}
	}
	// A new replica, started under the ingest, builds its index from the
	// store while the changelog moves, and takes its share of the posts.
	p4 := rs.start()
	liveMu.Lock()
	live = []*proc{p2, p3, p4}
	liveMu.Unlock()
	in.waitAcked(t, in.n()+300, 60*time.Second) // applied by the new holder
	acked, refused := in.finish()
	t.Logf("%d events answered 201 (%d before the kill), other answers: %v", len(acked), atKill, refused)
	for what := range refused {
		if what != "connection error" { // those of the killed replica
			t.Errorf("clients were answered %v", refused)
		}
	}
	for i, p := range survivors {
		if missing := missingRunsWithin(t, p, acked, 30*time.Second); missing > 0 {
			t.Fatalf("replica %d: %d of %d events answered 201 are not applied\n%s", i+2, missing, len(acked), tail(holder["lineage applier"].logs.String()))
		}
	}

	// A failing check reported to the replica that does not send the
	// alerts (if the leases went to one, either) opens an alert the
	// holder sends.
	other := survivors[0]
	if other == holder["alerts"] {
		other = survivors[1]
	}
	failCheck(t, other, "not_null_id")
	rs.hook.waitFor(t, 5, 30*time.Second, holder["alerts"].logs)

	// The new replica answers searches as the survivors do, once their
	// followers have caught up ("": every dataset, by name).
	queries := []string{"", "orders", "revenue", "customers", "out_7", "c3_2", "replicated"}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var diff, order []string
		for _, q := range queries {
			want := searchAnswer(t, p4, q)
			for i, p := range survivors {
				got := searchAnswer(t, p, q)
				switch {
				case unordered(got) != unordered(want) || q == "" && got != want: // "" sorts by name
					diff = append(diff, fmt.Sprintf("%q: replica %d: %s\n   the new one: %s", q, i+2, got, want))
				case got != want:
					order = append(order, fmt.Sprintf("%q (replica %d)", q, i+2))
				}
			}
		}
		if len(diff) == 0 {
			t.Logf("the new replica finds what the survivors find for %q; ranked in another order: %v", queries, order)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new replica's searches differ from the survivors' 30 s after it started:\n%s", strings.Join(diff, "\n"))
		}
	}
	for _, q := range []string{"out_7", "c3_2"} {
		if got := searchAnswer(t, p4, q); !strings.Contains(got+" ", "/shop.public.out_"+strings.TrimPrefix(q, "out_")+" ") {
			t.Fatalf("the new replica does not find a dataset the ingest wrote: %s", got)
		}
	}

	rs.hook.sentOnce(t, "not_null_id")
}

// PostgreSQL restarted under two replicas while 8 clients post events and
// searches run: while it is down every replica answers writes and reads of
// the store with unavailable (503 on the REST endpoints, the code in
// GraphQL's errors) and a message that says why, and lives (autocomplete,
// local, still answers); once it is up
// they answer again without a restart, and every event answered 201 is
// applied, and the alerts' evaluator runs again and sends nothing twice.
func TestReplicasLiveThroughAPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and two servers")
	}
	rs := newReplicaSet(t, true)
	ps := []*proc{rs.start("--demo"), rs.start()}
	rs.hook.waitFor(t, 4, 30*time.Second, ps[0].logs) // the demo's openings
	in := startIngest(8, func() []*proc { return ps })
	hc := &http.Client{Timeout: 20 * time.Second}

	// Searches run throughout; each answer is counted by its error code.
	var searchMu sync.Mutex
	searches := map[string]int{}
	stopSearch := make(chan struct{})
	var searchers sync.WaitGroup
	for c := range 2 {
		searchers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopSearch:
					return
				default:
				}
				answer := "connection error"
				resp, err := hc.Post("http://"+ps[(c+i)%2].addr+"/graphql", "application/json",
					strings.NewReader(`{"query": "{ search(query: \"orders\") { total hits { dataset { name } } } }"}`))
				if err == nil {
					var body struct {
						Errors []struct{ Extensions struct{ Code string } }
					}
					json.NewDecoder(resp.Body).Decode(&body)
					resp.Body.Close()
					answer = fmt.Sprintf("%d ok", resp.StatusCode)
					if len(body.Errors) > 0 {
						answer = fmt.Sprintf("%d %s", resp.StatusCode, body.Errors[0].Extensions.Code)
					}
				}
				searchMu.Lock()
				searches[answer]++
				searchMu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	in.waitAcked(t, 200, 60*time.Second)

	rs.pg.Down()
	down := time.Now()
	where := fmt.Sprintf("127.0.0.1:%d", rs.pg.Port) // the driver's errors say; clients are not told
	const ns, revenue = "redshift://analytics.us-east-1:5439", "analytics.reporting.daily_revenue"
	for i, p := range ps {
		status, body := p.postEvent(t, hc, uuid.NewString(), "down")
		e, _ := body["error"].(map[string]any)
		if status != http.StatusServiceUnavailable || e["code"] != "unavailable" || !strings.Contains(fmt.Sprint(e["message"]), "PostgreSQL store cannot be reached") ||
			strings.Contains(fmt.Sprint(e["message"]), where) {
			t.Errorf("replica %d: an event while PostgreSQL is down: %d %v, want 503 unavailable saying so (and not where the database is)", i+1, status, body)
		}
		for _, op := range []struct{ what, query string }{
			{"a store read", fmt.Sprintf(`{ dataset(namespace: %q, name: %q) { description } }`, ns, revenue)},
			{"a write", `mutation { upsertDatasets(input: [{namespace: "postgres://shop-db.internal:5432", name: "shop.public.while_down"}]) { ids } }`},
			{"a search", `{ search(query: "revenue") { total hits { dataset { name } } } }`},
		} {
			status, _, errs := postGraphQL(t, p, request(op.query, nil))
			if len(errs) != 1 || errs[0]["extensions"].(map[string]any)["code"] != "unavailable" ||
				!strings.Contains(fmt.Sprint(errs[0]["message"]), "PostgreSQL store cannot be reached") ||
				strings.Contains(fmt.Sprint(errs[0]["message"]), where) {
				t.Errorf("replica %d: %s while PostgreSQL is down: %d %v, want unavailable saying so (and not where the database is)", i+1, op.what, status, errs)
			} else if i == 0 {
				t.Logf("%s while PostgreSQL is down: %d %s", op.what, status, errs[0]["message"])
			}
		}
		// Autocomplete answers from the local index alone; a search page
		// reads its datasets from the store (to demote the deprecated, and
		// for the records it shows), so it is unavailable above.
		sug := p.graphql(t, `{ autocomplete(prefix: "daily_rev", limit: 5) { text } }`, nil)["autocomplete"].([]any)
		if len(sug) == 0 {
			t.Errorf("replica %d: autocomplete while PostgreSQL is down suggests nothing", i+1)
		} else if i == 0 {
			t.Logf("autocomplete while PostgreSQL is down: %v", sug)
		}
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "PostgreSQL store cannot be reached") {
			t.Errorf("replica %d: /healthz while PostgreSQL is down: %d %s, want 503 saying why", i+1, resp.StatusCode, b)
		}
	}
	atDown := in.n()
	// Down long enough that the clients' posts meet the outage too and
	// the applier's holder finds its lease lost: it must take it again.
	lost := func() bool {
		return slices.ContainsFunc(ps, func(p *proc) bool { return strings.Contains(p.logs.String(), "lost the lease of lineage applier") })
	}
	for deadline := time.Now().Add(30 * time.Second); in.refusals("503 unavailable") < 100 || !lost(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("30 s after PostgreSQL went down: the clients were refused %d times, the applier's lease lost: %v", in.refusals("503 unavailable"), lost())
		}
	}
	if err := rs.pg.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	t.Logf("PostgreSQL down for %s; %d events answered 201 before", up.Sub(down).Round(time.Millisecond), atDown)
	for i, p := range ps {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			status, body := p.postEvent(t, hc, uuid.NewString(), "up")
			s, _, errs := postGraphQL(t, p, request(fmt.Sprintf(`{ dataset(namespace: %q, name: %q) { description } }`, ns, revenue), nil))
			if status == http.StatusCreated && s == http.StatusOK && len(errs) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d, 30 s after PostgreSQL is up: an event %d %v, a read %d %v\n%s", i+1, status, body, s, errs, tail(p.logs.String()))
			}
		}
		t.Logf("replica %d answers again %s after PostgreSQL is up", i+1, time.Since(up).Round(time.Millisecond))
	}
	in.waitAcked(t, in.n()+200, 60*time.Second)
	acked, refused := in.finish()
	close(stopSearch)
	searchers.Wait()
	t.Logf("%d events answered 201, other answers: %v; searches: %v", len(acked), refused, searches)
	for what := range refused {
		if what != "503 unavailable" {
			t.Errorf("clients were answered %v, want 201 or 503 unavailable", refused)
		}
	}
	for what := range searches {
		if what != "200 ok" && what != "200 unavailable" {
			t.Errorf("searches were answered %v, want results or unavailable", searches)
		}
	}
	for i, p := range ps {
		if missing := missingRunsWithin(t, p, acked, 30*time.Second); missing > 0 {
			t.Fatalf("replica %d: %d of %d events answered 201 are not applied\n%s", i+1, missing, len(acked), tail(p.logs.String()))
		}
	}
	// The alerts' evaluator runs again, on whichever replica took its
	// lease back, and sends nothing twice.
	failCheck(t, ps[1], "unique_id")
	rs.hook.waitFor(t, 5, 30*time.Second, ps[0].logs)
	rs.hook.sentOnce(t, "unique_id")
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/quarrydata/quarry/internal/disktest"
)

// Defect 4 of issue 15: a full disk crashed the server (the search
// follower panicked in bleve), and again at each restart; OpenLineage
// posts got a bare 500 and /healthz said ok. Here the data directory is a
// small tmpfs: once a ballast file fills it, writes answer 507
// insufficient_storage with the reason, reads and searches answer,
// /healthz says degraded, and the process lives; once the ballast is gone,
// writes succeed again and search catches up without a restart, and every
// event answered 201 is stored. Started on a full disk, the server comes
// up degraded and does not crash.
func TestServeFullDisk(t *testing.T) {
	disk := disktest.Mount(t, 8<<20)
	data := filepath.Join(disk, "data")
	p := start(t, "--data", data)
	waitSearchReady(t, p)
	hc := &http.Client{Timeout: 10 * time.Second}
	var acked []string // run ids answered 201
	post := func(name string) (int, map[string]any) {
		t.Helper()
		id := uuid.NewString()
		status, body := p.postEvent(t, hc, id, name)
		if status == http.StatusCreated {
			acked = append(acked, id)
		}
		return status, body
	}
	if status, body := post("before"); status != http.StatusCreated {
		t.Fatalf("before the disk fills: %d %v", status, body)
	}
	found := func(text string) bool {
		return len(p.graphql(t, `query($q: String!) { search(query: $q) { hits { dataset { name } } } }`, map[string]any{"q": text})["search"].(map[string]any)["hits"].([]any)) > 0
	}
	waitFor(t, 10*time.Second, func() bool { return found("out_before") })
	// A source to crawl on the full disk (nothing listens there: the crawl
	// would fail, but it must not begin).
	p.graphql(t, `mutation($in: SourceInput!) { registerSource(input: $in) { name } }`, map[string]any{"in": map[string]any{
		"name": "shop", "kind": "POSTGRES", "dsn": "postgres://quarry@127.0.0.1:1/shop"}})

	ballast := disktest.Fill(t, disk, 0)
	// The lineage log may have room reserved for a few more events; the
	// store file has none, and the applier's failure refuses the rest.
	var full map[string]any
	for i := 0; full == nil; i++ {
		status, body := post(fmt.Sprintf("during_%d", i))
		switch {
		case status == http.StatusInsufficientStorage:
			full = body
		case status != http.StatusCreated:
			t.Fatalf("event %d on the full disk: %d %v\n%s", i, status, body, tail(p.logs.String()))
		case i > 5000:
			t.Fatalf("5000 events accepted on the full disk\n%s", tail(p.logs.String()))
		}
	}
	if e, _ := full["error"].(map[string]any); e["code"] != "insufficient_storage" || !strings.Contains(fmt.Sprint(e["message"]), "disk is full") {
		t.Fatalf("507 body: %v", full)
	}
	// A batch whose events all fail so is refused as a whole, alike.
	batch := fmt.Sprintf(`[%s, %s]`, eventJSON(uuid.NewString(), "batch_a"), eventJSON(uuid.NewString(), "batch_b"))
	resp, err := hc.Post("http://"+p.addr+"/api/v1/lineage/batch", "application/json", strings.NewReader(batch))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInsufficientStorage {
		t.Fatalf("a batch on the full disk: %d", resp.StatusCode)
	}
	status, _, errs := postGraphQL(t, p, request(`mutation($in: [DatasetInput!]!) { upsertDatasets(input: $in) { ids } }`,
		map[string]any{"in": []any{map[string]any{"namespace": "postgres://wh:5432", "name": "a.b.full"}}}))
	if status != http.StatusOK || len(errs) != 1 || errs[0]["extensions"].(map[string]any)["code"] != "insufficient_storage" {
		t.Fatalf("mutation on the full disk: %d %v", status, errs)
	}
	status, _, errs = postGraphQL(t, p, request(`mutation { crawlSource(name: "shop") { status } }`, nil))
	if status != http.StatusOK || len(errs) != 1 || errs[0]["extensions"].(map[string]any)["code"] != "insufficient_storage" {
		t.Fatalf("a crawl on the full disk: %d %v", status, errs)
	}
	// Reads and searches answer.
	reads := `{ datasets(first: 5) { totalCount } search(query: "out_before") { total hits { dataset { name } } } }`
	d := p.graphql(t, reads, nil)
	if d["datasets"].(map[string]any)["totalCount"].(float64) < 2 || d["search"].(map[string]any)["total"].(float64) != 1 {
		t.Fatalf("reads on the full disk: %v", d)
	}
	h := health(t, p)
	if h.Status != "degraded" || !strings.Contains(h.Reason, "disk is full") {
		t.Fatalf("/healthz on the full disk: %+v", h)
	}
	if m := scrape(t, "http://"+p.addr); m["quarry_store_disk_full"] != 1 {
		t.Fatalf("quarry_store_disk_full %v on the full disk", m["quarry_store_disk_full"])
	}
	select {
	case err := <-p.done:
		t.Fatalf("the server exited on the full disk: %v\n%s", err, tail(p.logs.String()))
	case <-time.After(2 * time.Second): // the follower's and the applier's retries
	}

	// Space freed: writes resume, without a restart.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		status, body := post("after")
		if status == http.StatusCreated {
			break
		}
		if status != http.StatusInsufficientStorage || time.Now().After(deadline) {
			t.Fatalf("after freeing space: %d %v\n%s", status, body, tail(p.logs.String()))
		}
	}
	waitFor(t, 10*time.Second, func() bool { return health(t, p).Status == "ok" })
	if m := scrape(t, "http://"+p.addr); m["quarry_store_disk_full"] != 0 {
		t.Fatalf("quarry_store_disk_full %v after space was freed", m["quarry_store_disk_full"])
	}
	// Every event answered 201 is stored, and search finds what they wrote.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		missing := missingRuns(t, p, acked)
		if missing == 0 && found("out_after") && found("out_during_0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after space was freed: %d of %d acknowledged runs missing, or search does not find out_after and out_during_0\n%s", missing, len(acked), tail(p.logs.String()))
		}
	}
	t.Logf("%d events acknowledged around the full disk", len(acked))

	// Stopped and started again on a full disk: it comes up, degraded at
	// its first write, and answers reads.
	ballast = disktest.Fill(t, disk, 0)
	p.stop(t)
	p = start(t, "--data", data)
	// What the stop freed (server.json) may hold an event or two.
	for i := 0; ; i++ {
		status, body := post(fmt.Sprintf("restarted_%d", i))
		if status == http.StatusInsufficientStorage {
			break
		}
		if status != http.StatusCreated || i > 100 {
			t.Fatalf("event %d after a restart on the full disk: %d %v\n%s", i, status, body, tail(p.logs.String()))
		}
	}
	if h := health(t, p); h.Status != "degraded" {
		t.Fatalf("/healthz after a restart on the full disk: %+v", h)
	}
	p.graphql(t, reads, nil)
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return health(t, p).Status == "ok" })
	waitFor(t, 10*time.Second, func() bool { return missingRuns(t, p, acked) == 0 })
	p.stop(t)
}

// postEvent posts a run event of run id whose output is shop.public.out_NAME,
// and returns the status and the decoded body (nil when empty).
func (p *proc) postEvent(t *testing.T, hc *http.Client, id, name string) (int, map[string]any) {
	t.Helper()
	resp, err := hc.Post("http://"+p.addr+"/api/v1/lineage", "application/json", strings.NewReader(eventJSON(id, name)))
	if err != nil {
		t.Fatalf("post: %v\n%s", err, tail(p.logs.String()))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("answer %d: %v: %s", resp.StatusCode, err, b)
		}
	}
	return resp.StatusCode, body
}

// eventJSON is a run event of run id whose output is shop.public.out_NAME.
func eventJSON(id, name string) string {
	return fmt.Sprintf(`{"eventType":"COMPLETE","eventTime":"2026-11-22T10:00:00Z","producer":"https://example.com/disk-test",
		"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
		"run":{"runId":%q},"job":{"namespace":"cron","name":"copy_%s"},
		"inputs":[{"namespace":"postgres://db:5432","name":"shop.public.orders"}],
		"outputs":[{"namespace":"postgres://db:5432","name":"shop.public.out_%s"}]}`, id, name, name)
}

type healthz struct {
	Status, Reason, Search string
}

func health(t *testing.T, p *proc) healthz {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v\n%s", err, tail(p.logs.String()))
	}
	defer resp.Body.Close()
	var h healthz
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %d %v", resp.StatusCode, err)
	}
	return h
}

// missingRuns returns how many of the run ids the server does not hold.
func missingRuns(t *testing.T, p *proc, ids []string) int {
	t.Helper()
	missing := 0
	for i := 0; i < len(ids); i += 100 {
		var q bytes.Buffer
		q.WriteString("{")
		for j, id := range ids[i:min(i+100, len(ids))] {
			fmt.Fprintf(&q, " r%d: run(id: %q) { state }", j, id)
		}
		q.WriteString(" }")
		for _, r := range p.graphql(t, q.String(), nil) {
			if r == nil {
				missing++
			}
		}
	}
	return missing
}

// missingRunsWithin is missingRuns once every run is there or d has
// passed: events a server accepted may still be on their way from its log
// or another replica's queue.
func missingRunsWithin(t *testing.T, p *proc, ids []string, d time.Duration) int {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if n := missingRuns(t, p, ids); n == 0 || time.Now().After(deadline) {
			return n
		}
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v", d)
		}
	}
}

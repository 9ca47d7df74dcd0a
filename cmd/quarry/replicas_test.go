package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/store/storetest"
)

// Two `quarry serve` replicas on one PostgreSQL schema, alerts configured
// on both: the first holds the alerts' and the lineage applier's leases and
// sends the demo's alerts. It is SIGKILLed while 8 clients post
// OpenLineage events to both: the second takes the leases over, applies
// every event either answered 201, and evaluates and sends the alert a new
// failing check opens. No webhook event is sent twice.
func TestReplicasAlertsSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and two servers")
	}
	var mu sync.Mutex
	sent := map[string]int{} // event seq, alert key, transition -> events
	var order []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Seq        uint64
			Transition string
			Alert      struct{ Key string }
		}
		json.NewDecoder(r.Body).Decode(&ev)
		k := fmt.Sprintf("%d %s %s", ev.Seq, ev.Alert.Key, ev.Transition)
		mu.Lock()
		sent[k]++
		order = append(order, k)
		mu.Unlock()
	}))
	defer hook.Close()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(order)
	}

	pg := pgtest.New(t)
	schema := storetest.Schema(t, pg.DSN("postgres"))
	config := filepath.Join(t.TempDir(), "quarry.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf("store:\n  engine: postgres\n  dsn: '%s'\n  replicas: true\n"+
		"alerts:\n  interval: 1s\n  webhooks:\n    - {name: ops, url: '%s', format: json}\n", schema, hook.URL)), 0o600)

	p1 := start(t, "--data", t.TempDir(), "--demo", "--config", config)
	for deadline := time.Now().Add(20 * time.Second); count() < 4; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook received %d events, want the demo's 4 openings\n%s", count(), p1.logs)
		}
	}
	p2 := start(t, "--data", t.TempDir(), "--config", config)
	time.Sleep(2 * time.Second) // two of p2's attempts at the lease
	if !strings.Contains(p1.logs.String(), "holds the lease of alerts") || strings.Contains(p2.logs.String(), "holds the lease of alerts") {
		t.Fatalf("the first replica should hold the alerts' lease, and only it\n--- 1:\n%s\n--- 2:\n%s", p1.logs, p2.logs)
	}

	// Sustained ingest through both replicas, across the kill.
	var ackMu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var clients sync.WaitGroup
	hc := &http.Client{Timeout: 10 * time.Second}
	for c := range 8 {
		clients.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := []*proc{p1, p2}[(c+i)%2]
				id := fmt.Sprintf("0193a4d2-7b1e-7c3a-%04x-%012x", c, i)
				ev := fmt.Sprintf(`{"eventType":"COMPLETE","eventTime":"2026-11-22T10:00:00Z","producer":"https://example.com/replicas-test",
					"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
					"run":{"runId":%q},"job":{"namespace":"cron","name":"copy_%d"},
					"inputs":[{"namespace":"postgres://db:5432","name":"shop.public.orders"}],
					"outputs":[{"namespace":"postgres://db:5432","name":"shop.public.orders_%d"}]}`, id, c, i%10)
				resp, err := hc.Post("http://"+p.addr+"/api/v1/lineage", "application/json", strings.NewReader(ev))
				if err != nil {
					continue // killed
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					ackMu.Lock()
					acked = append(acked, id)
					ackMu.Unlock()
				}
			}
		})
	}
	time.Sleep(time.Second)
	if err := p1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p1.done
	killed := time.Now()
	time.Sleep(time.Second)
	close(stop)
	clients.Wait()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(p2.logs.String(), "holds the lease of alerts"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the second replica did not take the alerts over\n%s", p2.logs)
		}
	}
	t.Logf("the second replica took the alerts' lease %s after the first was killed", time.Since(killed).Round(time.Millisecond))

	// Every event answered 201, by either replica, is applied.
	missing := missingRunsWithin(t, p2, acked, 20*time.Second)
	if missing > 0 {
		t.Fatalf("%d of %d events answered 201 are not applied\n%s", missing, len(acked), p2.logs)
	}
	t.Logf("%d events answered 201 across the kill, all applied", len(acked))

	// A failing check reported to the survivor opens an alert it sends.
	ev := `{"eventType":"COMPLETE","eventTime":"2026-11-22T10:00:00Z","producer":"https://example.com/replicas-test",
		"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
		"run":{"runId":"0193a4d2-7b1e-7c3a-9d2e-4f5a6b7c8d9e"},"job":{"namespace":"cron","name":"load_replicated"},
		"outputs":[{"namespace":"postgres://db:5432","name":"shop.public.replicated",
			"facets":{"dataQualityAssertions":{"assertions":[{"assertion":"not_null_id","column":"id","success":false}]}}}]}`
	resp, err := http.Post("http://"+p2.addr+"/api/v1/lineage", "application/json", strings.NewReader(ev))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST lineage to the survivor: %s", resp.Status)
	}
	for deadline := time.Now().Add(20 * time.Second); count() < 5; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook received %d events, want the new check's opening too: %v\n%s", count(), order, p2.logs)
		}
	}
	time.Sleep(2 * time.Second) // two more passes: nothing sent again
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(order[len(order)-1], "not_null_id") {
		t.Fatalf("the last event sent is not the new check's: %v", order)
	}
	for k, n := range sent {
		if n != 1 {
			t.Errorf("%q sent %d times", k, n)
		}
	}
	if len(order) != 5 {
		t.Errorf("events sent: %v, want the demo's 4 openings and the new check's", order)
	}
}

//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/store/storetest"
)

// Two `quarry serve` replicas on one PostgreSQL schema, alerts configured
// on both. The first, which holds the leases, is paused (SIGSTOP: its
// kernel still answers for its connections, so PostgreSQL sees them
// alive). PostgreSQL ends its idle lease sessions and the second takes
// the alerts and the applier over: it applies a failing check reported to
// it and sends the alert. The first, resumed, finds its leases gone and
// stops that work; no webhook event is sent twice.
func TestReplicasTakeOverFromAPausedHolder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and two servers")
	}
	hook := newWebhook(t)

	pg := pgtest.New(t)
	schema := storetest.Schema(t, pg.DSN("postgres"))
	config := filepath.Join(t.TempDir(), "quarry.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf("store:\n  engine: postgres\n  dsn: '%s'\n  replicas: true\n"+
		"alerts:\n  interval: 1s\n  webhooks:\n    - {name: ops, url: '%s', format: json}\n", schema, hook.URL)), 0o600)

	p1 := start(t, "--data", t.TempDir(), "--demo", "--config", config)
	hook.waitFor(t, 4, 20*time.Second, p1.logs) // the demo's openings
	p2 := start(t, "--data", t.TempDir(), "--config", config)
	time.Sleep(2 * time.Second)
	if strings.Contains(p2.logs.String(), "holds the lease of alerts") {
		t.Fatalf("the second replica took the alerts' lease from a live holder\n%s", p2.logs)
	}

	if err := p1.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p1.cmd.Process.Signal(syscall.SIGCONT) })
	paused := time.Now()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(p2.logs.String(), "holds the lease of alerts"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the second replica did not take the alerts over from the paused one\n%s", p2.logs)
		}
	}
	t.Logf("the second replica took the alerts' lease %s after the first was paused", time.Since(paused).Round(time.Millisecond))

	ev := `{"eventType":"COMPLETE","eventTime":"2026-11-22T10:00:00Z","producer":"https://example.com/replicas-test",
		"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
		"run":{"runId":"0193a4d2-7b1e-7c3a-9d2e-4f5a6b7c8d9f"},"job":{"namespace":"cron","name":"load_paused"},
		"outputs":[{"namespace":"postgres://db:5432","name":"shop.public.paused",
			"facets":{"dataQualityAssertions":{"assertions":[{"assertion":"not_null_id","column":"id","success":false}]}}}]}`
	resp, err := http.Post("http://"+p2.addr+"/api/v1/lineage", "application/json", strings.NewReader(ev))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST lineage to the second replica: %s", resp.Status)
	}
	hook.waitFor(t, 5, 30*time.Second, p2.logs) // and the new check's

	if err := p1.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(p1.logs.String(), "lost the lease of alerts"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the resumed replica did not notice it lost the alerts' lease\n%s", p1.logs)
		}
	}
	hook.sentOnce(t, "not_null_id") // after passes and deliveries of both, were both at work
}

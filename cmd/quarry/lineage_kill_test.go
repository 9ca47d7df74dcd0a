package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A server killed (SIGKILL) while clients post OpenLineage events loses
// none that it answered 201: a backup of the data directory taken while it
// is down has every one, and so does the server started on it again.
func TestLineageSurvivesKill(t *testing.T) {
	data := t.TempDir()
	p := start(t, "--data", data)
	var mu sync.Mutex
	var acked []string // run ids answered 201
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 10 * time.Second}
	for c := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := uuid.NewString()
				ev := fmt.Sprintf(`{"eventType":"COMPLETE","eventTime":"2026-11-22T10:00:00Z","producer":"https://example.com/kill-test",
					"schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
					"run":{"runId":%q},"job":{"namespace":"cron","name":"copy_%d"},
					"inputs":[{"namespace":"postgres://db:5432","name":"shop.public.orders"}],
					"outputs":[{"namespace":"postgres://db:5432","name":"shop.public.orders_%d"}]}`, id, c, i%10)
				resp, err := hc.Post("http://"+p.addr+"/api/v1/lineage", "application/json", strings.NewReader(ev))
				sent.Add(1)
				if err != nil {
					continue // killed: the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d events accepted in 30 s\n%s", n, p.logs)
		}
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	close(stop)
	wg.Wait()
	t.Logf("%d events acknowledged of %d sent before and after the kill", len(acked), sent.Load())

	// A backup of the stopped data directory applies what the server had
	// accepted and not applied yet.
	backup := filepath.Join(t.TempDir(), "backup.db")
	out, err := exec.Command(binary, "backup", "--data", data, backup).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "via the data directory") {
		t.Fatalf("backup after the kill: %v %s", err, out)
	}
	t.Logf("%s", out) // whether the server had left events to apply

	restored := t.TempDir()
	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, storeFile), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{restored, data} {
		p := start(t, "--data", dir)
		// The restarted server applies what is left in its log within
		// milliseconds; give it a moment before reading.
		missing := missingRunsWithin(t, p, acked, 10*time.Second)
		if missing > 0 {
			t.Fatalf("%s: %d of %d acknowledged events are missing", dir, missing, len(acked))
		}
		p.stop(t)
	}
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/graph/graphtest"
)

// TestServeSources: through `quarry serve`, a source can reach none of the
// server's secrets (its $PGPASSWORD, its files, its other environment
// variables), a failure to connect says only its category, and the crawl
// of a frozen (SIGSTOPped) PostgreSQL fails within the config's deadlines,
// after which the source's next crawl is accepted.
func TestServeSources(t *testing.T) {
	pgs := pgtest.New(t)
	t.Cleanup(func() { pgs.Thaw() }) // before Stop: cleanups run last first
	shop := pgs.Database(t, "shop", "CREATE TABLE orders (id int)")
	fake := pgtest.NewFake(t)
	t.Setenv("PGPASSWORD", "server-secret-pgpassword")
	t.Setenv("QUARRY_SOURCE_FAKE", "postgres://crawler@"+fake.Addr+"/shop?sslmode=disable")
	t.Setenv("QUARRY_SOURCE_SHOP", shop)
	cfg := filepath.Join(t.TempDir(), "quarry.yaml")
	if err := os.WriteFile(cfg, []byte("crawl: {connectTimeout: 2s, queryTimeout: 2s, timeout: 20s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "--data", t.TempDir(), "--config", cfg)
	c := graphtest.Client{URL: "http://" + p.addr + "/graphql"}
	const register = `mutation($in: SourceInput!) { registerSource(input: $in) { name } }`
	const crawl = `mutation($name: String!) { crawlSource(name: $name, wait: true) { status error } }`
	crawlRun := func(name string) map[string]any {
		t.Helper()
		return c.Query(t, crawl, map[string]any{"name": name})["crawlSource"].(map[string]any)
	}

	c.Query(t, register, map[string]any{"in": map[string]any{"name": "fake", "kind": "POSTGRES", "dsnEnv": "QUARRY_SOURCE_FAKE"}})
	if run := crawlRun("fake"); run["status"] != "FAILED" || run["error"] != "connect: password authentication failed" {
		t.Fatalf("the crawl of the fake server: %v", run)
	}
	if conns, received := fake.Seen(); conns == 0 || strings.Contains(received, "server-secret") {
		t.Fatalf("the fake server (%d connections) received: %q", conns, received)
	}
	for name, in := range map[string]map[string]any{
		"passfile":    {"name": "files", "kind": "POSTGRES", "dsn": "postgres://crawler@" + fake.Addr + "/shop?passfile=/root/.pgpass"},
		"sslrootcert": {"name": "files", "kind": "POSTGRES", "dsn": "postgres://crawler@" + fake.Addr + "/shop?sslmode=verify-ca&sslrootcert=/etc/ssl/private/x"},
		"dsnEnv":      {"name": "home", "kind": "POSTGRES", "dsnEnv": "HOME"},
	} {
		field := "input.dsn"
		if name == "dsnEnv" {
			field = "input.dsnEnv"
		}
		e := c.Do(t, register, map[string]any{"in": in}).OneError(t, "invalid", field)
		if !strings.Contains(e.Message, name) {
			t.Fatalf("registering a source with %s: %q, want it named", name, e.Message)
		}
	}

	c.Query(t, register, map[string]any{"in": map[string]any{"name": "shop", "kind": "POSTGRES", "dsnEnv": "QUARRY_SOURCE_SHOP"}})
	if err := pgs.Freeze(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run := crawlRun("shop")
	took := time.Since(start)
	pgs.Thaw()
	if run["status"] != "FAILED" || !strings.Contains(run["error"].(string), "timed out") || took > 15*time.Second {
		t.Fatalf("the crawl of a frozen source after %s: %v, want FAILED, timed out, within the deadline", took, run)
	}
	// The thawed server first works off what queued while it was frozen.
	if err := pgs.Exec(context.Background(), "shop", "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if run := crawlRun("shop"); run["status"] != "SUCCEEDED" {
		t.Fatalf("the crawl after the source thawed: %v", run)
	}
	p.stop(t)
}

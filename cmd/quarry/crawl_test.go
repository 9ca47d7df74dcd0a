package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry/crawler/mysqltest"
	"github.com/quarrydata/quarry/crawler/pgtest"
)

func TestCrawlCommand(t *testing.T) {
	pg := pgtest.New(t)
	pg.Database(t, "shop", `CREATE SCHEMA sales; CREATE TABLE sales.orders (id bigint PRIMARY KEY, total numeric);
		CREATE VIEW sales.totals AS SELECT sum(total) AS total FROM sales.orders; CREATE TABLE public.junk (x int);`)
	data := t.TempDir()
	out, err := exec.Command(binary, "crawl", "--data", data, "--exclude", "public", pg.DSN("shop")).CombinedOutput()
	if err != nil {
		t.Fatalf("crawl: %v\n%s", err, out)
	}
	for _, want := range []string{"crawling postgres://postgres:xxxxx@", "datasets 2: 2 new, 0 changed, 0 removed", "lineage edges"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), pgtest.Password) {
		t.Fatalf("the password was printed:\n%s", out)
	}
	// Flags may follow the DSN, as people type them.
	out, _ = exec.Command(binary, "crawl", pg.DSN("shop"), "--data", data, "--exclude", "public").CombinedOutput()
	if !strings.Contains(string(out), "datasets 2: 0 new, 0 changed, 0 removed") {
		t.Fatalf("second crawl, flags after the DSN:\n%s", out)
	}

	// The crawled catalog is what the server serves.
	p := start(t, "--data", data)
	d := p.graphql(t, `{ dataset(namespace: "postgres://127.0.0.1:`+strconv.Itoa(pg.Port)+`", name: "shop.sales.totals") { kind upstream { fromDataset { name } } } }`, nil)["dataset"].(map[string]any)
	if d["kind"] != "VIEW" || len(d["upstream"].([]any)) == 0 {
		t.Fatalf("served: %v", d)
	}
	// While the server holds the directory, crawl says how to go on.
	out, err = exec.Command(binary, "crawl", "--data", data, pg.DSN("shop")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "crawlSource") {
		t.Fatalf("crawl of a held data dir: %v\n%s", err, out)
	}
	p.stop(t)

	// A source declared in the config file is registered at start, and
	// crawled at once, though its schedule is six hours: it was never
	// crawled. At the next start it waits for its schedule.
	cfg := filepath.Join(t.TempDir(), "quarry.yaml")
	os.WriteFile(cfg, []byte("sources:\n  - name: shop\n    kind: postgres\n    dsn: '"+pg.DSN("shop")+"'\n    include: [sales]\n    schedule: '@every 6h'\n"), 0o600)
	configured := t.TempDir()
	p = start(t, "--data", configured, "--config", cfg)
	run := firstCrawl(t, p, "shop")
	if run["status"] != "SUCCEEDED" || run["counts"].(map[string]any)["datasets"].(float64) != 2 {
		t.Fatalf("crawl of a configured source: %v", run)
	}
	if strings.Contains(p.logs.String(), pgtest.Password) {
		t.Fatalf("the password is in the server log:\n%s", p.logs)
	}
	p.stop(t)
	p = start(t, "--data", configured, "--config", cfg)
	time.Sleep(time.Second)
	if runs := p.graphql(t, `{ source(name: "shop") { runs { status } } }`, nil)["source"].(map[string]any)["runs"].([]any); len(runs) != 1 {
		t.Fatalf("after a restart, the source crawled already has runs %v, want the first one only", runs)
	}
	p.stop(t)

	out, err = exec.Command(binary, "crawl", "--data", data, strings.Replace(pg.DSN("shop"), pgtest.Password, "nope", 1)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "password authentication failed") || !strings.Contains(string(out), "nothing was removed") {
		t.Fatalf("wrong password: %v\n%s", err, out)
	}
}

// TestCrawlCommandMySQL: quarry crawl tells a MySQL DSN (either form) from
// a PostgreSQL one, crawls it, and a source of kind mysql in the config is
// crawled by the server.
func TestCrawlCommandMySQL(t *testing.T) {
	my := mysqltest.New(t, nil)
	my.Database(t, "accounts", `CREATE TABLE users (id int PRIMARY KEY, email varchar(200) NOT NULL) COMMENT 'People who sign in.';
		CREATE VIEW active_users AS SELECT id FROM users WHERE email <> '';`)
	data := t.TempDir()
	out, err := exec.Command(binary, "crawl", "--data", data, my.DSN("accounts")).CombinedOutput()
	if err != nil {
		t.Fatalf("crawl: %v\n%s", err, out)
	}
	for _, want := range []string{"crawling mysql://quarry:xxxxx@", "crawled " + my.Namespace() + " (accounts)", "datasets 2: 2 new, 0 changed, 0 removed"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = exec.Command(binary, "crawl", "--data", data, my.DriverDSN("accounts")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "crawling quarry:xxxxx@tcp(") || !strings.Contains(string(out), "datasets 2: 0 new, 0 changed, 0 removed") {
		t.Fatalf("crawl through the driver's DSN: %v\n%s", err, out)
	}
	if strings.Contains(string(out), mysqltest.Password) {
		t.Fatalf("the password was printed:\n%s", out)
	}

	cfg := filepath.Join(t.TempDir(), "quarry.yaml")
	os.WriteFile(cfg, []byte("sources:\n  - name: accounts\n    kind: mysql\n    dsn: '"+my.DSN("accounts")+"'\n"), 0o600)
	p := start(t, "--data", data, "--config", cfg)
	run := firstCrawl(t, p, "accounts")
	if run["status"] != "SUCCEEDED" || run["counts"].(map[string]any)["datasets"].(float64) != 2 {
		t.Fatalf("crawl of a configured source: %v", run)
	}
	d := p.graphql(t, `{ dataset(namespace: "`+my.Namespace()+`", name: "accounts.active_users") { kind upstream { fromDataset { name } } } }`, nil)["dataset"].(map[string]any)
	if d["kind"] != "VIEW" || len(d["upstream"].([]any)) == 0 {
		t.Fatalf("served: %v", d)
	}
	if strings.Contains(p.logs.String(), mysqltest.Password) {
		t.Fatalf("the password is in the server log:\n%s", p.logs)
	}
	p.stop(t)
}

// firstCrawl waits for the crawl the server starts by itself of a source
// never crawled, and returns it once finished.
func firstCrawl(t *testing.T, p *proc, source string) map[string]any {
	t.Helper()
	var run map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		src := p.graphql(t, `query($name: String!) { source(name: $name) { lastRun { status counts { datasets } } } }`, map[string]any{"name": source})["source"].(map[string]any)
		run, _ = src["lastRun"].(map[string]any)
		if run != nil && run["status"] != "RUNNING" {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("source %s: no finished crawl 30 s after start (last run %v)\n%s", source, run, p.logs)
		}
	}
}

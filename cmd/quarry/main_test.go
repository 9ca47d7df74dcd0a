package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/graph/graphtest"
)

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "quarry-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "quarry")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
	done chan error
}

var listening = regexp.MustCompile(`msg="quarry listening" addr=(\S+)`)

// start runs `quarry serve` on a free port and waits until it listens.
func start(t testing.TB, args ...string) *proc {
	t.Helper()
	return startWith(t, binary, nil, args...)
}

// startWith runs bin's `quarry serve` with env added to the test's
// environment, as start does.
func startWith(t testing.TB, bin string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case p.addr = <-addr:
	case err := <-p.done:
		t.Fatalf("quarry serve exited: %v\n%s", err, p.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("quarry serve did not start\n%s", p.logs)
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
		}
	case <-time.After(60 * time.Second): // a loaded machine has taken over 30 s
		t.Fatalf("no exit after SIGTERM\n%s", p.logs)
	}
}

// graphql runs a GraphQL operation on the server and returns its data,
// failing the test on any error.
func (p *proc) graphql(t *testing.T, query string, vars map[string]any) map[string]any {
	t.Helper()
	c := graphtest.Client{URL: "http://" + p.addr + "/graphql"}
	return c.Query(t, query, vars)
}

// waitSearchReady waits until /healthz no longer says the search index is
// rebuilding.
func waitSearchReady(t *testing.T, p *proc) {
	t.Helper()
	if err := searchReadyWithin(p, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

// searchReadyWithin polls /healthz until it no longer says the search
// index is rebuilding, for up to d.
func searchReadyWithin(p *proc, d time.Duration) error {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		var h struct{ Search string }
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		if err == nil && h.Search != "rebuilding" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the search index is still rebuilding after %s (%v)", d, err)
		}
	}
}

func TestServeRestartKeepsData(t *testing.T) {
	data := t.TempDir()
	p := start(t, "--data", data)
	res := p.graphql(t, `mutation($in: [DatasetInput!]!) { upsertDatasets(input: $in) { ids } }`, map[string]any{"in": []any{
		map[string]any{"namespace": "postgres://wh:5432", "name": "analytics.marts.fct_orders", "description": "Orders fact.",
			"columns": []any{map[string]any{"name": "order_id", "type": "bigint"}}},
	}})
	id := res["upsertDatasets"].(map[string]any)["ids"].([]any)[0].(string)
	if _, err := os.Stat(filepath.Join(data, serverFile)); err != nil {
		t.Fatalf("server.json while running: %v", err)
	}
	p.stop(t)
	if !strings.Contains(p.logs.String(), "shutting down") {
		t.Fatalf("no graceful shutdown in logs:\n%s", p.logs)
	}
	if _, err := os.Stat(filepath.Join(data, serverFile)); !os.IsNotExist(err) {
		t.Fatalf("server.json left behind after shutdown: %v", err)
	}

	p = start(t, "--data", data)
	d := p.graphql(t, `query($id: ID) { dataset(id: $id) { name description columns { name } } }`, map[string]any{"id": id})["dataset"].(map[string]any)
	if d["name"] != "analytics.marts.fct_orders" || d["description"] != "Orders fact." {
		t.Fatalf("after restart: %v", d)
	}
	p.stop(t)
}

func TestServeDemo(t *testing.T) {
	data := t.TempDir()
	p := start(t, "--data", data, "--demo")
	const q = `{ datasets(first: 1) { totalCount } dataset(namespace: "redshift://analytics.us-east-1:5439", name: "analytics.reporting.daily_revenue") { description columns { name } }
		view: dataset(namespace: "redshift://analytics.us-east-1:5439", name: "analytics.staging.stg_orders") { upstream { fromDataset { name } toColumn } }
		fct: dataset(namespace: "redshift://analytics.us-east-1:5439", name: "analytics.marts.fct_orders") { history { kind column } } }`
	// The ETL history went in through the OpenLineage ingest, applied
	// before the server listens.
	if n := demoRuns(t, p); n < 150 {
		t.Fatalf("the demo loaded %d runs:\n%s", n, p.logs)
	}
	d := p.graphql(t, q, nil)
	total := d["datasets"].(map[string]any)["totalCount"].(float64)
	if total < 38 || d["dataset"] == nil {
		t.Fatalf("demo catalog: %v", d)
	}
	if up := d["view"].(map[string]any)["upstream"].([]any); len(up) < 5 || up[0].(map[string]any)["fromDataset"].(map[string]any)["name"] != "analytics.raw.orders" {
		t.Fatalf("demo view lineage: %v", up)
	}
	// The demo is searchable out of the box, once the new index has caught
	// up (until then searches answer unavailable and /healthz says so).
	waitSearchReady(t, p)
	var first any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		hits := p.graphql(t, `{ search(query: "revenue") { hits { dataset { name } } } }`, nil)["search"].(map[string]any)["hits"].([]any)
		if len(hits) > 0 {
			first = hits[0].(map[string]any)["dataset"].(map[string]any)["name"]
			break
		}
	}
	if first != "analytics.reporting.daily_revenue" {
		t.Fatalf("search revenue: first %v", first)
	}
	var kinds []string
	for _, h := range d["fct"].(map[string]any)["history"].([]any) {
		kinds = append(kinds, h.(map[string]any)["kind"].(string))
	}
	if len(kinds) < 3 || kinds[len(kinds)-1] != "DATASET_CREATED" || !slices.Contains(kinds, "COLUMN_ADDED") || !slices.Contains(kinds, "TYPE_CHANGED") {
		t.Fatalf("demo schema history: %v", kinds)
	}
	// The index can be rebuilt through the running server.
	if out, err := exec.Command(binary, "index", "rebuild", "--data", data).CombinedOutput(); err != nil || !strings.Contains(string(out), "is rebuilding") && !strings.Contains(string(out), "rebuilt its search index") {
		t.Fatalf("index rebuild through the server: %v %s", err, out)
	}
	p.stop(t)
	// Seeding again is idempotent: same count, nothing changed.
	p = start(t, "--data", data, "--demo")
	if again := p.graphql(t, q, nil)["datasets"].(map[string]any)["totalCount"].(float64); again != total {
		t.Fatalf("second demo start: %v datasets, first %v", again, total)
	}
	if !strings.Contains(p.logs.String(), "changed=0") {
		t.Fatalf("re-seeding changed datasets:\n%s", p.logs)
	}
	// Only the runs that ended since the first start (none, or the few of
	// a period boundary passed meanwhile).
	if n := demoRuns(t, p); n > 20 {
		t.Fatalf("the second start loaded %d runs again:\n%s", n, p.logs)
	}
	p.stop(t)
	// And in a data directory no server holds.
	if out, err := exec.Command(binary, "index", "rebuild", "--data", data).CombinedOutput(); err != nil || !strings.Contains(string(out), "search index rebuilt") {
		t.Fatalf("index rebuild of a stopped data dir: %v %s", err, out)
	}
}

var demoLoaded = regexp.MustCompile(`msg="demo catalog loaded" .*\bruns=(\d+)`)

// demoRuns returns how many ETL runs the server's demo load added.
func demoRuns(t *testing.T, p *proc) int {
	t.Helper()
	m := demoLoaded.FindStringSubmatch(p.logs.String())
	if m == nil {
		t.Fatalf("no demo load logged:\n%s", p.logs)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestBackup(t *testing.T) {
	data := t.TempDir()
	p := start(t, "--data", data, "--demo")
	out := filepath.Join(t.TempDir(), "running.db")
	got, err := exec.Command(binary, "backup", "--data", data, out).CombinedOutput()
	if err != nil || !strings.Contains(string(got), "via http://") {
		t.Fatalf("backup of a running server: %v %s", err, got)
	}
	p.stop(t)

	offline := filepath.Join(t.TempDir(), "offline.db")
	got, err = exec.Command(binary, "backup", "--data", data, offline).CombinedOutput()
	if err != nil || !strings.Contains(string(got), "via the data directory") {
		t.Fatalf("backup of a stopped data dir: %v %s", err, got)
	}

	// Restore: a backup is a data directory's store file.
	restored := t.TempDir()
	b, _ := os.ReadFile(out)
	if err := os.WriteFile(filepath.Join(restored, storeFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	p = start(t, "--data", restored)
	if n := p.graphql(t, `{ datasets { totalCount } }`, nil)["datasets"].(map[string]any)["totalCount"].(float64); n < 38 {
		t.Fatalf("restored catalog has %v datasets", n)
	}
	p.stop(t)

	t.Run("ErrExists", func(t *testing.T) {
		before, _ := os.ReadFile(offline)
		got, err := exec.Command(binary, "backup", "--data", data, offline).CombinedOutput()
		if err == nil || !strings.Contains(string(got), offline+" exists: give --force") {
			t.Fatalf("backup over an existing file: %v %s", err, got)
		}
		if after, _ := os.ReadFile(offline); !bytes.Equal(before, after) {
			t.Fatal("the refused backup changed the existing file")
		}
		got, err = exec.Command(binary, "backup", offline, "--force", "--data", restored).CombinedOutput()
		if err != nil || !strings.Contains(string(got), "backup written to "+offline) {
			t.Fatalf("backup --force over an existing file: %v %s", err, got)
		}
	})
	t.Run("ErrNoStore", func(t *testing.T) {
		got, err := exec.Command(binary, "backup", "--data", t.TempDir(), filepath.Join(t.TempDir(), "x.db")).CombinedOutput()
		if err == nil || !strings.Contains(string(got), "has no store") {
			t.Fatalf("backup of an empty dir: %v %s", err, got)
		}
	})
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"NoCommand", nil, "no command"},
		{"UnknownCommand", []string{"srve"}, `unknown command "srve"`},
		{"BadFlag", []string{"serve", "--port", "1"}, "flag provided but not defined"},
		{"ServeArgs", []string{"serve", "extra"}, "takes no arguments"},
		{"BackupArgs", []string{"backup"}, "one argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(ctx, tc.args, io.Discard, io.Discard)
			var ue usageError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ue) {
				t.Fatalf("run(%q) = %v, want a usage error containing %q", tc.args, err, tc.want)
			}
		})
	}
	// Flags may follow the arguments; after "--" all is arguments.
	for _, tc := range []struct {
		args        []string
		data, args2 string
	}{
		{[]string{"--data", "d", "x"}, "d", "x"},
		{[]string{"x", "--data", "d"}, "d", "x"},
		{[]string{"x", "--data=d", "y"}, "d", "x y"},
		{[]string{"--", "-x", "--data", "d"}, "", "-x --data d"},
		{[]string{"x", "--", "--data", "d"}, "", "x --data d"},
	} {
		fs := newFlagSet("t", io.Discard)
		data := fs.String("data", "", "")
		if err := parseFlags(fs, tc.args); err != nil || *data != tc.data || strings.Join(fs.Args(), " ") != tc.args2 {
			t.Errorf("parseFlags(%q): %v, data %q, args %q; want data %q, args %q", tc.args, err, *data, fs.Args(), tc.data, tc.args2)
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"version"}, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "quarry ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

func TestLoadConfig(t *testing.T) {
	write := func(body string) string {
		path := filepath.Join(t.TempDir(), "quarry.yaml")
		os.WriteFile(path, []byte(body), 0o600)
		return path
	}
	cfg, err := loadConfig(write("addr: 127.0.0.1:9999\nlog:\n  level: debug\n  format: json\nlimits:\n  queryDepth: 20\n"))
	if err != nil || cfg.Addr != "127.0.0.1:9999" || cfg.Data != "./quarry-data" || cfg.Log.Format != "json" || cfg.Limits.QueryDepth != 20 {
		t.Fatalf("config = %+v, %v", cfg, err)
	}
	cfg, err = loadConfig(write("sources:\n  - name: shop\n    kind: postgres\n    dsnEnv: QUARRY_SOURCE_SHOP\n    schedule: '@hourly'\n    include: [public]\n"))
	if err != nil || len(cfg.Sources) != 1 || cfg.Sources[0].source().Kind != quarry.SourcePostgres || cfg.Sources[0].Include[0] != "public" {
		t.Fatalf("sources config = %+v, %v", cfg.Sources, err)
	}
	cfg, err = loadConfig(write("freshness:\n  defaults:\n    - tag: tier1\n      warnAfter: 6h\n      errorAfter: 1d\n    - name: 'analytics.reporting.*'\n      warnAfter: 1d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if defaults, err := cfg.freshnessDefaults(); err != nil || len(defaults) != 2 || defaults[0].Tag != "tier1" || defaults[0].Policy.ErrorAfter != 24*time.Hour || defaults[1].Name != "analytics.reporting.*" {
		t.Fatalf("freshness defaults = %+v, %v", defaults, err)
	}
	t.Setenv("QUARRY_TEST_HOOK", "https://hooks.slack.com/services/T0/B0/secret")
	cfg, err = loadConfig(write("alerts:\n  interval: 30s\n  webhooks:\n    - {name: eng, urlEnv: QUARRY_TEST_HOOK, format: slack}\n    - {url: 'http://127.0.0.1:9/hook'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if interval, hooks, err := cfg.alerts(os.Getenv); err != nil || interval != 30*time.Second || len(hooks) != 2 ||
		hooks[0] != (quarry.Webhook{Name: "eng", URL: "https://hooks.slack.com/services/T0/B0/secret", Format: "slack"}) ||
		hooks[1] != (quarry.Webhook{Name: "webhook-2", URL: "http://127.0.0.1:9/hook", Format: "json"}) {
		t.Fatalf("alerts config = %v %+v, %v", interval, hooks, err)
	}
	if cfg, err := loadConfig(write("")); err != nil || cfg.Addr != "127.0.0.1:8080" {
		t.Fatalf("empty config = %+v, %v", cfg, err)
	}
	for name, body := range map[string]string{
		"ErrUnknownKey":  "adress: 127.0.0.1:1\n",
		"ErrLevel":       "log:\n  level: loud\n",
		"ErrFormat":      "log:\n  format: xml\n",
		"ErrNegative":    "limits:\n  bodyBytes: -1\n",
		"ErrYAML":        "addr: [\n",
		"ErrSource":      "sources:\n  - name: Shop DB\n    kind: postgres\n    dsnEnv: QUARRY_SOURCE_X\n",
		"ErrSourceTwice": "sources:\n  - {name: a, kind: postgres, dsnEnv: QUARRY_SOURCE_X}\n  - {name: a, kind: postgres, dsnEnv: QUARRY_SOURCE_Y}\n",
		"ErrDuration":    "freshness:\n  defaults:\n    - {tag: tier1, warnAfter: soon}\n",
		"ErrNoMatch":     "freshness:\n  defaults:\n    - {warnAfter: 1h}\n",
		"ErrPattern":     "freshness:\n  defaults:\n    - {name: '[', warnAfter: 1h}\n",
		"ErrInterval":    "alerts:\n  interval: 10ms\n",
		"ErrHookURL":     "alerts:\n  webhooks:\n    - {url: 'ftp://x/y'}\n",
		"ErrHookFormat":  "alerts:\n  webhooks:\n    - {url: 'http://x/y', format: teams}\n",
		"ErrHookEnv":     "alerts:\n  webhooks:\n    - {urlEnv: QUARRY_UNSET_HOOK_VAR}\n",
		"ErrHookTwice":   "alerts:\n  webhooks:\n    - {name: a, url: 'http://x/y'}\n    - {name: a, url: 'http://x/z'}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadConfig(write(body)); err == nil {
				t.Fatalf("config %q accepted", body)
			}
		})
	}
	// A bad URL from the environment is named by the key that gives it,
	// and not quoted (a webhook URL is a secret).
	t.Setenv("QUARRY_TEST_BAD_HOOK", "ftp://hooks.example/T0/s3cret")
	if _, err := loadConfig(write("alerts:\n  webhooks:\n    - {urlEnv: QUARRY_TEST_BAD_HOOK}\n")); err == nil ||
		!strings.Contains(err.Error(), "alerts.webhooks[0].urlEnv: $QUARRY_TEST_BAD_HOOK: ") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("a bad URL from urlEnv: %v", err)
	}
	if _, err := loadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("a missing config file was accepted")
	}
	// Flags win over the file.
	dir := t.TempDir()
	p := start(t, "--config", write("addr: 127.0.0.1:1\ndata: /nonexistent/x\n"), "--data", dir)
	if !strings.HasPrefix(p.addr, "127.0.0.1:") || p.addr == "127.0.0.1:1" {
		t.Fatalf("--addr did not win over the config: %s", p.addr)
	}
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, storeFile)); err != nil {
		t.Fatalf("--data did not win over the config: %v", err)
	}
}

// The demo's alerts: evaluated at start, sent to the configured webhook,
// printed by `quarry alerts`, which exits 2 because some are at ERROR.
func TestAlertsCommand(t *testing.T) {
	var mu sync.Mutex
	var events []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}))
	defer hook.Close()
	config := filepath.Join(t.TempDir(), "quarry.yaml")
	os.WriteFile(config, []byte("alerts:\n  webhooks:\n    - {name: ops, url: '"+hook.URL+"', format: json}\n"), 0o600)
	p := start(t, "--data", t.TempDir(), "--demo", "--config", config)

	var out []byte
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err = exec.Command(binary, "alerts", "--server", "http://"+p.addr).CombinedOutput()
		if strings.Contains(string(out), "4 open alert(s)") {
			break
		}
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("quarry alerts: %v, want exit 2\n%s", err, out)
	}
	// Each alert's line, its message indented below it, within 100
	// columns.
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("quarry alerts prints a line of %d columns, want at most 100: %q", n, line)
		}
		if !strings.HasPrefix(line, " ") {
			lines = append(lines, line)
		}
	}
	// Worst first: three at ERROR (the late export with its policy, the
	// inferred-late model, the failing check), then the warning.
	for i, want := range []string{"LEVEL", "ERROR", "ERROR", "ERROR", "WARN", "4 open alert(s)"} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], want) {
			t.Fatalf("quarry alerts output, line %d: want %q\n%s", i, want, out)
		}
	}
	for _, want := range []string{"finance/revenue_export.csv", "analytics.reporting.weekly_active_users", "method.accepted_values_fct_payments_method", "customer_key.relationships_fct_orders_customer_key"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("quarry alerts does not list %s:\n%s", want, out)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook received %d events, want 4 openings", n)
		}
	}
	mu.Lock()
	for _, ev := range events {
		if ev["transition"] != "OPENED" {
			t.Fatalf("webhook event %v", ev)
		}
	}
	mu.Unlock()
	p.stop(t)

	// An empty catalog has none: exit 0.
	p = start(t, "--data", t.TempDir())
	out, err = exec.Command(binary, "alerts", "--server", "http://"+p.addr).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "no open alerts" {
		t.Fatalf("quarry alerts on an empty catalog: %v\n%s", err, out)
	}
	p.stop(t)
	// No server: exit 1.
	out, err = exec.Command(binary, "alerts", "--server", "http://"+p.addr).CombinedOutput()
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("quarry alerts without a server: %v, want exit 1\n%s", err, out)
	}
}

// TestShutdownKeepsAcknowledgedWrites hammers the server with concurrent
// upserts, sends SIGTERM in the middle, and checks after a restart that
// every write that was acknowledged is there.
func TestShutdownKeepsAcknowledgedWrites(t *testing.T) {
	data := t.TempDir()
	p := start(t, "--data", data)
	acks := make(chan string, 100000)
	var acked atomic.Int64
	underWay := make(chan struct{}) // closed at the 200th acknowledged write
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body, _ := json.Marshal(map[string]any{
					"query":     `mutation($in: [DatasetInput!]!) { upsertDatasets(input: $in) { ids } }`,
					"variables": map[string]any{"in": []any{map[string]any{"namespace": "postgres://db:5432", "name": fmt.Sprintf("db.public.t_%d_%d", c, i)}}},
				})
				resp, err := client.Post("http://"+p.addr+"/graphql", "application/json", bytes.NewReader(body))
				if err != nil {
					return // the server went away: this write was not acknowledged
				}
				var out struct {
					Data struct {
						UpsertDatasets struct{ IDs []string } `json:"upsertDatasets"`
					} `json:"data"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err == nil && resp.StatusCode == 200 && len(out.Data.UpsertDatasets.IDs) == 1 {
					acks <- out.Data.UpsertDatasets.IDs[0]
					if acked.Add(1) == 200 {
						close(underWay)
					}
				}
			}
		})
	}
	// SIGTERM once the writers are well under way (not after a fixed time,
	// which a slow machine may spend starting them).
	select {
	case <-underWay:
	case <-time.After(30 * time.Second):
	}
	p.stop(t)
	close(stop)
	wg.Wait()
	close(acks)
	var ids []string
	for id := range acks {
		ids = append(ids, id)
	}
	if len(ids) < 50 {
		t.Fatalf("only %d writes were acknowledged before shutdown; the test proves little", len(ids))
	}

	p = start(t, "--data", data)
	defer p.stop(t)
	total := p.graphql(t, `{ datasets { totalCount } }`, nil)["datasets"].(map[string]any)["totalCount"].(float64)
	if int(total) < len(ids) {
		t.Fatalf("%d writes acknowledged, %v stored after restart", len(ids), total)
	}
	for _, id := range ids {
		if d := p.graphql(t, `query($id: ID) { dataset(id: $id) { id } }`, map[string]any{"id": id})["dataset"]; d == nil {
			t.Fatalf("acknowledged write %s lost", id)
		}
	}
	t.Logf("%d acknowledged writes, all present after restart", len(ids))
}

// syncBuffer is the server's log as the test reads it while it is written.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) WriteString(x string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(x)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

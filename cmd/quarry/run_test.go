package main

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quarryRun runs `quarry run` with the arguments and returns its stdout,
// stderr and exit code.
func quarryRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"run"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

const jobRunsQuery = `query($ns: String!, $name: String!) { job(namespace: $ns, name: $name) {
	type runs(first: 10) { nodes { id state startedAt endedAt durationMs errorMessage events outputs { name } } } } }`

// waitRuns waits until the job has a run in a terminal state (events are
// applied a moment after they are accepted) and returns its runs.
func waitRuns(t *testing.T, p *proc, ns, name string) []map[string]any {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if j, _ := p.graphql(t, jobRunsQuery, map[string]any{"ns": ns, "name": name})["job"].(map[string]any); j != nil {
			var runs []map[string]any
			for _, r := range j["runs"].(map[string]any)["nodes"].([]any) {
				runs = append(runs, r.(map[string]any))
			}
			if len(runs) > 0 && runs[0]["state"] != "START" && runs[0]["events"].(float64) >= 2 {
				return runs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ended run of job %s/%s after 10 s\n%s", ns, name, p.logs)
		}
	}
}

func lastUpdated(t *testing.T, p *proc, ns, name string) (time.Time, int) {
	t.Helper()
	d, _ := p.graphql(t, `query($ns: String!, $name: String!) { dataset(namespace: $ns, name: $name) { lastUpdatedAt dataChanges { signal } } }`,
		map[string]any{"ns": ns, "name": name})["dataset"].(map[string]any)
	if d == nil || d["lastUpdatedAt"] == nil {
		return time.Time{}, 0
	}
	at, err := time.Parse(time.RFC3339Nano, d["lastUpdatedAt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return at, len(d["dataChanges"].([]any))
}

const runNS = "postgres://db.internal:5432"

// TestQuarryRun: the real binary wraps real commands against a real
// server, and each run is reported as it ended.
func TestQuarryRun(t *testing.T) {
	p := start(t, "--data", t.TempDir())
	server := "http://" + p.addr
	spool := t.TempDir()

	t.Run("Complete", func(t *testing.T) {
		before := time.Now()
		out, errOut, code := quarryRun(t, "--server", server, "--spool", spool, "--job", "cron/load_orders",
			"--input", runNS+":shop.public.orders", "--output", runNS+":warehouse.raw.orders",
			"--", "sh", "-c", "echo copied 42 rows; sleep 0.3")
		if code != 0 || out != "copied 42 rows\n" || errOut != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		runs := waitRuns(t, p, "cron", "load_orders")
		r := runs[0]
		if len(runs) != 1 || r["state"] != "COMPLETE" || r["errorMessage"] != "" || r["events"].(float64) != 2 {
			t.Fatalf("runs: %v", runs)
		}
		if ms := r["durationMs"].(float64); ms < 300 || ms > 10000 {
			t.Fatalf("duration %v ms for a command that slept 300 ms", ms)
		}
		// The output's freshness moved to the run's end.
		at, _ := lastUpdated(t, p, runNS, "warehouse.raw.orders")
		ended, _ := time.Parse(time.RFC3339Nano, r["endedAt"].(string))
		if !at.Equal(ended) || at.Before(before) {
			t.Fatalf("lastUpdatedAt %v, want the run's end %v", at, ended)
		}
		if outs := r["outputs"].([]any); len(outs) != 1 {
			t.Fatalf("outputs %v", outs)
		}
	})

	t.Run("Fail", func(t *testing.T) {
		out, errOut, code := quarryRun(t, "--server", server, "--spool", spool, "--job", "cron/load_refunds",
			"--output", runNS+":warehouse.raw.refunds",
			"--", "sh", "-c", `i=0; while [ $i -lt 30 ]; do echo "line $i" >&2; i=$((i+1)); done; echo 'psql: connection to postgres://etl:hunter2@db failed' >&2; exit 3`)
		if code != 3 || out != "" || !strings.Contains(errOut, "line 0\n") || !strings.Contains(errOut, "hunter2") {
			t.Fatalf("exit %d (want the command's 3), stdout %q, stderr %q", code, out, errOut)
		}
		r := waitRuns(t, p, "cron", "load_refunds")[0]
		msg, _ := r["errorMessage"].(string)
		if r["state"] != "FAIL" || !strings.Contains(msg, "exited with code 3") || !strings.Contains(msg, "line 29\n") ||
			!strings.Contains(msg, "postgres://etl:***@db failed") {
			t.Fatalf("run %v", r)
		}
		// The tail: the last 20 lines, not the whole stderr, no password.
		if strings.Contains(msg, "line 10\n") || strings.Contains(msg, "hunter2") {
			t.Fatalf("error message is not the redacted tail:\n%s", msg)
		}
		if at, _ := lastUpdated(t, p, runNS, "warehouse.raw.refunds"); !at.IsZero() {
			t.Fatalf("a failed run moved its output's lastUpdatedAt to %v", at)
		}
	})

	t.Run("SIGTERM", func(t *testing.T) {
		cmd := exec.Command(binary, "run", "--server", server, "--spool", spool, "--job", "cron/slow",
			"--", "sh", "-c", "echo started; exec sleep 30")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var errb bytes.Buffer
		cmd.Stderr = &errb
		begin := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "started\n" {
			t.Fatalf("first line %q: %v", line, err)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		ee, ok := errors.AsType[*exec.ExitError](err)
		if !ok || ee.ExitCode() != 143 || time.Since(begin) > 20*time.Second {
			t.Fatalf("after SIGTERM: %v after %v (want exit 143, the command killed by the forwarded signal)\n%s", err, time.Since(begin), errb.String())
		}
		r := waitRuns(t, p, "cron", "slow")[0]
		if msg, _ := r["errorMessage"].(string); r["state"] != "FAIL" || !strings.Contains(msg, "killed by signal TERM (exit code 143)") {
			t.Fatalf("run %v", r)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, errOut, code := quarryRun(t, "--server", server, "--spool", spool, "--job", "cron/missing", "--", "/nonexistent/etl.sh")
		if code != 127 || !strings.Contains(errOut, "/nonexistent/etl.sh") {
			t.Fatalf("exit %d (want 127, as a shell says), stderr %q", code, errOut)
		}
		r := waitRuns(t, p, "cron", "missing")[0]
		if msg, _ := r["errorMessage"].(string); r["state"] != "FAIL" || !strings.Contains(msg, "could not be started") {
			t.Fatalf("run %v", r)
		}
	})

	t.Run("BackgroundHoldsStderr", func(t *testing.T) {
		// The command ends at once; what it left running keeps its
		// stderr open, and does not hold up its exit.
		begin := time.Now()
		out, _, code := quarryRun(t, "--server", server, "--spool", spool, "--job", "cron/background",
			"--", "sh", "-c", "sleep 8 >/dev/null & echo left")
		if code != 0 || out != "left\n" || time.Since(begin) > 6*time.Second {
			t.Fatalf("exit %d, stdout %q after %v", code, out, time.Since(begin))
		}
		if r := waitRuns(t, p, "cron", "background")[0]; r["state"] != "COMPLETE" {
			t.Fatalf("run %v", r)
		}
	})

	t.Run("Secrets", func(t *testing.T) {
		_, _, code := quarryRun(t, "--server", server, "--spool", spool, "--job", "cron/secrets",
			"--", "sh", "-c", "true", "--password=hunter2", "PGPASSWORD=hunter2", "-phunter2", "--token", "hunter2",
			"postgres://etl:hunter2@db:5432/shop", "keep=me")
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		waitRuns(t, p, "cron", "secrets")
		j := p.graphql(t, `{ job(namespace: "cron", name: "secrets") { facts { command host } } }`, nil)["job"].(map[string]any)
		cmdline := j["facts"].(map[string]any)["command"].(string)
		if strings.Contains(cmdline, "hunter2") || !strings.Contains(cmdline, "keep=me") || !strings.Contains(cmdline, "postgres://etl:***@db:5432/shop") {
			t.Fatalf("command line %q", cmdline)
		}
		if host, _ := os.Hostname(); j["facts"].(map[string]any)["host"] != host {
			t.Fatalf("facts %v, want host %q", j["facts"], host)
		}
	})

	if n, _ := os.ReadDir(spool); len(n) != 0 {
		t.Fatalf("events spooled while the server was up: %v", n)
	}
}

// TestQuarryRunServerDown: a command wrapped while the server is down
// runs as ever; its events are spooled and sent by the next quarry run,
// and the run is stored once, however often the spool is sent.
func TestQuarryRunServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	server := "http://" + addr
	spool := t.TempDir()

	begin := time.Now()
	out, errOut, code := quarryRun(t, "--server", server, "--spool", spool, "--retry-for", "1s", "--job", "cron/offline",
		"--output", runNS+":warehouse.raw.offline", "--", "sh", "-c", "echo done")
	if code != 0 || out != "done\n" || !strings.Contains(errOut, "spooled in "+spool) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Fatalf("the run took %v with the server down; the retries are bounded by --retry-for 1s", took)
	}
	files, _ := filepath.Glob(filepath.Join(spool, "*.json"))
	if len(files) != 2 || !strings.HasSuffix(files[0], "-START.json") || !strings.HasSuffix(files[1], "-COMPLETE.json") {
		t.Fatalf("spool %v, want the START and COMPLETE events", files)
	}
	// Kept, to send again as a client would whose first sending's answer
	// was lost.
	var copies [][]byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		copies = append(copies, b)
	}

	p := start(t, "--data", t.TempDir(), "--addr", addr)
	out, errOut, code = quarryRun(t, "--server", server, "--spool", spool, "--job", "cron/online", "--", "sh", "-c", "exit 0")
	if code != 0 || out != "" || !strings.Contains(errOut, "sent 2 spooled event(s)") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Fatalf("spool after the next run: %v", left)
	}
	waitRuns(t, p, "cron", "online")
	runs := waitRuns(t, p, "cron", "offline")
	at, changes := lastUpdated(t, p, runNS, "warehouse.raw.offline")
	if len(runs) != 1 || runs[0]["state"] != "COMPLETE" || runs[0]["events"].(float64) != 2 || at.IsZero() || changes != 1 {
		t.Fatalf("runs %v, lastUpdatedAt %v, %d data changes", runs, at, changes)
	}

	// Sent again: the server knows the events, and the run stays one run
	// of two events with one data change.
	for i, f := range files {
		if err := os.WriteFile(f, copies[i], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, errOut, code := quarryRun(t, "--flush", "--server", server, "--spool", spool); code != 0 || !strings.Contains(errOut, "sent 2 spooled event(s)") {
		t.Fatalf("flush: exit %d, %s", code, errOut)
	}
	// The lineage log applies events in order: once a later run is
	// applied, so are (or are not) the resent events.
	if _, errOut, code := quarryRun(t, "--server", server, "--spool", spool, "--job", "cron/after", "--", "true"); code != 0 {
		t.Fatalf("exit %d, %s", code, errOut)
	}
	waitRuns(t, p, "cron", "after")
	runs = waitRuns(t, p, "cron", "offline")
	if again, changes := lastUpdated(t, p, runNS, "warehouse.raw.offline"); len(runs) != 1 || runs[0]["events"].(float64) != 2 || !again.Equal(at) || changes != 1 {
		t.Fatalf("after sending the spool again: runs %v, lastUpdatedAt %v, %d data changes", runs, again, changes)
	}
}

// BenchmarkQuarryRun: what quarry run adds to a command that does nothing,
// against a server on loopback (two events posted), beside the command
// run directly.
func BenchmarkQuarryRun(b *testing.B) {
	p := start(b, "--data", b.TempDir())
	spool := b.TempDir()
	direct := time.Duration(0)
	for range 20 {
		begin := time.Now()
		if err := exec.Command("true").Run(); err != nil {
			b.Fatal(err)
		}
		direct += time.Since(begin)
	}
	for b.Loop() {
		cmd := exec.Command(binary, "run", "--server", "http://"+p.addr, "--spool", spool, "--job", "cron/bench", "--", "true")
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			b.Fatalf("%v %s", err, out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/run")
	b.ReportMetric(float64(direct.Microseconds())/20/1000, "ms/direct")
}

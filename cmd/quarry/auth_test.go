package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Without an auth section, the binary refuses to listen beyond loopback,
// in one line that says what to set; with one it starts; on loopback it
// starts open.
func TestServeRefusesOpenBindWithoutAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "serve", "--data", t.TempDir(), "--addr", "0.0.0.0:0").CombinedOutput()
	if err == nil {
		t.Fatalf("started on 0.0.0.0 without auth:\n%s", out)
	}
	var refusal []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, "refusing") {
			refusal = append(refusal, l)
		}
	}
	if len(refusal) != 1 || !strings.Contains(refusal[0], "auth.anonymous: viewer") || !strings.Contains(refusal[0], "127.0.0.1") {
		t.Fatalf("want one line saying what to set, got:\n%s", out)
	}

	cfg := filepath.Join(t.TempDir(), "quarry.yaml")
	if err := os.WriteFile(cfg, []byte("auth:\n  anonymous: viewer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "--data", t.TempDir(), "--addr", "0.0.0.0:0", "--config", cfg)
	if !strings.Contains(p.logs.String(), "anonymous viewer") {
		t.Errorf("the log does not say the access mode:\n%s", p.logs)
	}
	p.stop(t)
	p = start(t, "--data", t.TempDir())
	if !strings.Contains(p.logs.String(), "access=\"open") {
		t.Errorf("the log does not say the server is open:\n%s", p.logs)
	}
	p.stop(t)
}

// A token made with quarry token create lets an OpenLineage client in as
// itself; without it the event is refused, and once revoked (through the
// running server) at once.
func TestTokenCommandAndBearerIngest(t *testing.T) {
	data := t.TempDir()
	quarry := func(env []string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), env...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return stderr.String(), err
		}
		return strings.TrimSpace(string(out)), nil
	}
	ingest, err := quarry(nil, "token", "create", "--data", data, "--name", "airflow-prod", "--role", "ingest", "--expires", "90d")
	if err != nil || !strings.HasPrefix(ingest, "qry_") {
		t.Fatalf("token create: %v %s", err, ingest)
	}
	admin, err := quarry(nil, "token", "create", "--data", data, "--name", "ops", "--role", "admin")
	if err != nil {
		t.Fatalf("token create: %v %s", err, admin)
	}
	if out, err := quarry(nil, "token", "create", "--data", data, "--name", "x", "--role", "boss"); err == nil || !strings.Contains(out, "--role") {
		t.Fatalf("a bad role: %v %s", err, out)
	}

	cfg := filepath.Join(t.TempDir(), "quarry.yaml")
	if err := os.WriteFile(cfg, []byte("auth:\n  anonymous: none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "--data", data, "--config", cfg)
	defer p.stop(t)
	event := `{"eventType":"COMPLETE","eventTime":"2026-11-21T01:02:03Z","producer":"p","run":{"runId":"0190b5c1-2f2a-7d3e-8a1b-0000000000b1"},
		"job":{"namespace":"airflow","name":"load"},"outputs":[{"namespace":"postgres://wh:5432","name":"dw.public.t"}]}`
	post := func(token string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/api/v1/lineage", strings.NewReader(event))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	if st, h, body := post(""); st != http.StatusUnauthorized || !strings.Contains(body, `"unauthenticated"`) || h.Get("WWW-Authenticate") == "" {
		t.Fatalf("without a token: %d %v %s", st, h, body)
	}
	if st, _, body := post(ingest); st != http.StatusCreated {
		t.Fatalf("with the ingest token: %d %s", st, body)
	}

	// Through the running server (it holds the store), as an admin.
	env := []string{"QUARRY_TOKEN=" + admin}
	if out, err := quarry(nil, "token", "list", "--data", data); err == nil {
		t.Fatalf("listed without an admin token: %s", out)
	}
	out, err := quarry(env, "token", "list", "--data", data)
	if err != nil || !strings.Contains(out, "airflow-prod") || !strings.Contains(out, "ops") || strings.Contains(out, ingest) {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	if out, err := quarry(env, "token", "revoke", "--data", data, "airflow-prod"); err != nil {
		t.Fatalf("token revoke: %v %s", err, out)
	}
	if st, _, body := post(ingest); st != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d %s", st, body)
	}
	if strings.Contains(p.logs.String(), ingest) || strings.Contains(p.logs.String(), admin) {
		t.Fatal("a token's secret is in the log")
	}
}

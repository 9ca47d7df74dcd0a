package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
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

// The auth section: its presence turns access control on, whatever the
// address; without it only a loopback address is served; bad values are
// errors naming their key.
func TestAuthConfig(t *testing.T) {
	write := func(body string) string {
		path := filepath.Join(t.TempDir(), "quarry.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg, err := loadConfig(write(""))
	if err != nil {
		t.Fatal(err)
	}
	for addr, open := range map[string]bool{"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true, "0.0.0.0:8080": false, ":8080": false, "10.1.2.3:8080": false} {
		a, err := cfg.access(addr)
		if open && (a != nil || err != nil) || !open && err == nil {
			t.Errorf("no auth section, %s: %v %v", addr, a, err)
		}
	}
	cfg, err = loadConfig(write("auth:\n  anonymous: viewer\n  outbound:\n    allow: [10.0.0.0/8, db.internal]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, err := cfg.access("0.0.0.0:8080"); err != nil || a == nil || a.Anonymous != "viewer" {
		t.Fatalf("auth.anonymous viewer: %+v %v", a, err)
	}
	if o, err := cfg.outbound(); err != nil || o.Empty() || !o.AllowsName("db.internal") {
		t.Fatalf("auth.outbound: %v", err)
	}
	cfg, err = loadConfig(write("auth: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, err := cfg.access("127.0.0.1:8080"); err != nil || a == nil || a.Anonymous != "" {
		t.Fatalf("an empty auth section on loopback: %+v %v (want tokens only)", a, err)
	}
	for name, tc := range map[string]struct{ body, key string }{
		"ErrAnonymous": {"auth:\n  anonymous: admin\n", "auth.anonymous"},
		"ErrOutbound":  {"auth:\n  outbound:\n    allow: [10.0.0.0/40]\n", "auth.outbound.allow[0]"},
		"ErrKey":       {"auth:\n  anonymus: viewer\n", "anonymus"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadConfig(write(tc.body)); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("config %q: %v, want an error naming %s", tc.body, err, tc.key)
			}
		})
	}
}

// --tls-cert and --tls-key serve HTTPS.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)

	p := start(t, "--data", t.TempDir(), "--tls-cert", certFile, "--tls-key", keyFile)
	defer p.stop(t)
	pool := x509.NewCertPool()
	pool.AddCert(must(x509.ParseCertificate(der)))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	resp, err := client.Get("https://" + p.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("GET /healthz over TLS: %d", resp.StatusCode)
	}
	if !strings.Contains(p.logs.String(), "url=https://") {
		t.Errorf("the log does not give the https URL:\n%s", p.logs)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

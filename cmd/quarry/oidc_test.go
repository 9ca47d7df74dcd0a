package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// TestOIDCConfig: the auth.oidc section reaches the sign-in's config, the
// secret may come from the environment, and a bad value is an error naming
// its key.
func TestOIDCConfig(t *testing.T) {
	load := func(t *testing.T, body string) Config {
		t.Helper()
		path := filepath.Join(t.TempDir(), "quarry.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	env := map[string]string{"OIDC_SECRET": "s3cret"}
	cfg := load(t, `auth:
  oidc:
    issuer: https://id.example.com
    clientId: quarry
    clientSecretEnv: OIDC_SECRET
    sessionTtl: 8h
    roles: {claim: groups, map: {data-eng: editor, platform: admin}, default: viewer}
`)
	o, err := cfg.oidc(func(k string) string { return env[k] })
	if err != nil || o.ClientSecret != "s3cret" || o.SessionTTL != 8*time.Hour || o.Roles.Map["platform"] != "admin" || o.Roles.Default != "viewer" {
		t.Fatalf("oidc config = %+v, %v", o, err)
	}
	if o, err := load(t, "").oidc(os.Getenv); o != nil || err != nil {
		t.Fatalf("no auth section: %+v, %v; want no sign-in", o, err)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"SecretEnvUnset", "auth:\n  oidc: {issuer: https://id.example.com, clientId: q, clientSecretEnv: NOPE}\n", "auth.oidc.clientSecretEnv: $NOPE is not set"},
		{"BothSecrets", "auth:\n  oidc: {issuer: https://id.example.com, clientId: q, clientSecret: a, clientSecretEnv: OIDC_SECRET}\n", "not both"},
		{"SessionTTL", "auth:\n  oidc: {issuer: https://id.example.com, clientId: q, sessionTtl: soon}\n", "auth.oidc.sessionTtl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := load(t, tc.body).oidc(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestServeSignIn: quarry serve with auth.oidc signs a person in through a
// real provider and keeps the cookie key private; without it /auth/ is not
// there and the UI stays in open mode.
func TestServeSignIn(t *testing.T) {
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	oc := m.Config()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "quarry.yaml")
	body := fmt.Sprintf("auth:\n  oidc:\n    issuer: %s\n    clientId: %s\n    clientSecretEnv: TEST_OIDC_SECRET\n    scopes: [openid, email, groups]\n    roles: {map: {platform: admin}}\n", oc.Issuer, oc.ClientID)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_OIDC_SECRET", oc.ClientSecret)
	p := start(t, "--data", filepath.Join(dir, "data"), "--config", cfg)
	base := "http://" + p.addr

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	me := func() (int, map[string]any) {
		res, err := c.Get(base + "/auth/me")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v map[string]any
		_ = json.NewDecoder(res.Body).Decode(&v)
		return res.StatusCode, v
	}
	if code, _ := me(); code != http.StatusUnauthorized {
		t.Fatalf("/auth/me before signing in: %d, want 401", code)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "u", Email: "pat@example.com", Groups: []string{"platform"}})
	res, err := c.Get(base + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if code, v := me(); code != http.StatusOK || v["name"] != "pat@example.com" || v["role"] != "admin" {
		t.Fatalf("/auth/me after signing in: %d %v, want pat, admin", code, v)
	}
	// Nobody else maps to a role and there is no default: refused.
	m.QueueUser(&mockoidc.MockUser{Subject: "v", Email: "vic@example.com", Groups: []string{"sales"}})
	other := &http.Client{Timeout: 10 * time.Second}
	other.Jar, _ = cookiejar.New(nil)
	if res, err := other.Get(base + "/auth/login"); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without a role: %v %v, want 403", res.Status, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "data", "auth.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("auth.key: %v %v, want mode 0600", fi, err)
	}
	if strings.Contains(p.logs.String(), oc.ClientSecret) {
		t.Error("the client secret is in the log")
	}
	p.stop(t)

	open := start(t, "--data", filepath.Join(dir, "open"))
	res, err = http.Get("http://" + open.addr + "/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("/auth/me without auth.oidc: %d, want 404 (open mode: the UI shows no sign-in)", res.StatusCode)
	}
}

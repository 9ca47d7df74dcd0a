package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

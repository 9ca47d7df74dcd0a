package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/demo"
	"github.com/quarrydata/quarry/store"
)

// quarry migrate moves the demo catalog from a data directory into
// PostgreSQL and back, every dataset, job and changelog record equal;
// quarry serve with store engine postgres serves the copy; a copy into a
// store that is not new is refused.
func TestMigrateRoundTrip(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.New(t)
	dsn := pg.Database(t, "quarry", "")
	from := t.TempDir()
	st, err := store.Open(filepath.Join(from, storeFile), &store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, st, time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()

	migrate := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"migrate"}, args...), &out, &errb)
		return out.String() + errb.String(), err
	}
	if out, err := migrate("--from", from, "--to", dsn); err != nil || !strings.Contains(out, "copied") {
		t.Fatalf("migrate into PostgreSQL: %v\n%s", err, out)
	}
	back := filepath.Join(t.TempDir(), "back")
	if out, err := migrate("--from", dsn, "--to", back); err != nil {
		t.Fatalf("migrate back: %v\n%s", err, out)
	}
	want, got := catalog(t, from, ""), catalog(t, back, "")
	if want != got {
		t.Errorf("the catalog back from PostgreSQL differs:\n%.2000s\nwant\n%.2000s", got, want)
	}
	if pgCat := catalog(t, t.TempDir(), dsn); pgCat != want {
		t.Errorf("the catalog in PostgreSQL differs:\n%.2000s\nwant\n%.2000s", pgCat, want)
	}

	for _, c := range []struct{ name, from, to, want string }{
		{"IntoNonEmptyDatabase", from, dsn, "not empty"},
		{"IntoExistingDirectory", dsn, back, "already holds a store"},
		{"SameEngine", from, back, "between engines"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if out, err := migrate("--from", c.from, "--to", c.to); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q\n%s", err, c.want, out)
			}
		})
	}

	t.Run("Serve", func(t *testing.T) {
		data := t.TempDir()
		cfg := filepath.Join(t.TempDir(), "quarry.yaml")
		if err := os.WriteFile(cfg, []byte("store:\n  engine: postgres\n  dsnEnv: TEST_QUARRY_STORE_DSN\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TEST_QUARRY_STORE_DSN", dsn)
		p := start(t, "--data", data, "--config", cfg)
		d := p.graphql(t, `{ dataset(namespace: "redshift://analytics.us-east-1:5439", name: "analytics.reporting.daily_revenue") { description } }`, nil)
		if ds, _ := d["dataset"].(map[string]any); ds == nil || ds["description"] == nil || ds["description"] == "" {
			t.Errorf("the served catalog lacks the demo's daily_revenue: %v", d)
		}
		p.stop(t)
		if _, err := os.Stat(filepath.Join(data, storeFile)); err == nil {
			t.Errorf("serve on PostgreSQL wrote a bbolt file in its data directory")
		}
	})
}

// catalog reads every dataset, job and changelog record of a store (a data
// directory's, or dsn's) as JSON.
func catalog(t *testing.T, dir, dsn string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(dir, storeFile), &store.Options{ReadOnly: dsn == "", Postgres: dsn, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []any
	for _, d := range demo.Datasets() {
		ds, err := st.DatasetByName(ctx, d.Namespace, d.Name)
		if err != nil {
			t.Fatalf("%s %s: %v", d.Namespace, d.Name, err)
		}
		out = append(out, ds)
	}
	if err := st.EachIdentity(ctx, quarry.EntityJob, func(id quarry.Identity) error {
		j, err := st.Job(ctx, id.ID)
		out = append(out, j)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	changes, err := st.Changes(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) < 100 {
		t.Fatalf("%d changelog records: the demo catalog is not there", len(changes))
	}
	out = append(out, changes)
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStoreConfig(t *testing.T) {
	env := map[string]string{"DSN": "postgres://q@db:5432/q"}
	for _, c := range []struct {
		name string
		cfg  StoreConfig
		want string // the DSN, or the error's text
	}{
		{"Default", StoreConfig{}, ""},
		{"Bbolt", StoreConfig{Engine: "bbolt"}, ""},
		{"DSN", StoreConfig{Engine: "postgres", DSN: "postgres://x@y/z"}, "postgres://x@y/z"},
		{"DSNEnv", StoreConfig{Engine: "postgres", DSNEnv: "DSN"}, "postgres://q@db:5432/q"},
		{"ErrEngine", StoreConfig{Engine: "mysql"}, `store.engine "mysql": want bbolt or postgres`},
		{"ErrNoDSN", StoreConfig{Engine: "postgres"}, "engine postgres needs dsn or dsnEnv"},
		{"ErrBoth", StoreConfig{Engine: "postgres", DSN: "postgres://x@y/z", DSNEnv: "DSN"}, "give dsn or dsnEnv, not both"},
		{"ErrEnvUnset", StoreConfig{Engine: "postgres", DSNEnv: "NOPE"}, "store.dsnEnv: $NOPE is not set"},
		{"ErrDSNOnBbolt", StoreConfig{DSN: "postgres://x@y/z"}, "are for engine: postgres"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dsn, err := c.cfg.postgres(func(k string) string { return env[k] })
			if strings.HasPrefix(c.name, "Err") {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("got %q, %v; want an error saying %q", dsn, err, c.want)
				}
				return
			}
			if err != nil || dsn != c.want {
				t.Fatalf("got %q, %v; want %q", dsn, err, c.want)
			}
		})
	}
}

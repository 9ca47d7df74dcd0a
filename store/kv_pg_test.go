package store_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// One open store per PostgreSQL schema, as one per bbolt file: a second
// Open (read-only too) waits Timeout and says who holds it; after Close it
// opens. Another schema of the same database is another store.
func TestPostgresOneOpenStore(t *testing.T) {
	dsn := os.Getenv(storetest.EnvDSN)
	if dsn == "" {
		t.Skip("runs on the suite's PostgreSQL pass")
	}
	schema := storetest.Schema(t, dsn)
	o := func(ro bool) *store.Options {
		return &store.Options{Postgres: schema, ReadOnly: ro, Timeout: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
	}
	path := func() string { return filepath.Join(t.TempDir(), "quarry.db") }
	first, err := store.Open(path(), o(false))
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		if s, err := store.Open(path(), o(ro)); err == nil {
			s.Close()
			t.Fatalf("a second store (read-only %v) opened on the schema of an open one", ro)
		} else if !strings.Contains(err.Error(), "another process") {
			t.Fatalf("read-only %v: %v, want it to say another process holds it", ro, err)
		}
	}
	other, err := store.Open(path(), &store.Options{Postgres: storetest.Schema(t, dsn), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("a store in another schema: %v", err)
	}
	other.Close()
	first.Close()
	again, err := store.Open(path(), o(false))
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	again.Close()
}

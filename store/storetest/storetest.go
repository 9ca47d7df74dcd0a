// Package storetest opens real stores for tests: a bbolt file in the
// test's temporary directory, closed and checked with store.Verify (bbolt's
// own consistency check) when the test ends; or, while $QUARRY_STORE_TEST_DSN
// names a PostgreSQL database, a store in a new schema of that database,
// so that one suite runs on both engines (the store's TestMain runs its
// suite on each).
package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
)

// MustOpen opens a store in a new temporary directory of tb. Nil opts, or
// a nil Logger, mean a logger that discards. At cleanup the store is closed
// and its file verified; a problem fails the test.
func MustOpen(tb testing.TB, opts *store.Options) *store.Store {
	tb.Helper()
	var o store.Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	path := filepath.Join(tb.TempDir(), "quarry.db")
	if dsn := os.Getenv(EnvDSN); dsn != "" && o.Postgres == "" {
		o.Postgres = Schema(tb, dsn)
	}
	s, err := store.Open(path, &o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close the store: %v", err)
		}
		if o.Postgres != "" {
			return // no file
		}
		if err := store.Verify(path); err != nil {
			tb.Errorf("the store file is damaged: %v", err)
		}
	})
	return s
}

// EnvDSN is the variable that, set to a PostgreSQL connection string (URL
// form), makes MustOpen open stores on PostgreSQL, each in a schema of its
// own in that database.
const EnvDSN = "QUARRY_STORE_TEST_DSN"

// Engine returns the engine MustOpen opens stores on: "bbolt" or
// "postgres".
func Engine() string {
	if os.Getenv(EnvDSN) != "" {
		return "postgres"
	}
	return "bbolt"
}

// Schema creates a new empty schema in the PostgreSQL database dsn (a URL)
// names and returns dsn with that schema as its search path: a store
// opened on it starts empty.
func Schema(tb testing.TB, dsn string) string {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("storetest: connect to %s for a new schema: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("t_%016x", rand.Uint64())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		tb.Fatalf("storetest: create schema: %v", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("storetest: %s is not a URL: %v", EnvDSN, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Clock is a settable time source for a store (Options.Now) and for what
// reads the same time beside it (resolvers, an alerter): a test moves it.
// It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Wide returns the nth of a catalog's datasets shaped like a typical
// warehouse table: 15 columns, a description, owners and tags.
func Wide(n int) quarry.Dataset {
	d := quarry.Dataset{
		Namespace: "redshift://analytics.us-east-1:5439",
		Name:      fmt.Sprintf("analytics.marts.table_%07d", n),
		Provided:  quarry.Metadata{Description: "One row per order line, deduplicated, with currency converted to USD.", Owners: []string{"team:data-eng"}, Tags: []string{"finance", "tier1"}},
	}
	for c := range 15 {
		d.Columns = append(d.Columns, quarry.Column{Name: fmt.Sprintf("column_%02d", c), Type: "varchar(256)", Nullable: c > 0, Description: "A column of the table."})
	}
	return d
}

package store_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/demo"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// The demo catalog copied from bbolt to PostgreSQL and back is the same,
// key for key and sequence for sequence, in all three; a copy into a store
// that is not new is refused. It runs on the PostgreSQL pass (it needs a
// server).
func TestCopyToRoundTrip(t *testing.T) {
	dsn := os.Getenv(storetest.EnvDSN)
	if dsn == "" {
		t.Skip("runs on the suite's PostgreSQL pass")
	}
	ctx := context.Background()
	quiet := func() *store.Options { return &store.Options{Logger: slog.New(slog.DiscardHandler), NoSync: true} }
	open := func(name string, o *store.Options) *store.Store {
		s, err := store.Open(filepath.Join(t.TempDir(), name), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	src := open("src.db", quiet())
	if _, err := demo.Load(ctx, src, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	o := quiet()
	o.Postgres = storetest.Schema(t, dsn)
	pg := open("pg.db", o)
	back := open("back.db", quiet())
	if err := src.CopyTo(ctx, pg); err != nil {
		t.Fatal(err)
	}
	if err := pg.CopyTo(ctx, back); err != nil {
		t.Fatal(err)
	}
	want := dump(t, src)
	if len(want["datasets"]) < 20 || want["changelog"]["#seq"] == "" {
		t.Fatalf("the demo catalog has %d datasets, changelog %v: not loaded?", len(want["datasets"]), want["changelog"]["#seq"])
	}
	for name, s := range map[string]*store.Store{"PostgreSQL": pg, "back in bbolt": back} {
		got := dump(t, s)
		for _, b := range slices.Sorted(maps.Keys(want)) {
			if !maps.Equal(got[b], want[b]) {
				t.Errorf("%s: bucket %s has %d keys, want %d (or values differ)", name, b, len(got[b]), len(want[b]))
			}
		}
		for b := range got {
			if want[b] == nil {
				t.Errorf("%s: bucket %s is not in the source", name, b)
			}
		}
	}
	// Entities read through the API are equal too.
	for _, id := range []string{firstKey(want["datasets"]), firstKey(want["jobs"])} {
		for _, s := range []*store.Store{pg, back} {
			a, _ := json.Marshal(read(ctx, src, id))
			b, _ := json.Marshal(read(ctx, s, id))
			if string(a) != string(b) {
				t.Errorf("%s reads %s, want %s", id, b, a)
			}
		}
	}
	if st, err := pg.Stats(ctx); err != nil || st.FileBytes < 100<<10 || st.Datasets != len(want["datasets"]) {
		t.Errorf("the PostgreSQL store's stats: %+v, %v; want its tables' size and %d datasets", st, err, len(want["datasets"]))
	}
	if err := src.CopyTo(ctx, pg); quarry.ErrorCode(err) != quarry.ECONFLICT {
		t.Errorf("a copy into a store that is not new: %v, want a conflict", err)
	}
}

func dump(t *testing.T, s *store.Store) map[string]map[string]string {
	t.Helper()
	d, err := store.Dump(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func firstKey(m map[string]string) string { return slices.Sorted(maps.Keys(m))[0] }

func read(ctx context.Context, s *store.Store, id string) any {
	if d, err := s.Dataset(ctx, id); err == nil {
		return *d
	}
	j, err := s.Job(ctx, id)
	if err != nil {
		return err
	}
	return *j
}

package store_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler/pgtest"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// A PostgreSQL that stops answering (frozen: its connections stay open,
// as behind a partition that drops packets) fails reads and writes as
// unavailable once a round trip goes unanswered for RoundTripLimit,
// instead of holding them forever; once it answers again, so does the
// store, without a reopen.
func TestPostgresStallIsUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	pg := pgtest.New(t) // its own server: the suite's must not freeze
	st, err := store.Open(filepath.Join(t.TempDir(), "quarry.db"), &store.Options{
		Postgres: storetest.Schema(t, pg.DSN("postgres")), RoundTripLimit: time.Second,
		NoSync: true, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	ds := quarry.Dataset{Namespace: "postgres://db:5432", Name: "shop.public.orders", Kind: quarry.KindTable}
	if _, err := st.UpsertDatasets(ctx, []quarry.Dataset{ds}); err != nil {
		t.Fatal(err)
	}
	id, err := quarry.DatasetID(ds.Namespace, ds.Name)
	if err != nil {
		t.Fatal(err)
	}

	if err := pg.Freeze(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Thaw() }) // before the store closes
	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"read", func() error { _, err := st.Dataset(ctx, id); return err }},
		{"write", func() error {
			_, err := st.UpsertDatasets(ctx, []quarry.Dataset{{Namespace: ds.Namespace, Name: "shop.public.users", Kind: quarry.KindTable}})
			return err
		}},
	} {
		start := time.Now()
		err := op.do()
		took := time.Since(start)
		if e, ok := errors.AsType[*quarry.Error](err); !ok || e.Code != quarry.EUNAVAILABLE {
			t.Fatalf("%s while PostgreSQL is frozen: %v (after %s), want unavailable", op.name, err, took)
		}
		if took > 20*time.Second {
			t.Fatalf("%s took %s to fail, want about the 1 s round-trip limit", op.name, took)
		}
		t.Logf("%s failed after %s: %v", op.name, took.Round(time.Millisecond), err)
	}

	if err := pg.Thaw(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := st.Dataset(ctx, id)
		if err == nil && got != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the thaw: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := st.UpsertDatasets(ctx, []quarry.Dataset{{Namespace: ds.Namespace, Name: "shop.public.users", Kind: quarry.KindTable}}); err != nil {
		t.Fatalf("a write after the thaw: %v", err)
	}
}

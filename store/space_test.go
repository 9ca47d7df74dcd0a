package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/internal/disktest"
	"github.com/quarrydata/quarry/store"
)

const runWide = "0190b5c1-2f2a-7d3e-8a1b-0000000000f0"

// On a full disk a write fails with insufficient_storage and the reason,
// stores nothing, and the writes after it are refused at once (the store
// says it is degraded) while reads go on; once space is freed, the probe
// finds it and writes resume without reopening the store, and the lineage
// events accepted before the disk filled are applied. The file is sound
// throughout.
func TestStoreFullDisk(t *testing.T) {
	ctx := context.Background()
	disk := disktest.Mount(t, 4<<20)
	path := filepath.Join(disk, "quarry.db")
	open := func() *store.Store {
		t.Helper()
		s, err := store.Open(path, &store.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := store.Verify(path); err != nil {
			t.Errorf("the store file is damaged: %v", err)
		}
	}()
	ds := func(i int) quarry.Dataset {
		return quarry.Dataset{Namespace: shopNS, Name: fmt.Sprintf("shop.public.t%d", i), Columns: []quarry.Column{{Name: "id", Type: "bigint"}}}
	}
	if _, err := s.UpsertDatasets(ctx, []quarry.Dataset{ds(0)}); err != nil {
		t.Fatal(err)
	}
	// An event accepted before the disk fills begins the lineage log's
	// segment, with room reserved for the next.
	first := runEvent("load_orders", run2, quarry.RunComplete, shT0, []string{"shop.public.t0"}, []string{"shop.public.t0_copy"})
	digest(&first)
	if err := s.AcceptLineage(ctx, []quarry.LineageEvent{first})[0]; err != nil {
		t.Fatal(err)
	}
	if err := s.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	ballast := disktest.Fill(t, disk, 0)
	// Accepted into the log's reserved room (a 201), it cannot be applied
	// on the full disk: SyncLineage says so rather than wait for space.
	var outs []string
	for i := range 300 {
		outs = append(outs, fmt.Sprintf("shop.public.wide_%d", i))
	}
	wide := runEvent("copy_wide", runWide, quarry.RunComplete, shT0, []string{"shop.public.t0"}, outs)
	digest(&wide)
	if err := s.AcceptLineage(ctx, []quarry.LineageEvent{wide})[0]; err != nil {
		t.Fatalf("an event the log has room for: %v", err)
	}
	if err := s.SyncLineage(ctx); quarry.ErrorCode(err) != quarry.EINSUFFICIENTSTORAGE {
		t.Fatalf("waiting for an event that cannot be applied on the full disk: %v", err)
	}
	var batch []quarry.Dataset
	for i := 1; i <= 500; i++ {
		batch = append(batch, ds(i))
	}
	_, err := s.UpsertDatasets(ctx, batch)
	if quarry.ErrorCode(err) != quarry.EINSUFFICIENTSTORAGE || !strings.Contains(quarry.ErrorMessage(err), "disk is full") {
		t.Fatalf("a write on the full disk: %v", err)
	}
	if reason, _ := s.Degraded(); !strings.Contains(reason, "no space left on device") {
		t.Fatalf("degraded %q", reason)
	}
	// Refused at once, small or large, lineage too.
	if _, err := s.UpsertDatasets(ctx, []quarry.Dataset{ds(501)}); quarry.ErrorCode(err) != quarry.EINSUFFICIENTSTORAGE {
		t.Fatalf("a small write while degraded: %v", err)
	}
	ev := runEvent("load_orders", run1, quarry.RunComplete, shT0, []string{"shop.public.t0"}, []string{"shop.public.t1"})
	digest(&ev)
	if err := s.AcceptLineage(ctx, []quarry.LineageEvent{ev})[0]; quarry.ErrorCode(err) != quarry.EINSUFFICIENTSTORAGE {
		t.Fatalf("a lineage event while degraded: %v", err)
	}
	if f, _, err := s.Snapshot(ctx); quarry.ErrorCode(err) != quarry.EINSUFFICIENTSTORAGE {
		if f != nil {
			f.Close()
		}
		t.Fatalf("a backup snapshot on the full disk: %v", err)
	}
	// Opened again on the full disk, it opens (it needs to write nothing),
	// and is degraded at its first write (the wide event cannot be
	// applied).
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	if err := s.SyncLineage(ctx); quarry.ErrorCode(err) != quarry.EINSUFFICIENTSTORAGE {
		t.Fatalf("after reopening on the full disk: %v", err)
	}
	// Reads go on, and the failed write left nothing.
	if _, err := s.DatasetByName(ctx, shopNS, "shop.public.t0"); err != nil {
		t.Fatalf("a read on the full disk: %v", err)
	}
	if _, err := s.DatasetByName(ctx, shopNS, "shop.public.t1"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
		t.Fatalf("the failed write stored t1: %v", err)
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for reason, _ := s.Degraded(); reason != ""; reason, _ = s.Degraded() {
		if time.Now().After(deadline) {
			t.Fatalf("5 s after space was freed, still degraded: %s", reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := s.UpsertDatasets(ctx, batch); err != nil {
		t.Fatalf("the write again after space was freed: %v", err)
	}
	if err := s.AcceptLineage(ctx, []quarry.LineageEvent{ev})[0]; err != nil {
		t.Fatalf("a lineage event after space was freed: %v", err)
	}
	if err := s.SyncLineage(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{run1, runWide} { // and the one accepted on the full disk
		if r, err := s.Run(ctx, id); err != nil || r.State != quarry.RunComplete {
			t.Fatalf("run %s after space was freed: %+v %v", id, r, err)
		}
	}
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

func orders(n int) quarry.Dataset {
	return quarry.Dataset{
		Namespace: "postgresql://Shop-DB.internal/",
		Name:      fmt.Sprintf("shop.public.orders_%d", n),
		Provided:  quarry.Metadata{Description: "One row per order.", Owners: []string{"team:checkout"}, Tags: []string{"tier1"}},
		Columns: []quarry.Column{
			{Name: "id", Type: "bigint", PrimaryKey: true},
			{Name: "user_id", Type: "bigint", Nullable: true, ForeignKey: &quarry.ColumnRef{Namespace: "postgres://shop-db.internal:5432", Name: "shop.public.users", Column: "id"}},
			{Name: "total", Type: "numeric(12,2)", Description: "Order total in USD."},
		},
	}
}

func TestUpsertDatasets(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		s := storetest.MustOpen(t, nil)
		res, err := s.UpsertDatasets(ctx, []quarry.Dataset{orders(1), orders(2)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed != 2 || len(res.IDs) != 2 {
			t.Fatalf("result = %+v", res)
		}
		d, err := s.DatasetByName(ctx, "postgres://shop-db.internal:5432", "shop.public.orders_1")
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != res.IDs[0] || d.Namespace != "postgres://shop-db.internal:5432" || d.Kind != quarry.KindTable {
			t.Fatalf("stored = %+v", d)
		}
		if len(d.Columns) != 3 || d.Columns[2].Ordinal != 3 || d.Columns[1].ForeignKey.Name != "shop.public.users" {
			t.Fatalf("columns = %+v", d.Columns)
		}
		if d.Description() != "One row per order." || d.CreatedAt.IsZero() {
			t.Fatalf("dataset = %+v", d)
		}
		byID, err := s.Dataset(ctx, d.ID)
		if err != nil || byID.Name != d.Name {
			t.Fatalf("by id: %v %v", byID, err)
		}
	})
	t.Run("Unchanged", func(t *testing.T) {
		s := storetest.MustOpen(t, nil)
		mustUpsert(t, s, orders(1))
		seq := lastSeq(t, s)
		res, err := s.UpsertDatasets(ctx, []quarry.Dataset{orders(1)})
		if err != nil || res.Changed != 0 {
			t.Fatalf("second upsert: %+v %v", res, err)
		}
		if got := lastSeq(t, s); got != seq {
			t.Fatalf("an unchanged upsert appended to the changelog: %d -> %d", seq, got)
		}
	})
	t.Run("ErrInvalidAllOrNothing", func(t *testing.T) {
		s := storetest.MustOpen(t, nil)
		bad := orders(3)
		bad.Columns[1].Name = "id"
		_, err := s.UpsertDatasets(ctx, []quarry.Dataset{orders(1), orders(2), bad})
		assertCode(t, err, quarry.EINVALID, "[2].columns[1].name")
		if page, _ := s.ListDatasets(ctx, store.ListOptions{}); page.Total != 0 || len(page.Datasets) != 0 {
			t.Fatalf("a failed bulk upsert stored %d datasets", len(page.Datasets))
		}
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		s := storetest.MustOpen(t, nil)
		dup := orders(1)
		dup.Namespace = "postgres://shop-db.internal:5432"
		_, err := s.UpsertDatasets(ctx, []quarry.Dataset{orders(1), dup})
		assertCode(t, err, quarry.EINVALID, "[1]")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := storetest.MustOpen(t, nil)
		_, err := s.DatasetByName(ctx, "postgres://nowhere:5432", "x.y.z")
		assertCode(t, err, quarry.ENOTFOUND, "")
	})
}

func TestUserEditWins(t *testing.T) {
	ctx := quarry.WithActor(context.Background(), "alice")
	s := storetest.MustOpen(t, nil)
	id := mustUpsert(t, s, orders(1))[0]

	desc, owners := "Orders, deduplicated. Use this one.", []string{"alice@acme.example"}
	d, err := s.UpdateDataset(ctx, id, quarry.DatasetUpdate{
		Description:        &desc,
		Owners:             &owners,
		ColumnDescriptions: map[string]string{"total": "Gross total, tax included."},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Description() != desc {
		t.Fatalf("description = %q", d.Description())
	}

	// A crawl brings a new provided description and columns: the edit stays.
	recrawl := orders(1)
	recrawl.Provided.Description = "orders table"
	recrawl.Provided.Owners = []string{"team:checkout", "team:platform"}
	recrawl.Columns = append(recrawl.Columns, quarry.Column{Name: "currency", Type: "text"})
	mustUpsert(t, s, recrawl)

	d, err = s.Dataset(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Description() != desc || d.Provided.Description != "orders table" {
		t.Fatalf("after crawl: shown %q, provided %q", d.Description(), d.Provided.Description)
	}
	if got := d.Owners(); len(got) != 1 || got[0] != "alice@acme.example" {
		t.Fatalf("owners = %v", got)
	}
	if got := d.Tags(); len(got) != 1 || got[0] != "tier1" {
		t.Fatalf("tags (not edited, so provided) = %v", got)
	}
	cols := d.ShownColumns()
	if len(cols) != 4 || cols[2].Description != "Gross total, tax included." {
		t.Fatalf("columns = %+v", cols)
	}

	// Clearing the edit shows the provided description again.
	empty := ""
	if d, err = s.UpdateDataset(ctx, id, quarry.DatasetUpdate{Description: &empty}); err != nil {
		t.Fatal(err)
	}
	if d.Description() != "orders table" {
		t.Fatalf("after clearing: %q", d.Description())
	}

	hist, err := s.MetadataHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"description", "columns.total.description", "owners", "description"}
	if len(hist) != len(want) {
		t.Fatalf("history = %+v", hist)
	}
	for i := range want {
		// Newest first; within one edit, fields in the order they were applied, reversed.
		if hist[i].Field != want[i] || hist[i].Actor != "alice" {
			t.Errorf("history[%d] = %+v, want field %s by alice", i, hist[i], want[i])
		}
	}
	if hist[0].Old != desc || hist[0].New != "orders table" {
		t.Errorf("newest edit = %+v", hist[0])
	}

	t.Run("EditEqualToProvidedOutlivesCrawl", func(t *testing.T) {
		// A person confirms the crawler's description and owners; the
		// crawler later changes its own: the person's choice still shows.
		same, none := "orders table", []string{}
		if _, err := s.UpdateDataset(ctx, id, quarry.DatasetUpdate{Description: &same, Tags: &none}); err != nil {
			t.Fatal(err)
		}
		recrawl := orders(1)
		recrawl.Provided.Description = "crawler changed it"
		recrawl.Provided.Tags = []string{"tier2"}
		mustUpsert(t, s, recrawl)
		d, _ := s.Dataset(ctx, id)
		if d.Description() != same || len(d.Tags()) != 0 {
			t.Fatalf("after crawl: description %q tags %v", d.Description(), d.Tags())
		}
		// Clearing the edit shows the crawler's again.
		clear := ""
		if d, _ = s.UpdateDataset(ctx, id, quarry.DatasetUpdate{Description: &clear}); d.Description() != "crawler changed it" {
			t.Fatalf("after clearing: %q", d.Description())
		}
	})
	t.Run("ErrUnknownColumn", func(t *testing.T) {
		_, err := s.UpdateDataset(ctx, id, quarry.DatasetUpdate{ColumnDescriptions: map[string]string{"nope": "x"}})
		assertCode(t, err, quarry.EINVALID, "columns.nope")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.UpdateDataset(ctx, "6f1c7d3e-0000-5000-8000-000000000000", quarry.DatasetUpdate{Description: &desc})
		assertCode(t, err, quarry.ENOTFOUND, "")
	})
}

func TestRemoveRestore(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	ids := mustUpsert(t, s, orders(1), orders(2))
	at := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	if err := s.MarkRemoved(ctx, at, ids[0]); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListDatasets(ctx, store.ListOptions{})
	if err != nil || page.Total != 1 || len(page.Datasets) != 1 || page.Datasets[0].ID != ids[1] {
		t.Fatalf("listing without removed: %+v %v", page, err)
	}
	page, _ = s.ListDatasets(ctx, store.ListOptions{IncludeRemoved: true})
	if page.Total != 2 || !page.Datasets[0].RemovedAt.Equal(at) {
		t.Fatalf("listing with removed: %+v", page)
	}
	// Removing again keeps the first time.
	if err := s.MarkRemoved(ctx, at.Add(time.Hour), ids[0]); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Dataset(ctx, ids[0]); !d.RemovedAt.Equal(at) {
		t.Fatalf("removed at = %v", d.RemovedAt)
	}
	// It comes back when it reappears in an upsert.
	mustUpsert(t, s, orders(1))
	if d, _ := s.Dataset(ctx, ids[0]); d.Removed() {
		t.Fatal("upsert did not restore a removed dataset")
	}
	if err := s.MarkRemoved(ctx, at, ids...); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if page, _ := s.ListDatasets(ctx, store.ListOptions{}); page.Total != 1 {
		t.Fatalf("total after restore = %d", page.Total)
	}
	t.Run("ErrNotFoundAllOrNothing", func(t *testing.T) {
		err := s.MarkRemoved(ctx, at, ids[1], "6f1c7d3e-0000-5000-8000-000000000000")
		assertCode(t, err, quarry.ENOTFOUND, "")
		if d, _ := s.Dataset(ctx, ids[1]); d.Removed() {
			t.Fatal("a failed MarkRemoved removed a dataset")
		}
	})
}

func TestListDatasetsPaging(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	var in []quarry.Dataset
	for i := range 25 {
		in = append(in, orders(i))
	}
	mustUpsert(t, s, in...)
	var names []string
	after := ""
	for pages := 0; ; pages++ {
		page, err := s.ListDatasets(ctx, store.ListOptions{First: 10, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 25 {
			t.Fatalf("total = %d", page.Total)
		}
		for _, d := range page.Datasets {
			names = append(names, d.Name)
		}
		if !page.HasNext {
			if pages != 2 {
				t.Fatalf("pages = %d", pages+1)
			}
			break
		}
		after = page.EndCursor
	}
	if len(names) != 25 {
		t.Fatalf("listed %d datasets", len(names))
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("not in name order: %q before %q", names[i-1], names[i])
		}
	}
	_, err := s.ListDatasets(ctx, store.ListOptions{After: "!!"})
	assertCode(t, err, quarry.EINVALID, "after")
	_, err = s.ListDatasets(ctx, store.ListOptions{First: 5000})
	assertCode(t, err, quarry.EINVALID, "first")
}

// TestChangelog checks that concurrent writers produce one changelog record
// per changed entity, in commit order, with no gaps, including when some
// writes in a shared commit fail.
func TestChangelog(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				d := orders(w*1000 + i)
				if i%5 == 4 {
					d.Kind = "SPREADSHEET" // fails validation, never reaches a commit
				}
				if _, err := s.UpsertDatasets(ctx, []quarry.Dataset{d}); err != nil {
					errs <- err
				}
				if i%7 == 6 {
					// Fails inside a shared commit: the group is retried without it.
					if _, err := s.UpdateDataset(ctx, "6f1c7d3e-0000-5000-8000-000000000000", quarry.DatasetUpdate{}); quarry.ErrorCode(err) != quarry.ENOTFOUND {
						errs <- fmt.Errorf("update of a missing dataset: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	invalid := 0
	for err := range errs {
		if quarry.ErrorCode(err) != quarry.EINVALID {
			t.Fatal(err)
		}
		invalid++
	}
	wantChanges := writers*each - invalid
	changes, err := s.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != wantChanges {
		t.Fatalf("changelog has %d records, want %d", len(changes), wantChanges)
	}
	seen := map[string]bool{}
	for i, c := range changes {
		if c.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d: gap or disorder", i, c.Seq)
		}
		if c.Entity != quarry.EntityDataset || c.Op != quarry.OpUpsert || seen[c.ID] {
			t.Fatalf("record %+v", c)
		}
		seen[c.ID] = true
	}
	tail, _ := s.Changes(ctx, uint64(wantChanges-3), 2)
	if len(tail) != 2 || tail[0].Seq != uint64(wantChanges-2) {
		t.Fatalf("tail = %+v", tail)
	}
	if seq := lastSeq(t, s); seq != uint64(wantChanges) {
		t.Fatalf("last seq = %d", seq)
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quarry.db")
	s, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := mustUpsert(t, s, orders(1), orders(2))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertDatasets(ctx, []quarry.Dataset{orders(3)}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	s, err = store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.Dataset(ctx, ids[1])
	if err != nil || d.Name != "shop.public.orders_2" {
		t.Fatalf("after reopen: %v %v", d, err)
	}
	if seq := lastSeq(t, s); seq != 2 {
		t.Fatalf("seq after reopen = %d", seq)
	}
	// The sequence continues where it was.
	mustUpsert(t, s, orders(3))
	if seq := lastSeq(t, s); seq != 3 {
		t.Fatalf("seq = %d", seq)
	}

	t.Run("ErrLocked", func(t *testing.T) {
		_, err := store.Open(path, &store.Options{Timeout: 50 * time.Millisecond})
		if err == nil {
			t.Fatal("a second Open of a held file succeeded")
		}
	})
}

func TestChangedSignal(t *testing.T) {
	s := storetest.MustOpen(t, nil)
	ch := s.Changed()
	mustUpsert(t, s, orders(1))
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Changed was not signalled after a commit")
	}
}

func mustUpsert(tb testing.TB, s *store.Store, ds ...quarry.Dataset) []string {
	tb.Helper()
	res, err := s.UpsertDatasets(context.Background(), ds)
	if err != nil {
		tb.Fatal(err)
	}
	return res.IDs
}

func lastSeq(tb testing.TB, s *store.Store) uint64 {
	tb.Helper()
	seq, err := s.LastSeq(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return seq
}

func assertCode(tb testing.TB, err error, code, field string) {
	tb.Helper()
	if got := quarry.ErrorCode(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	var qe *quarry.Error
	if errors.As(err, &qe) && qe.Field != field {
		tb.Fatalf("error %v: field %q, want %q", err, qe.Field, field)
	}
}

// Reads go through a cache of decoded records: a caller changing what it
// got changes nothing for the next reader, and a write is seen at once.
func TestRecordCache(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	d := quarry.Dataset{Namespace: "postgres://db:5432", Name: "shop.public.orders", Columns: []quarry.Column{{Name: "id", Type: "bigint"}}}
	res, err := s.UpsertDatasets(ctx, []quarry.Dataset{d})
	if err != nil {
		t.Fatal(err)
	}
	id := res.IDs[0]
	first, err := s.Dataset(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	first.Columns[0].Name = "changed by a caller"
	again, err := s.Dataset(ctx, id)
	if err != nil || again.Columns[0].Name != "id" {
		t.Fatalf("a caller's change leaked into the cache: %+v %v", again, err)
	}
	again.Edited.ColumnDescriptions = map[string]string{}
	cached, _ := s.Dataset(ctx, id) // from the cache now
	cached.Provided.Tags = append(cached.Provided.Tags, "leak")
	if d, _ := s.Dataset(ctx, id); len(d.Provided.Tags) != 0 {
		t.Fatalf("a caller's change leaked into the cache: %+v", d)
	}
	desc := "Orders."
	if _, err := s.UpdateDataset(ctx, id, quarry.DatasetUpdate{Description: &desc}); err != nil {
		t.Fatal(err)
	}
	rows := int64(7)
	d.RowCount = &rows
	if _, err := s.UpsertDatasets(ctx, []quarry.Dataset{d}); err != nil {
		t.Fatal(err)
	}
	after, err := s.Dataset(ctx, id)
	if err != nil || after.Description() != "Orders." || after.RowCount == nil || *after.RowCount != 7 {
		t.Fatalf("a read after writes: %+v %v", after, err)
	}
}

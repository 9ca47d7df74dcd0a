package store_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

// shClock is a settable clock for store.Options.Now. The store calls it from
// its writer goroutine, so it locks.
type shClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *shClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d and returns the new time.
func (c *shClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

var shT0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

// openClocked opens a store in a temporary directory whose clock starts at
// shT0 and only moves when the test advances it.
func openClocked(tb testing.TB) (*store.Store, *shClock) {
	tb.Helper()
	c := &shClock{t: shT0}
	s := storetest.MustOpen(tb, &store.Options{Now: c.Now, NoSync: true})
	return s, c
}

// change is the part of a quarry.SchemaChange that a diff decides.
type change struct {
	Kind   quarry.SchemaChangeKind
	Column string
	Old    string
	New    string
}

func mustSchemaHistory(tb testing.TB, s *store.Store, id string) []quarry.SchemaChange {
	tb.Helper()
	h, err := s.SchemaHistory(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func changesOf(h []quarry.SchemaChange) []change {
	out := make([]change, len(h))
	for i, c := range h {
		out[i] = change{c.Kind, c.Column, c.Old, c.New}
	}
	return out
}

func assertChanges(tb testing.TB, got []quarry.SchemaChange, want ...change) {
	tb.Helper()
	if g := changesOf(got); !slices.Equal(g, want) {
		tb.Fatalf("schema changes:\n got  %+v\n want %+v", g, want)
	}
}

// assertGroup checks that every change in h was recorded by the changelog
// record seq at the time at.
func assertGroup(tb testing.TB, h []quarry.SchemaChange, seq uint64, at time.Time) {
	tb.Helper()
	for i, c := range h {
		if c.Seq != seq || !c.At.Equal(at) {
			tb.Fatalf("change %d %+v: seq %d at %v, want seq %d at %v", i, c, c.Seq, c.At, seq, at)
		}
	}
}

func mustUpsertResult(tb testing.TB, s *store.Store, ds ...quarry.Dataset) store.UpsertResult {
	tb.Helper()
	res, err := s.UpsertDatasets(context.Background(), ds)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func mustDataset(tb testing.TB, s *store.Store, id string) *quarry.Dataset {
	tb.Helper()
	d, err := s.Dataset(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func mustChanges(tb testing.TB, s *store.Store, after uint64) []quarry.Change {
	tb.Helper()
	ch, err := s.Changes(context.Background(), after, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return ch
}

const shopNS = "postgres://shop-db.internal:5432"

// invoice is a dataset whose every column a test can change.
func invoice() quarry.Dataset {
	return quarry.Dataset{
		Namespace: "postgresql://Shop-DB.internal/",
		Name:      "shop.public.invoices",
		Provided:  quarry.Metadata{Description: "One row per invoice."},
		Columns: []quarry.Column{
			{Name: "id", Type: "bigint", PrimaryKey: true},
			{Name: "user_id", Type: "bigint", Nullable: true, ForeignKey: &quarry.ColumnRef{Namespace: shopNS, Name: "shop.public.users", Column: "id"}},
			{Name: "total", Type: "numeric(12,2)", Description: "Invoice total in USD."},
			{Name: "note", Type: "text", Nullable: true},
		},
	}
}

func TestSchemaHistory(t *testing.T) {
	ctx := context.Background()

	t.Run("Created", func(t *testing.T) {
		s, _ := openClocked(t)
		res := mustUpsertResult(t, s, invoice())
		h := mustSchemaHistory(t, s, res.IDs[0])
		assertChanges(t, h, change{Kind: quarry.DatasetCreated, New: "TABLE"})
		assertGroup(t, h, 0, shT0) // derived from CreatedAt: no changelog record of its own

		view := orders(1)
		view.Kind = quarry.KindView
		id := mustUpsert(t, s, view)[0]
		assertChanges(t, mustSchemaHistory(t, s, id), change{Kind: quarry.DatasetCreated, New: "VIEW"})

		// The histories of two datasets do not mix.
		if h := mustSchemaHistory(t, s, res.IDs[0]); len(h) != 1 {
			t.Fatalf("history of the first dataset = %+v", h)
		}
		if _, err := s.SchemaHistory(ctx, "6f1c7d3e-0000-5000-8000-000000000000"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
			t.Fatalf("history of an unknown dataset: %v", err)
		}
	})

	t.Run("Columns", func(t *testing.T) {
		s, clock := openClocked(t)
		id := mustUpsert(t, s, invoice())[0]
		seq := lastSeq(t, s)

		v2 := invoice()
		v2.Columns = []quarry.Column{
			{Name: "id", Type: "bigint"}, // no longer the primary key
			{Name: "user_id", Type: "integer", ForeignKey: &quarry.ColumnRef{Namespace: "postgresql://shop-db.internal", Name: "shop.public.customers", Column: "id"}},
			{Name: "total", Type: "numeric(12,2)", Description: "Gross total."},
			{Name: "currency", Type: "char(3)"},
			// note removed
		}
		at := clock.Advance(time.Hour)
		res := mustUpsertResult(t, s, v2)
		if res.Changed != 1 || res.Created != 0 || res.Restored != 0 {
			t.Fatalf("result = %+v", res)
		}
		if got := lastSeq(t, s); got != seq+1 {
			t.Fatalf("seq %d -> %d, want one record", seq, got)
		}
		h := mustSchemaHistory(t, s, id)
		if len(h) != 8 {
			t.Fatalf("history = %+v", changesOf(h))
		}
		// Newest first; within the change, in v2's column order, removed last.
		assertChanges(t, h[:7],
			change{quarry.PrimaryKeyChanged, "id", "primary key", ""},
			change{quarry.TypeChanged, "user_id", "bigint", "integer"},
			change{quarry.NullabilityChanged, "user_id", "null", "not null"},
			change{quarry.ForeignKeyChanged, "user_id", shopNS + "/shop.public.users.id", shopNS + "/shop.public.customers.id"},
			change{quarry.DescriptionChanged, "total", "Invoice total in USD.", "Gross total."},
			change{quarry.ColumnAdded, "currency", "", "char(3) not null"},
			change{quarry.ColumnRemoved, "note", "text", ""},
		)
		assertGroup(t, h[:7], seq+1, at)
		assertChanges(t, h[7:], change{Kind: quarry.DatasetCreated, New: "TABLE"})
		assertGroup(t, h[7:], 0, shT0)

		// The same schema again changes nothing.
		clock.Advance(time.Hour)
		if res := mustUpsertResult(t, s, v2); res.Changed != 0 {
			t.Fatalf("unchanged upsert: %+v", res)
		}
		if h := mustSchemaHistory(t, s, id); len(h) != 8 {
			t.Fatalf("an unchanged upsert added history: %+v", changesOf(h[:len(h)-8]))
		}

		// Kind, dataset description and a dropped foreign key, then the
		// primary key back and nullability relaxed.
		v3 := v2
		v3.Kind = quarry.KindMaterializedView
		v3.Provided.Description = "Invoices, materialized."
		v3.Columns = slices.Clone(v2.Columns)
		v3.Columns[1].ForeignKey = nil
		at3 := clock.Advance(time.Hour)
		mustUpsert(t, s, v3)
		v4 := v3
		v4.Columns = slices.Clone(v3.Columns)
		v4.Columns[0].PrimaryKey = true
		v4.Columns[3].Nullable = true
		v4.Columns[3].Type = "text"
		at4 := clock.Advance(time.Hour)
		mustUpsert(t, s, v4)

		h = mustSchemaHistory(t, s, id)
		if len(h) != 8+3+3 {
			t.Fatalf("history = %+v", changesOf(h))
		}
		// In v4's column order: id comes first.
		assertChanges(t, h[:3],
			change{quarry.PrimaryKeyChanged, "id", "", "primary key"},
			change{quarry.TypeChanged, "currency", "char(3)", "text"},
			change{quarry.NullabilityChanged, "currency", "not null", "null"},
		)
		assertGroup(t, h[:3], lastSeq(t, s), at4)
		assertChanges(t, h[3:6],
			change{quarry.KindChanged, "", "TABLE", "MATERIALIZED_VIEW"},
			change{quarry.DescriptionChanged, "", "One row per invoice.", "Invoices, materialized."},
			change{quarry.ForeignKeyChanged, "user_id", shopNS + "/shop.public.customers.id", ""},
		)
		assertGroup(t, h[3:6], lastSeq(t, s)-1, at3)
		// Older groups are as before.
		assertChanges(t, h[13:], change{Kind: quarry.DatasetCreated, New: "TABLE"})
		for i := 1; i < len(h); i++ {
			if h[i].Seq > h[i-1].Seq {
				t.Fatalf("history not newest first at %d: seq %d after %d", i, h[i].Seq, h[i-1].Seq)
			}
		}
	})

	t.Run("RemoveRestore", func(t *testing.T) {
		s, clock := openClocked(t)
		ids := mustUpsert(t, s, invoice(), orders(1))
		id := ids[0]
		start := lastSeq(t, s)

		at := clock.Advance(time.Hour)
		if err := s.MarkRemoved(ctx, at, id); err != nil {
			t.Fatal(err)
		}
		h := mustSchemaHistory(t, s, id)
		assertChanges(t, h, change{Kind: quarry.DatasetRemoved}, change{Kind: quarry.DatasetCreated, New: "TABLE"})
		assertGroup(t, h[:1], start+1, at)

		// Removing again records nothing.
		clock.Advance(time.Minute)
		if err := s.MarkRemoved(ctx, clock.Now(), id); err != nil {
			t.Fatal(err)
		}
		if h := mustSchemaHistory(t, s, id); len(h) != 2 {
			t.Fatalf("a second removal added history: %+v", changesOf(h))
		}

		at = clock.Advance(time.Hour)
		if err := s.Restore(ctx, id); err != nil {
			t.Fatal(err)
		}
		h = mustSchemaHistory(t, s, id)
		assertChanges(t, h[:2], change{Kind: quarry.DatasetRestored}, change{Kind: quarry.DatasetRemoved})
		assertGroup(t, h[:1], start+2, at)

		// Restoring what is not removed records nothing.
		if err := s.Restore(ctx, id); err != nil {
			t.Fatal(err)
		}
		if h := mustSchemaHistory(t, s, id); len(h) != 3 {
			t.Fatalf("restoring a present dataset added history: %+v", changesOf(h))
		}

		// An upsert of a removed dataset restores it, with its schema diff in
		// the same change, the restore first.
		if err := s.MarkRemoved(ctx, clock.Advance(time.Hour), id); err != nil {
			t.Fatal(err)
		}
		again := invoice()
		again.Columns = append(again.Columns, quarry.Column{Name: "paid_at", Type: "timestamptz", Nullable: true})
		at = clock.Advance(time.Hour)
		res := mustUpsertResult(t, s, again, orders(1))
		if res.Changed != 1 || res.Restored != 1 || res.Created != 0 {
			t.Fatalf("result = %+v", res)
		}
		d := mustDataset(t, s, id)
		if d.Removed() || !d.UpdatedAt.Equal(at) {
			t.Fatalf("after upsert: removed at %v, updated at %v", d.RemovedAt, d.UpdatedAt)
		}
		h = mustSchemaHistory(t, s, id)
		assertChanges(t, h,
			change{Kind: quarry.DatasetRestored},
			change{quarry.ColumnAdded, "paid_at", "", "timestamptz"},
			change{Kind: quarry.DatasetRemoved},
			change{Kind: quarry.DatasetRestored},
			change{Kind: quarry.DatasetRemoved},
			change{Kind: quarry.DatasetCreated, New: "TABLE"},
		)
		assertGroup(t, h[:2], lastSeq(t, s), at)

		// An upsert of a removed, otherwise unchanged dataset restores it too.
		if err := s.MarkRemoved(ctx, clock.Advance(time.Hour), id); err != nil {
			t.Fatal(err)
		}
		if res := mustUpsertResult(t, s, again); res.Changed != 1 || res.Restored != 1 {
			t.Fatalf("result = %+v", res)
		}
		assertChanges(t, mustSchemaHistory(t, s, id)[:2], change{Kind: quarry.DatasetRestored}, change{Kind: quarry.DatasetRemoved})

		var ops []string
		for _, c := range mustChanges(t, s, start) {
			if c.ID != id {
				t.Fatalf("change of another dataset: %+v", c)
			}
			ops = append(ops, c.Op)
		}
		want := []string{quarry.OpRemove, quarry.OpRestore, quarry.OpRemove, quarry.OpRestore, quarry.OpRemove, quarry.OpRestore}
		if !slices.Equal(ops, want) {
			t.Fatalf("changelog ops = %v, want %v", ops, want)
		}
		// The other dataset was never touched.
		assertChanges(t, mustSchemaHistory(t, s, ids[1]), change{Kind: quarry.DatasetCreated, New: "TABLE"})
	})

	t.Run("EditsAreNotSchemaChanges", func(t *testing.T) {
		s, clock := openClocked(t)
		id := mustUpsert(t, s, invoice())[0]
		before := mustSchemaHistory(t, s, id)

		clock.Advance(time.Hour)
		desc, owners, tags := "Invoices, as finance sees them.", []string{"alice@acme.example"}, []string{"pii"}
		actx := quarry.WithActor(ctx, "alice")
		seq := lastSeq(t, s)
		if _, err := s.UpdateDataset(actx, id, quarry.DatasetUpdate{
			Description:        &desc,
			Owners:             &owners,
			Tags:               &tags,
			ColumnDescriptions: map[string]string{"total": "Gross, tax included.", "note": "Free text."},
		}); err != nil {
			t.Fatal(err)
		}
		if got := lastSeq(t, s); got != seq+1 {
			t.Fatalf("the edit appended %d changelog records", got-seq)
		}
		if edits, err := s.MetadataHistory(ctx, id); err != nil || len(edits) != 5 {
			t.Fatalf("metadata history = %+v, %v", edits, err)
		}
		if h := mustSchemaHistory(t, s, id); !slices.Equal(changesOf(h), changesOf(before)) {
			t.Fatalf("an edit added schema history: %+v", changesOf(h))
		}

		// A re-crawl of the same schema is still unchanged: the edits do not
		// count as a difference.
		if res := mustUpsertResult(t, s, invoice()); res.Changed != 0 {
			t.Fatalf("re-crawl after an edit: %+v", res)
		}
		if h := mustSchemaHistory(t, s, id); len(h) != len(before) {
			t.Fatalf("re-crawl after an edit added schema history: %+v", changesOf(h))
		}

		// Provided owners and tags are metadata, not schema: the dataset
		// changes, its schema history does not.
		recrawl := invoice()
		recrawl.Provided.Owners = []string{"team:billing"}
		recrawl.Provided.Tags = []string{"tier2"}
		if res := mustUpsertResult(t, s, recrawl); res.Changed != 1 {
			t.Fatalf("owners changed: %+v", res)
		}
		if h := mustSchemaHistory(t, s, id); len(h) != len(before) {
			t.Fatalf("provided owners added schema history: %+v", changesOf(h))
		}
	})
}

func mustDataChanges(tb testing.TB, s *store.Store, id string, limit int) []quarry.DataChange {
	tb.Helper()
	dc, err := s.DataChanges(context.Background(), id, limit)
	if err != nil {
		tb.Fatal(err)
	}
	return dc
}

func i64(v int64) *int64 { return &v }

func TestVolatileFields(t *testing.T) {
	s, clock := openClocked(t)
	base := func(rows, size int64, st *quarry.TableStats) quarry.Dataset {
		d := orders(1)
		if rows >= 0 {
			d.RowCount = i64(rows)
		}
		if size >= 0 {
			d.SizeBytes = i64(size)
		}
		d.Stats = st
		return d
	}
	other := mustUpsert(t, s, orders(2))[0]

	// A first reading of the stats is no data change.
	res := mustUpsertResult(t, s, base(10, 8192, &quarry.TableStats{Inserts: 100, Updates: 5, Deletes: 1, LiveTuples: 99}))
	id := res.IDs[0]
	if res.Created != 1 || res.Changed != 1 {
		t.Fatalf("create: %+v", res)
	}
	d := mustDataset(t, s, id)
	if d.LastUpdatedAt != nil || *d.RowCount != 10 || *d.SizeBytes != 8192 || d.Stats.Inserts != 100 {
		t.Fatalf("created = %+v", d)
	}
	if dc := mustDataChanges(t, s, id, 0); len(dc) != 0 {
		t.Fatalf("first stats recorded data changes: %+v", dc)
	}
	history := len(mustSchemaHistory(t, s, id))

	t.Run("Quiet", func(t *testing.T) {
		seq := lastSeq(t, s)
		clock.Advance(time.Hour)
		// Tuples and vacuum times move, the modification counters do not.
		vac := clock.Now().Add(-time.Minute)
		res := mustUpsertResult(t, s, base(12, 16384, &quarry.TableStats{Inserts: 100, Updates: 5, Deletes: 1, LiveTuples: 99, DeadTuples: 4, LastAutovacuum: &vac}))
		if res.Changed != 0 || res.Created != 0 || res.Restored != 0 {
			t.Fatalf("result = %+v", res)
		}
		if got := lastSeq(t, s); got != seq {
			t.Fatalf("volatile fields appended to the changelog: %d -> %d", seq, got)
		}
		d := mustDataset(t, s, id)
		if *d.RowCount != 12 || *d.SizeBytes != 16384 || d.Stats.DeadTuples != 4 || d.Stats.LastAutovacuum == nil || !d.Stats.LastAutovacuum.Equal(vac) {
			t.Fatalf("new numbers not stored: rows %v size %v stats %+v", *d.RowCount, *d.SizeBytes, d.Stats)
		}
		if !d.UpdatedAt.Equal(shT0) || d.LastUpdatedAt != nil {
			t.Fatalf("updated at %v, last updated at %v", d.UpdatedAt, d.LastUpdatedAt)
		}
		if dc := mustDataChanges(t, s, id, 0); len(dc) != 0 {
			t.Fatalf("data changes = %+v", dc)
		}
		if h := mustSchemaHistory(t, s, id); len(h) != history {
			t.Fatalf("schema history = %+v", changesOf(h))
		}

		// Not given means kept.
		clock.Advance(time.Hour)
		if res := mustUpsertResult(t, s, base(-1, -1, nil)); res.Changed != 0 {
			t.Fatalf("result = %+v", res)
		}
		d = mustDataset(t, s, id)
		if d.RowCount == nil || *d.RowCount != 12 || d.SizeBytes == nil || *d.SizeBytes != 16384 || d.Stats == nil || d.Stats.DeadTuples != 4 {
			t.Fatalf("omitted numbers were not kept: %+v", d)
		}
		if got := lastSeq(t, s); got != seq {
			t.Fatalf("changelog %d -> %d", seq, got)
		}
	})

	var first time.Time
	t.Run("CountersRose", func(t *testing.T) {
		seq := lastSeq(t, s)
		first = clock.Advance(time.Hour)
		res := mustUpsertResult(t, s, base(20, 16384, &quarry.TableStats{Inserts: 110, Updates: 7, Deletes: 1, LiveTuples: 108}))
		if res.Changed != 1 || res.Created != 0 || res.Restored != 0 {
			t.Fatalf("result = %+v", res)
		}
		d := mustDataset(t, s, id)
		if d.LastUpdatedAt == nil || !d.LastUpdatedAt.Equal(first) {
			t.Fatalf("last updated at = %v, want %v", d.LastUpdatedAt, first)
		}
		if *d.RowCount != 20 || d.Stats.Inserts != 110 || d.Stats.Updates != 7 {
			t.Fatalf("stored = rows %d stats %+v", *d.RowCount, d.Stats)
		}
		if got := lastSeq(t, s); got != seq+1 {
			t.Fatalf("changelog %d -> %d, want one record", seq, got)
		}
		dc := mustDataChanges(t, s, id, 0)
		if len(dc) != 1 {
			t.Fatalf("data changes = %+v", dc)
		}
		if !dc[0].At.Equal(first) || dc[0].Signal != quarry.SignalCrawler {
			t.Fatalf("data change = %+v", dc[0])
		}
		for _, want := range []string{"+10 inserts", "+2 updates", "+0 deletes"} {
			if !strings.Contains(dc[0].Detail, want) {
				t.Errorf("detail %q does not mention %q", dc[0].Detail, want)
			}
		}
		if h := mustSchemaHistory(t, s, id); len(h) != history {
			t.Fatalf("a data change added schema history: %+v", changesOf(h))
		}
		if dc := mustDataChanges(t, s, other, 0); len(dc) != 0 {
			t.Fatalf("data changes of another dataset = %+v", dc)
		}
	})

	t.Run("StatsReset", func(t *testing.T) {
		seq := lastSeq(t, s)
		clock.Advance(time.Hour)
		res := mustUpsertResult(t, s, base(20, 16384, &quarry.TableStats{Inserts: 3, LiveTuples: 108}))
		if res.Changed != 0 {
			t.Fatalf("result = %+v", res)
		}
		if got := lastSeq(t, s); got != seq {
			t.Fatalf("a stats reset appended to the changelog: %d -> %d", seq, got)
		}
		d := mustDataset(t, s, id)
		if d.Stats.Inserts != 3 || d.Stats.Updates != 0 {
			t.Fatalf("reset stats not stored: %+v", d.Stats)
		}
		if d.LastUpdatedAt == nil || !d.LastUpdatedAt.Equal(first) {
			t.Fatalf("last updated at = %v, want %v", d.LastUpdatedAt, first)
		}
		if dc := mustDataChanges(t, s, id, 0); len(dc) != 1 {
			t.Fatalf("a stats reset recorded a data change: %+v", dc)
		}
	})

	t.Run("NewestFirst", func(t *testing.T) {
		// Rises after a reset count from the reset values.
		second := clock.Advance(time.Hour)
		mustUpsert(t, s, base(25, 16384, &quarry.TableStats{Inserts: 8, Deletes: 2, LiveTuples: 106}))
		third := clock.Advance(time.Hour)
		mustUpsert(t, s, base(25, 16384, &quarry.TableStats{Inserts: 8, Updates: 1, Deletes: 2, LiveTuples: 106}))

		dc := mustDataChanges(t, s, id, 0)
		if len(dc) != 3 {
			t.Fatalf("data changes = %+v", dc)
		}
		for i, at := range []time.Time{third, second, first} {
			if !dc[i].At.Equal(at) || dc[i].Signal != quarry.SignalCrawler {
				t.Errorf("data change %d = %+v, want at %v", i, dc[i], at)
			}
		}
		for _, want := range []string{"+5 inserts", "+0 updates", "+2 deletes"} {
			if !strings.Contains(dc[1].Detail, want) {
				t.Errorf("detail %q does not mention %q", dc[1].Detail, want)
			}
		}
		if !strings.Contains(dc[0].Detail, "+1 updates") {
			t.Errorf("detail %q does not mention +1 updates", dc[0].Detail)
		}
		if d := mustDataset(t, s, id); d.LastUpdatedAt == nil || !d.LastUpdatedAt.Equal(third) {
			t.Fatalf("last updated at = %v, want %v", d.LastUpdatedAt, third)
		}
		if dc := mustDataChanges(t, s, id, 2); len(dc) != 2 || !dc[0].At.Equal(third) || !dc[1].At.Equal(second) {
			t.Fatalf("limit 2 = %+v", dc)
		}
		if dc := mustDataChanges(t, s, other, 0); len(dc) != 0 {
			t.Fatalf("data changes of another dataset = %+v", dc)
		}
	})

	t.Run("NoStatsNoChange", func(t *testing.T) {
		// Stats that were never read, then read: the first reading is no change.
		id := mustUpsert(t, s, orders(3))[0]
		clock.Advance(time.Hour)
		d := orders(3)
		d.Stats = &quarry.TableStats{Inserts: 1000}
		seq := lastSeq(t, s)
		if res := mustUpsertResult(t, s, d); res.Changed != 0 {
			t.Fatalf("result = %+v", res)
		}
		if got := lastSeq(t, s); got != seq {
			t.Fatalf("changelog %d -> %d", seq, got)
		}
		if dc := mustDataChanges(t, s, id, 0); len(dc) != 0 {
			t.Fatalf("data changes = %+v", dc)
		}
		if d := mustDataset(t, s, id); d.LastUpdatedAt != nil || d.Stats == nil || d.Stats.Inserts != 1000 {
			t.Fatalf("stored = %+v", d)
		}
	})
}

func TestUpsertResultCounts(t *testing.T) {
	ctx := context.Background()
	s, clock := openClocked(t)
	ids := mustUpsert(t, s, orders(1), orders(2), orders(3), orders(4))
	if err := s.MarkRemoved(ctx, clock.Now(), ids[1], ids[3]); err != nil {
		t.Fatal(err)
	}
	seq := lastSeq(t, s)

	changed := orders(3)
	changed.Provided.Description = "Orders, v2."
	restoredAndChanged := orders(4)
	restoredAndChanged.Columns = restoredAndChanged.Columns[:2]
	in := []quarry.Dataset{
		orders(5),          // new
		orders(1),          // unchanged
		orders(2),          // restored
		changed,            // changed
		restoredAndChanged, // restored, with a schema change
		orders(6),          // new
	}
	clock.Advance(time.Hour)
	res := mustUpsertResult(t, s, in...)
	if res.Created != 2 || res.Restored != 2 || res.Changed != 5 {
		t.Fatalf("result = %+v, want 2 created, 2 restored, 5 changed", res)
	}
	if len(res.IDs) != len(in) {
		t.Fatalf("IDs = %v", res.IDs)
	}
	for i, d := range in {
		want, err := quarry.DatasetID(d.Namespace, d.Name)
		if err != nil {
			t.Fatal(err)
		}
		if res.IDs[i] != want {
			t.Errorf("IDs[%d] = %s, want %s", i, res.IDs[i], want)
		}
	}
	if got := lastSeq(t, s); got != seq+5 {
		t.Fatalf("changelog %d -> %d, want 5 records", seq, got)
	}
	ops := map[string]string{}
	for _, c := range mustChanges(t, s, seq) {
		ops[c.ID] = c.Op
	}
	want := map[string]string{
		res.IDs[0]: quarry.OpUpsert, res.IDs[2]: quarry.OpRestore, res.IDs[3]: quarry.OpUpsert,
		res.IDs[4]: quarry.OpRestore, res.IDs[5]: quarry.OpUpsert,
	}
	if len(ops) != len(want) {
		t.Fatalf("changelog ops = %v, want %v", ops, want)
	}
	for id, op := range want {
		if ops[id] != op {
			t.Errorf("op of %s = %q, want %q", id, ops[id], op)
		}
	}
	page, err := s.ListDatasets(ctx, store.ListOptions{})
	if err != nil || page.Total != 6 {
		t.Fatalf("listing: total %d, %v", page.Total, err)
	}

	// The same batch again changes nothing.
	clock.Advance(time.Hour)
	if res := mustUpsertResult(t, s, in...); res.Changed != 0 || res.Created != 0 || res.Restored != 0 {
		t.Fatalf("second upsert = %+v", res)
	}
	// Nor does one where only the volatile numbers moved.
	for i := range in {
		in[i].RowCount = i64(int64(i))
	}
	if res := mustUpsertResult(t, s, in...); res.Changed != 0 || res.Created != 0 || res.Restored != 0 {
		t.Fatalf("volatile upsert = %+v", res)
	}
	if got := lastSeq(t, s); got != seq+5 {
		t.Fatalf("changelog %d -> %d", seq+5, got)
	}
	// A single-dataset upsert (a group commit) counts the same way.
	if res := mustUpsertResult(t, s, orders(7)); res.Created != 1 || res.Changed != 1 || res.Restored != 0 {
		t.Fatalf("single create = %+v", res)
	}
	if err := s.MarkRemoved(ctx, clock.Now(), ids[0]); err != nil {
		t.Fatal(err)
	}
	if res := mustUpsertResult(t, s, orders(1)); res.Created != 0 || res.Changed != 1 || res.Restored != 1 {
		t.Fatalf("single restore = %+v", res)
	}
}

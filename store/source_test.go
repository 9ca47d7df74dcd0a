package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/store"
	"github.com/quarrydata/quarry/store/storetest"
)

const (
	canonicalNS = "postgres://db.internal:5432"
	aliasNS     = "postgres://10.0.0.5:5432"
)

func warehouse() quarry.Source {
	return quarry.Source{
		Name:      "warehouse",
		Kind:      quarry.SourcePostgres,
		Namespace: "postgresql://DB.internal/",
		DSN:       "postgres://crawler:secret@db.internal/shop",
		Schedule:  "@hourly",
		Include:   []string{"shop.*"},
		Aliases:   []string{"postgresql://10.0.0.5/"},
	}
}

func mustPutSource(tb testing.TB, s *store.Store, src quarry.Source) *quarry.Source {
	tb.Helper()
	out, err := s.PutSource(context.Background(), src)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestPutSource(t *testing.T) {
	ctx := context.Background()

	t.Run("CreateUpdate", func(t *testing.T) {
		s, clock := openClocked(t)
		out := mustPutSource(t, s, warehouse())
		if out.Namespace != canonicalNS || !slices.Equal(out.Aliases, []string{aliasNS}) {
			t.Fatalf("not normalized: %+v", out)
		}
		if !out.CreatedAt.Equal(shT0) || !out.UpdatedAt.Equal(shT0) {
			t.Fatalf("created %v updated %v", out.CreatedAt, out.UpdatedAt)
		}
		got, err := s.Source(ctx, "warehouse")
		if err != nil {
			t.Fatal(err)
		}
		if got.Namespace != canonicalNS || got.DSN != warehouse().DSN || got.Schedule != "@hourly" || !slices.Equal(got.Include, []string{"shop.*"}) || !got.CreatedAt.Equal(shT0) {
			t.Fatalf("stored = %+v", got)
		}

		at := clock.Advance(time.Hour)
		upd := warehouse()
		upd.Schedule = "@daily"
		upd.CreatedAt = at.Add(time.Hour) // ignored: the store keeps the creation time
		out = mustPutSource(t, s, upd)
		if !out.CreatedAt.Equal(shT0) || !out.UpdatedAt.Equal(at) {
			t.Fatalf("update returned created %v updated %v", out.CreatedAt, out.UpdatedAt)
		}
		got, _ = s.Source(ctx, "warehouse")
		if got.Schedule != "@daily" || !got.CreatedAt.Equal(shT0) || !got.UpdatedAt.Equal(at) {
			t.Fatalf("after update = %+v", got)
		}

		mustPutSource(t, s, quarry.Source{Name: "app-db", Kind: quarry.SourceMySQL, Namespace: "mysql://app-db:3306", DSNEnv: "APP_DSN"})
		all, err := s.Sources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].Name != "app-db" || all[1].Name != "warehouse" {
			t.Fatalf("sources = %+v", all)
		}
		_, err = s.Source(ctx, "nope")
		assertCode(t, err, quarry.ENOTFOUND, "")
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s, _ := openClocked(t)
		for _, tc := range []struct {
			name  string
			edit  func(*quarry.Source)
			field string
		}{
			{"BadName", func(src *quarry.Source) { src.Name = "Ware House" }, "name"},
			{"EmptyName", func(src *quarry.Source) { src.Name = "" }, "name"},
			{"BadKind", func(src *quarry.Source) { src.Kind = "ORACLE" }, "kind"},
			{"NoDSN", func(src *quarry.Source) { src.DSN, src.DSNEnv = "", "" }, "dsn"},
			{"NoNamespace", func(src *quarry.Source) { src.Namespace = "" }, "namespace"},
			{"BadNamespace", func(src *quarry.Source) { src.Namespace = "postgres://" }, "namespace"},
			{"BadAlias", func(src *quarry.Source) { src.Aliases = []string{aliasNS, "postgres://:5432"} }, "aliases[1]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				src := warehouse()
				tc.edit(&src)
				_, err := s.PutSource(ctx, src)
				assertCode(t, err, quarry.EINVALID, tc.field)
				if all, err := s.Sources(ctx); err != nil || len(all) != 0 {
					t.Fatalf("an invalid source was stored: %+v %v", all, err)
				}
				if got := s.ResolveNamespace(aliasNS); got != aliasNS {
					t.Fatalf("an invalid source's alias took effect: %s", got)
				}
			})
		}
	})

	t.Run("ErrAliasConflict", func(t *testing.T) {
		s, _ := openClocked(t)
		mustPutSource(t, s, warehouse())
		replica := quarry.Source{Name: "replica", Kind: quarry.SourcePostgres, Namespace: "postgres://replica.internal:5432", DSN: "postgres://replica.internal/shop"}
		mustPutSource(t, s, replica)

		for _, tc := range []struct {
			name  string
			src   quarry.Source
			field string
		}{
			// Another source already claims the alias (spelled differently).
			{"ClaimedAlias", func() quarry.Source {
				r := replica
				r.Aliases = []string{"postgres://10.0.0.5"}
				return r
			}(), "aliases"},
			// The alias is another source's namespace.
			{"AliasIsNamespace", func() quarry.Source {
				r := replica
				r.Aliases = []string{"postgresql://db.internal"}
				return r
			}(), "aliases"},
			// A new source whose namespace another source declared an alias.
			{"NamespaceIsAlias", quarry.Source{Name: "direct", Kind: quarry.SourcePostgres, Namespace: aliasNS, DSN: "postgres://10.0.0.5/shop"}, "namespace"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.PutSource(ctx, tc.src)
				assertCode(t, err, quarry.EINVALID, tc.field)
				if r, err := s.Source(ctx, "replica"); err != nil || len(r.Aliases) != 0 {
					t.Fatalf("replica after a conflict: %+v %v", r, err)
				}
				if _, err := s.Source(ctx, "direct"); quarry.ErrorCode(err) != quarry.ENOTFOUND {
					t.Fatalf("a conflicting source was stored: %v", err)
				}
				if got := s.ResolveNamespace(aliasNS); got != canonicalNS {
					t.Fatalf("alias resolves to %s", got)
				}
				if got := s.ResolveNamespace(canonicalNS); got != canonicalNS {
					t.Fatalf("namespace resolves to %s", got)
				}
			})
		}

		// A source may keep its own aliases when it is updated.
		upd := warehouse()
		upd.Schedule = "@daily"
		mustPutSource(t, s, upd)
		// And an alias it gives up is free for another.
		upd.Aliases = nil
		mustPutSource(t, s, upd)
		if got := s.ResolveNamespace(aliasNS); got != aliasNS {
			t.Fatalf("a dropped alias still resolves to %s", got)
		}
		r := replica
		r.Aliases = []string{aliasNS}
		mustPutSource(t, s, r)
		if got := s.ResolveNamespace(aliasNS); got != "postgres://replica.internal:5432" {
			t.Fatalf("alias resolves to %s", got)
		}
	})
}

func TestAliases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "quarry.db")
	opts := &store.Options{Logger: slog.New(slog.DiscardHandler), NoSync: true}
	s, err := store.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()

	if got := s.ResolveNamespace(aliasNS); got != aliasNS {
		t.Fatalf("before any source: %s", got)
	}
	mustPutSource(t, s, warehouse())
	if got := s.ResolveNamespace(aliasNS); got != canonicalNS {
		t.Fatalf("ResolveNamespace(%s) = %s", aliasNS, got)
	}
	if got := s.ResolveNamespace("postgres://elsewhere:5432"); got != "postgres://elsewhere:5432" {
		t.Fatalf("an unknown namespace resolved to %s", got)
	}

	wantID, err := quarry.DatasetID(canonicalNS, "shop.public.orders")
	if err != nil {
		t.Fatal(err)
	}
	d := quarry.Dataset{
		Namespace: "postgresql://10.0.0.5/", // the alias, as a producer spells it
		Name:      "shop.public.orders",
		Columns: []quarry.Column{
			{Name: "id", Type: "bigint", PrimaryKey: true},
			{Name: "user_id", Type: "bigint", ForeignKey: &quarry.ColumnRef{Namespace: "postgres://10.0.0.5", Name: "shop.public.users", Column: "id"}},
			{Name: "sku", Type: "text", ForeignKey: &quarry.ColumnRef{Namespace: "postgres://catalog.internal", Name: "catalog.public.items", Column: "sku"}},
		},
		Constraints: []quarry.Constraint{
			{Name: "orders_pkey", Kind: quarry.ConstraintPrimaryKey, Columns: []string{"id"}},
			{Name: "orders_user_fk", Kind: quarry.ConstraintForeignKey, Columns: []string{"user_id"}, References: &quarry.TableRef{Namespace: aliasNS, Name: "shop.public.users", Columns: []string{"id"}}},
		},
	}
	res, err := s.UpsertDatasets(ctx, []quarry.Dataset{d})
	if err != nil {
		t.Fatal(err)
	}
	if res.IDs[0] != wantID || res.Created != 1 {
		t.Fatalf("upsert under the alias: %+v, want ID %s", res, wantID)
	}
	// The caller's dataset is left as it was.
	if d.Namespace != "postgresql://10.0.0.5/" || d.Columns[1].ForeignKey.Namespace != "postgres://10.0.0.5" || d.Constraints[1].References.Namespace != aliasNS {
		t.Fatalf("UpsertDatasets changed its input: %+v", d)
	}
	check := func(t *testing.T, s *store.Store) {
		t.Helper()
		got, err := s.Dataset(ctx, wantID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Namespace != canonicalNS {
			t.Fatalf("stored under %s", got.Namespace)
		}
		if fk := got.Columns[1].ForeignKey; fk.Namespace != canonicalNS || fk.DatasetID() != lid2(t, canonicalNS, "shop.public.users") {
			t.Fatalf("foreign key not rewritten: %+v", fk)
		}
		if fk := got.Columns[2].ForeignKey; fk.Namespace != "postgres://catalog.internal:5432" {
			t.Fatalf("a foreign key to another namespace was rewritten: %+v", fk)
		}
		if r := got.Constraints[1].References; r.Namespace != canonicalNS {
			t.Fatalf("constraint reference not rewritten: %+v", r)
		}
		for _, ns := range []string{aliasNS, "postgresql://10.0.0.5", canonicalNS} {
			byName, err := s.DatasetByName(ctx, ns, "shop.public.orders")
			if err != nil {
				t.Fatalf("DatasetByName(%s): %v", ns, err)
			}
			if byName.ID != wantID {
				t.Fatalf("DatasetByName(%s) = %s", ns, byName.ID)
			}
		}
		if _, err := s.Dataset(ctx, lid2(t, aliasNS, "shop.public.orders")); quarry.ErrorCode(err) != quarry.ENOTFOUND {
			t.Fatalf("a dataset was stored under the alias: %v", err)
		}
		under, err := s.DatasetsUnder(ctx, canonicalNS, "shop.")
		if err != nil || len(under) != 1 || under[0].ID != wantID {
			t.Fatalf("DatasetsUnder(canonical) = %+v %v", under, err)
		}
	}
	check(t, s)

	// A foreign key from another database into the alias is rewritten too.
	other := quarry.Dataset{
		Namespace: "postgres://reports.internal",
		Name:      "reports.public.daily",
		Columns:   []quarry.Column{{Name: "order_id", Type: "bigint", ForeignKey: &quarry.ColumnRef{Namespace: aliasNS, Name: "shop.public.orders", Column: "id"}}},
	}
	otherID := mustUpsert(t, s, other)[0]
	if got := mustDataset(t, s, otherID); got.Columns[0].ForeignKey.DatasetID() != wantID {
		t.Fatalf("foreign key into the alias = %+v", got.Columns[0].ForeignKey)
	}

	// The same dataset under its two names in one batch is a duplicate.
	canon := d
	canon.Namespace = canonicalNS
	_, err = s.UpsertDatasets(ctx, []quarry.Dataset{d, canon})
	assertCode(t, err, quarry.EINVALID, "[1]")

	// Upserting under the canonical name is the same dataset, unchanged.
	if res, err := s.UpsertDatasets(ctx, []quarry.Dataset{canon}); err != nil || res.Changed != 0 || res.IDs[0] != wantID {
		t.Fatalf("upsert under the canonical namespace: %+v %v", res, err)
	}

	// Aliases are stored: they work after a reopen.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ResolveNamespace(aliasNS); got != canonicalNS {
		t.Fatalf("after reopen, ResolveNamespace(%s) = %s", aliasNS, got)
	}
	check(t, s)
	d.Provided.Description = "After the reopen."
	res, err = s.UpsertDatasets(ctx, []quarry.Dataset{d})
	if err != nil || res.IDs[0] != wantID || res.Created != 0 || res.Changed != 1 {
		t.Fatalf("upsert under the alias after reopen: %+v %v", res, err)
	}
	check(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := store.Verify(path); err != nil {
		t.Fatal(err)
	}
}

func lid2(tb testing.TB, ns, name string) string {
	tb.Helper()
	id, err := quarry.DatasetID(ns, name)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func mustCrawlRuns(tb testing.TB, s *store.Store, source string, limit int) []quarry.CrawlRun {
	tb.Helper()
	runs, err := s.CrawlRuns(context.Background(), source, limit)
	if err != nil {
		tb.Fatal(err)
	}
	return runs
}

func TestCrawlRuns(t *testing.T) {
	ctx := context.Background()
	s, _ := openClocked(t)
	seq := lastSeq(t, s)
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	put := func(source string, i int, status quarry.CrawlStatus) quarry.CrawlRun {
		t.Helper()
		run := quarry.CrawlRun{Source: source, StartedAt: start.Add(time.Duration(i) * time.Hour), Status: status, Counts: quarry.CrawlCounts{Datasets: i}}
		if status != quarry.CrawlRunning {
			f := run.StartedAt.Add(time.Minute)
			run.FinishedAt = &f
		}
		if err := s.PutCrawlRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		return run
	}
	// Out of order, interleaved with a source whose name has "a" as prefix
	// and one that sorts just before it.
	for _, i := range []int{3, 0, 4, 1, 2} {
		put("a", i, quarry.CrawlSucceeded)
		put("ab", i+10, quarry.CrawlFailed)
	}
	put("a-", 100, quarry.CrawlSucceeded)
	put("", 50, quarry.CrawlSucceeded) // keyed, though no source has that name

	starts := func(runs []quarry.CrawlRun) []int {
		var out []int
		for _, r := range runs {
			out = append(out, int(r.StartedAt.Sub(start)/time.Hour))
		}
		return out
	}
	if got := starts(mustCrawlRuns(t, s, "a", 0)); !slices.Equal(got, []int{4, 3, 2, 1, 0}) {
		t.Fatalf("runs of a = %v", got)
	}
	if got := starts(mustCrawlRuns(t, s, "ab", 0)); !slices.Equal(got, []int{14, 13, 12, 11, 10}) {
		t.Fatalf("runs of ab = %v", got)
	}
	if got := starts(mustCrawlRuns(t, s, "a-", 0)); !slices.Equal(got, []int{100}) {
		t.Fatalf("runs of a- = %v", got)
	}
	if got := starts(mustCrawlRuns(t, s, "a", 2)); !slices.Equal(got, []int{4, 3}) {
		t.Fatalf("runs of a, limit 2 = %v", got)
	}
	if got := mustCrawlRuns(t, s, "b", 0); len(got) != 0 {
		t.Fatalf("runs of b = %+v", got)
	}
	if got := mustCrawlRuns(t, s, "zz", 0); len(got) != 0 {
		t.Fatalf("runs of zz = %+v", got)
	}
	for _, r := range mustCrawlRuns(t, s, "ab", 0) {
		if r.Source != "ab" || r.Status != quarry.CrawlFailed || r.FinishedAt == nil {
			t.Fatalf("run of ab = %+v", r)
		}
	}

	// The default limit is 20.
	for i := range 25 {
		put("big", i, quarry.CrawlSucceeded)
	}
	if got := mustCrawlRuns(t, s, "big", 0); len(got) != 20 || got[0].Counts.Datasets != 24 {
		t.Fatalf("default limit: %d runs, first %+v", len(got), got[0])
	}

	// Putting a run with the same start time replaces it: start, then end.
	running := put("ab", 20, quarry.CrawlRunning)
	if runs := mustCrawlRuns(t, s, "ab", 0); len(runs) != 6 || runs[0].Status != quarry.CrawlRunning || runs[0].FinishedAt != nil {
		t.Fatalf("after start: %+v", runs[0])
	}
	fin := running.StartedAt.Add(3 * time.Minute)
	running.Status, running.FinishedAt, running.Counts = quarry.CrawlSucceeded, &fin, quarry.CrawlCounts{Datasets: 42, New: 2, Changed: 3}
	if err := s.PutCrawlRun(ctx, running); err != nil {
		t.Fatal(err)
	}
	runs := mustCrawlRuns(t, s, "ab", 0)
	if len(runs) != 6 {
		t.Fatalf("the update added a run: %d runs", len(runs))
	}
	r := runs[0]
	if r.Status != quarry.CrawlSucceeded || r.FinishedAt == nil || !r.FinishedAt.Equal(fin) || r.Counts != running.Counts || !r.StartedAt.Equal(running.StartedAt) {
		t.Fatalf("after end: %+v", r)
	}

	// A start time in another zone is the same instant.
	local := running
	local.StartedAt = running.StartedAt.In(time.FixedZone("CEST", 2*3600))
	local.Error = "rerun"
	if err := s.PutCrawlRun(ctx, local); err != nil {
		t.Fatal(err)
	}
	if runs := mustCrawlRuns(t, s, "ab", 0); len(runs) != 6 || runs[0].Error != "rerun" {
		t.Fatalf("after a put in another zone: %d runs, first %+v", len(runs), runs[0])
	}

	// Crawl runs are bookkeeping, not entities: no changelog records.
	if got := lastSeq(t, s); got != seq {
		t.Fatalf("crawl runs appended to the changelog: %d -> %d", seq, got)
	}
}

func TestDatasetsUnder(t *testing.T) {
	ctx := context.Background()
	s, clock := openClocked(t)
	named := func(ns, name string) quarry.Dataset {
		return quarry.Dataset{Namespace: ns, Name: name, Columns: []quarry.Column{{Name: "id", Type: "bigint"}}}
	}
	const (
		ns      = "postgres://db.internal:5432"
		longer  = "postgres://db.internal:54321" // ns is a prefix of it
		another = "postgres://other.internal:5432"
	)
	mustUpsert(t, s,
		named(ns, "shop.public.orders"),
		named(ns, "shop.public.users"),
		named(ns, "shop.audit.log"),
		named(ns, "shopify.public.orders"),
		named(ns, "shop"),
		named(ns, "analytics.public.daily"),
		named(longer, "shop.public.orders"),
		named(another, "shop.public.orders"),
	)
	names := func(list []store.NamedID) []string {
		var out []string
		for _, n := range list {
			out = append(out, n.Name)
		}
		return out
	}
	under := func(ns, prefix string) []store.NamedID {
		t.Helper()
		list, err := s.DatasetsUnder(ctx, ns, prefix)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}

	got := under(ns, "shop.")
	if want := []string{"shop.audit.log", "shop.public.orders", "shop.public.users"}; !slices.Equal(names(got), want) {
		t.Fatalf("shop. = %v, want %v", names(got), want)
	}
	for _, n := range got {
		if n.ID != lid2(t, ns, n.Name) || n.Removed {
			t.Fatalf("entry %+v", n)
		}
	}
	if want := []string{"shopify.public.orders"}; !slices.Equal(names(under(ns, "shopify.")), want) {
		t.Fatalf("shopify. = %v", names(under(ns, "shopify.")))
	}
	if want := []string{"shop.public.orders", "shop.public.users"}; !slices.Equal(names(under(ns, "shop.public.")), want) {
		t.Fatalf("shop.public. = %v", names(under(ns, "shop.public.")))
	}
	// Without a dot, the prefix is just a prefix.
	if want := []string{"shop", "shop.audit.log", "shop.public.orders", "shop.public.users", "shopify.public.orders"}; !slices.Equal(names(under(ns, "shop")), want) {
		t.Fatalf("shop = %v", names(under(ns, "shop")))
	}
	// The empty prefix is the whole namespace, and only it.
	if all := under(ns, ""); len(all) != 6 {
		t.Fatalf("whole namespace = %v", names(all))
	}
	for _, n := range [][]store.NamedID{under(longer, ""), under(another, "shop.")} {
		if len(n) != 1 || n[0].Name != "shop.public.orders" {
			t.Fatalf("another namespace = %+v", n)
		}
	}
	if got := under(longer, ""); got[0].ID != lid2(t, longer, "shop.public.orders") {
		t.Fatalf("ID from the wrong namespace: %+v", got[0])
	}
	if got := under(ns, "warehouse."); len(got) != 0 {
		t.Fatalf("warehouse. = %v", names(got))
	}
	if got := under("postgres://nowhere:5432", ""); len(got) != 0 {
		t.Fatalf("unknown namespace = %v", names(got))
	}

	// Removed datasets are listed, marked.
	if err := s.MarkRemoved(ctx, clock.Now(), lid2(t, ns, "shop.public.users")); err != nil {
		t.Fatal(err)
	}
	got = under(ns, "shop.")
	if len(got) != 3 || got[0].Removed || got[1].Removed || !got[2].Removed || got[2].Name != "shop.public.users" {
		t.Fatalf("after removal = %+v", got)
	}
	if got := under(longer, "shop."); got[0].Removed {
		t.Fatalf("a removal in one namespace marked another: %+v", got)
	}
	if err := s.Restore(ctx, lid2(t, ns, "shop.public.users")); err != nil {
		t.Fatal(err)
	}
	if got := under(ns, "shop.public.users"); len(got) != 1 || got[0].Removed {
		t.Fatalf("after restore = %+v", got)
	}
}

// TestPutSourceConcurrentAliases registers sources concurrently: every
// alias must resolve once all PutSource calls returned.
func TestPutSourceConcurrentAliases(t *testing.T) {
	s := storetest.MustOpen(t, &store.Options{NoSync: true})
	const n = 32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := s.PutSource(context.Background(), quarry.Source{
				Name:      fmt.Sprintf("db%02d", i),
				Kind:      quarry.SourcePostgres,
				Namespace: fmt.Sprintf("postgres://db%02d.internal:5432", i),
				DSN:       "postgres://x",
				Aliases:   []string{fmt.Sprintf("postgres://10.0.1.%d:5432", i)},
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		alias, want := fmt.Sprintf("postgres://10.0.1.%d:5432", i), fmt.Sprintf("postgres://db%02d.internal:5432", i)
		if got := s.ResolveNamespace(alias); got != want {
			t.Errorf("ResolveNamespace(%s) = %s, want %s", alias, got, want)
		}
	}
}

// TestAliasOverStoredDatasets: an alias under which datasets are stored
// already would hide them; it is refused.
func TestAliasOverStoredDatasets(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpen(t, nil)
	mustUpsert(t, s, quarry.Dataset{Namespace: "postgres://10.0.0.5:5432", Name: "shop.public.orders"})
	_, err := s.PutSource(ctx, quarry.Source{Name: "shop", Kind: quarry.SourcePostgres, DSN: "postgres://db.internal/shop",
		Namespace: "postgres://db.internal:5432", Aliases: []string{"postgres://10.0.0.5"}})
	assertCode(t, err, quarry.EINVALID, "aliases[0]")
	if _, err := s.DatasetByName(ctx, "postgres://10.0.0.5:5432", "shop.public.orders"); err != nil {
		t.Fatalf("the dataset is unreachable: %v", err)
	}
}

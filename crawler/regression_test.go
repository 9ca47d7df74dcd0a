package crawler_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydata/quarry"
	"github.com/quarrydata/quarry/crawler"
	"github.com/quarrydata/quarry/store"
)

// The tests here each pinned a defect a review found.

func TestPartitionedRowCountIsTheLeaves(t *testing.T) {
	ctx := context.Background()
	t.Run("AnalyzedParent", func(t *testing.T) {
		// Since PostgreSQL 14 an analyzed parent's reltuples already counts
		// its partitions: adding both counted Pagila's payments twice.
		st := openStore(t)
		crawl(t, st, pg.DSN("pagila"), crawler.Options{})
		conn, err := pgx.Connect(ctx, pg.DSN("pagila"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int64
		conn.QueryRow(ctx, "SELECT count(*) FROM payment").Scan(&n)
		if d := dataset(t, st, "pagila.public.payment"); d.RowCount == nil || *d.RowCount != n {
			t.Fatalf("payment rows %v, count(*) %d", d.RowCount, n)
		}
	})
	t.Run("UnanalyzedParent", func(t *testing.T) {
		db := "rg_part"
		pg.Database(t, db, `CREATE TABLE m (id int, k int) PARTITION BY RANGE (k);
			CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (100);
			INSERT INTO m SELECT g, g % 100 FROM generate_series(1, 1000) g;
			ANALYZE m1;`)
		st := openStore(t)
		crawl(t, st, pg.DSN(db), crawler.Options{})
		if d := dataset(t, st, db+".public.m"); d.RowCount == nil || *d.RowCount != 1000 {
			t.Fatalf("RowCount = %v, want 1000", d.RowCount)
		}
	})
}

func TestViewOverAPartitionReadsItsTable(t *testing.T) {
	ctx := context.Background()
	db := "rg_viewpart"
	pg.Database(t, db, `CREATE TABLE m (id int, k int) PARTITION BY RANGE (k);
		CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (100);
		CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (100) TO (200);
		CREATE VIEW v AS SELECT id FROM m1 UNION ALL SELECT id FROM m2;`)
	st := openStore(t)
	crawl(t, st, pg.DSN(db), crawler.Options{})
	v := dataset(t, st, db+".public.v")
	m := dataset(t, st, db+".public.m")
	edges, _ := st.Edges(ctx, v.ID, true)
	var tables, columns int
	for _, e := range edges {
		if e.From != m.ID {
			t.Fatalf("edge from %s, not from the partitioned table", datasetName(t, st, e.From))
		}
		if e.ToColumn == "" {
			tables++
		} else if e.FromColumn == "id" && e.ToColumn == "id" {
			columns++
		}
	}
	if tables != 1 || columns != 1 {
		t.Fatalf("edges: %d table-level (want 1), %d id<-id (want 1): %+v", tables, columns, edges)
	}
}

// failing fails the upserts of one database's datasets.
type failing struct {
	*store.Store
	prefix string
}

func (f failing) UpsertDatasets(ctx context.Context, in []quarry.Dataset) (store.UpsertResult, error) {
	for _, d := range in {
		if strings.HasPrefix(d.Name, f.prefix) {
			return store.UpsertResult{}, errors.New("disk full")
		}
	}
	return f.Store.UpsertDatasets(ctx, in)
}

func TestAllDatabasesRemoval(t *testing.T) {
	ctx := context.Background()
	all := crawler.Options{AllDatabases: true, Include: []string{"public"}}
	t.Run("FailedCrawlRemovesNothing", func(t *testing.T) {
		db := "aaa_rg" // crawled before chinook, whose write fails
		pg.Database(t, db, `CREATE TABLE t1 (x int); CREATE TABLE t2 (x int);`)
		st := openStore(t)
		crawl(t, st, pg.DSN("postgres"), all)
		if err := pg.Exec(ctx, db, `DROP TABLE t2`); err != nil {
			t.Fatal(err)
		}
		if _, err := crawler.CrawlPostgres(ctx, failing{st, "chinook."}, pg.DSN("postgres"), all); err == nil {
			t.Fatal("the crawl did not fail")
		}
		if dataset(t, st, db+".public.t2").Removed() {
			t.Fatal("a failed crawl marked a dataset removed")
		}
	})
	t.Run("DroppedDatabase", func(t *testing.T) {
		db := "zzz_rg_gone"
		pg.Database(t, db, `CREATE TABLE t (x int)`)
		st := openStore(t)
		crawl(t, st, pg.DSN("postgres"), all)
		if err := pg.Exec(ctx, "postgres", `DROP DATABASE zzz_rg_gone`); err != nil {
			t.Fatal(err)
		}
		crawl(t, st, pg.DSN("postgres"), all)
		if !dataset(t, st, db+".public.t").Removed() {
			t.Fatal("the tables of a dropped database were not removed")
		}
		for _, d := range []string{"pagila.public.film", "chinook.public.artist"} {
			if dataset(t, st, d).Removed() {
				t.Fatalf("%s removed", d)
			}
		}
	})
}

// A database named like another plus a dot ("rg" and "rg.eu") is its own.
func TestDottedDatabaseNames(t *testing.T) {
	for _, db := range []string{"rg", "rg.eu"} {
		pg.Database(t, db, `CREATE TABLE t (x int)`)
	}
	st := openStore(t)
	crawl(t, st, strings.Replace(pg.DSN("x"), "/x?", "/rg.eu?", 1), crawler.Options{})
	res := crawl(t, st, pg.DSN("rg"), crawler.Options{})
	if res.Removed != 0 || dataset(t, st, "rg.eu.public.t").Removed() {
		t.Fatalf("crawling rg removed rg.eu.public.t: %+v", res.CrawlCounts)
	}
}

// A crawl through an alias of a registered source's namespace (say, by IP)
// lands on the source's namespace, lineage and removal included.
func TestCrawlUnderAnAlias(t *testing.T) {
	ctx := context.Background()
	db := "rg_alias"
	pg.Database(t, db, `CREATE TABLE a (x int); CREATE TABLE b (x int); CREATE VIEW v AS SELECT x FROM a;`)
	st := openStore(t)
	canonical := "postgres://db.internal:5432"
	if _, err := st.PutSource(ctx, quarry.Source{Name: "prod", Kind: quarry.SourcePostgres, DSN: "postgres://db.internal/x",
		Namespace: canonical, Aliases: []string{ns()}}); err != nil {
		t.Fatal(err)
	}
	if res := crawl(t, st, pg.DSN(db), crawler.Options{}); res.Namespace != canonical {
		t.Fatalf("namespace %s", res.Namespace)
	}
	v, err := st.DatasetByName(ctx, canonical, db+".public.v")
	if err != nil {
		t.Fatal(err)
	}
	if edges, _ := st.Edges(ctx, v.ID, true); len(edges) == 0 {
		t.Error("the view has no catalog lineage")
	}
	if err := pg.Exec(ctx, db, `DROP TABLE b`); err != nil {
		t.Fatal(err)
	}
	crawl(t, st, pg.DSN(db), crawler.Options{})
	if b, _ := st.DatasetByName(ctx, canonical, db+".public.b"); b == nil || !b.Removed() {
		t.Errorf("the dropped table is not removed: %+v", b)
	}
}

// Objects the catalog cannot store are skipped and counted; they never fail
// the crawl of the rest. Names are exact: "t" and "t " are two tables.
func TestOddObjects(t *testing.T) {
	db := "rg_odd"
	pg.Database(t, db, `CREATE TABLE t (x int); CREATE TABLE "t " (x int); CREATE TABLE "bad`+"\n"+`name" (x int);
		DO $$ BEGIN EXECUTE format('COMMENT ON TABLE t IS %L', repeat('é', 40000)); END $$;`)
	st := openStore(t)
	res := crawl(t, st, pg.DSN(db), crawler.Options{})
	if res.Datasets != 2 || res.Skipped != 1 {
		t.Fatalf("crawl: %+v", res.CrawlCounts)
	}
	d := dataset(t, st, db+".public.t")
	if desc := d.Description(); len(desc) > quarry.MaxDescriptionLen || !strings.HasSuffix(desc, "é…") {
		t.Fatalf("a long comment is not clipped at a character: %d bytes, ends %q", len(desc), desc[len(desc)-8:])
	}
	spaced := dataset(t, st, db+".public.t ")
	if spaced.ID == d.ID {
		t.Fatal(`"t" and "t " are one dataset`)
	}
	again := crawl(t, st, pg.DSN(db), crawler.Options{})
	if again.Removed != 0 || again.Restored != 0 || again.Changed != 0 || spaced.Removed() {
		t.Fatalf("second crawl: %+v", again.CrawlCounts)
	}
}
